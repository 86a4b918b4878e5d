import AdminModels
import Directory
import Foundation
import Hummingbird
import Webhooks

/// `/webhooks` (server admins): the hooks, adding one (its secret shown once), removing one,
/// and each hook's delivery log.
func addWebhookPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    guard let webhooks = c.webhooks else { return }
    let list: PageBuilder = { r in
        let hooks = try webhooks.list(actor: r.actor)
        return Page(
            "Webhooks",
            [
                Section(
                    text: [
                        "Each event is posted as JSON, signed in the X-Mailroom-Signature header (see docs/admin-api.md), and retried with backoff until the receiver answers 2xx."
                    ],
                    table: Table(
                        "Webhooks", columns: ["URL", "Events", "Added", ""],
                        rows: hooks.map { h in
                            .init([
                                Cell(h.url, href: "/webhooks/\(h.id)"), Cell(h.events.joined(separator: ", ")), Cell(when(h.createdAt)),
                                Cell("", forms: [Form("/webhooks/\(h.id)/remove", submit: "Remove", label: "Remove the webhook to \(h.url)", danger: true, inline: true)]),
                            ])
                        }, empty: "No webhooks.")),
                Section(
                    "Add a webhook",
                    forms: [
                        Form(
                            "/webhooks",
                            [.text("url", "URL", type: "url", required: true)] + WebhookView.eventNames.map { .checkbox("event-" + $0, $0, checked: false) },
                            submit: "Add webhook")
                    ]),
            ])
    }
    c.page(group, "webhooks", .admin, list)
    c.action(group, "webhooks", .admin, fallback: list) { r in
        let events = WebhookView.eventNames.filter { r.form.bool("event-" + $0) }
        let created = try webhooks.add(url: r.form.text("url") ?? "", events: events, actor: r.actor)
        var page = try list(r)
        var s = Section("Secret of the new webhook", text: ["The receiver checks signatures with this secret. It is shown only now."])
        s.secrets = [created.secret]
        page.sections.insert(s, at: 0)
        return page
    }
    c.action(group, "webhooks/:id/remove", .admin, fallback: list) { r in
        guard let id = Int64(try r.param("id")) else { throw AdminError.notFound("webhook_not_found", "no such webhook") }
        try webhooks.remove(id, actor: r.actor)
        var page = try list(r)
        page.notice = "Webhook removed."
        return page
    }
    c.page(group, "webhooks/:id", .admin) { r in
        guard let id = Int64(try r.param("id")), let hook = try webhooks.list(actor: r.actor).first(where: { $0.id == id }) else {
            throw AdminError.notFound("webhook_not_found", "no such webhook")
        }
        let log = try webhooks.log(id, limit: 200, actor: r.actor)
        return Page(
            "Webhook \(hook.url)",
            [
                Section(facts: [Fact("Events", hook.events.joined(separator: ", ")), Fact("Added", when(hook.createdAt))]),
                Section(
                    "Deliveries",
                    table: Table(
                        "Deliveries, newest first", columns: ["Event", "Status", "Attempts", "Last answer", "Next attempt", "Payload"],
                        rows: log.map { d in
                            .init([
                                Cell(d.event), Cell(d.status), Cell(String(d.attempts)),
                                Cell(d.lastStatus.map(String.init) ?? d.lastError ?? ""), Cell(when(d.nextAttempt)), Cell(d.payload),
                            ])
                        }, empty: "Nothing sent yet.")),
            ])
    }
}
