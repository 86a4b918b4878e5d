import AdminModels
import Delivery
import Directory
import Foundation
import Hummingbird
import LoginKit
import MIME

// An account's rules (Sieve scripts, and a dry run of them) and junk classifier; the bans;
// imports from Dovecot and Postfix. Each is the same operation the CLI's `sieve`, `rules
// test`, `account junk`, `bans` and `import` commands call.

/// The account page's sections for its Sieve scripts, the rules dry run and its classifier.
func accountRuleSections(_ c: Console, _ r: ConsoleRequest, address: String, path: String) throws -> [Section] {
    guard let delivery = c.delivery else { return [] }
    let scripts = try delivery.sieveScripts(address, actor: r.actor)
    let junk = junkView(try c.dir.junkSummary(address, actor: r.actor), delivery)
    return [
        Section(
            "Sieve scripts",
            text: ["The vacation reply and forwarding above are scripts too. At most one script is active."],
            table: Table(
                "Scripts", columns: ["Name", "Active", "Changed", ""],
                rows: scripts.map { s in
                    .init([
                        Cell(s.name, href: path + "/sieve/" + pathPart(s.name)), Cell(s.active ? "yes" : "no"), Cell(when(s.updatedAt)),
                        Cell(
                            "",
                            forms: (s.active ? [] : [Form(path + "/sieve/" + pathPart(s.name) + "/activate", submit: "Activate", label: "Activate \(s.name)", inline: true)])
                                + [Form(path + "/sieve/" + pathPart(s.name) + "/delete", submit: "Delete", label: "Delete \(s.name)", danger: true, inline: true)]),
                    ])
                }, empty: "No scripts: mail goes to INBOX (or Junk)."),
            forms: [
                Form(
                    path + "/sieve",
                    [.text("name", "Script name", required: true), .textarea("script", "Script", hint: "Sieve (RFC 5228)"), .checkbox("activate", "Make it active")],
                    submit: "Save script")
            ]),
        Section(
            "Test the rules",
            text: ["What the active script would do with a message, without delivering it."],
            forms: [
                Form(
                    path + "/rules-test",
                    [.text("from", "Envelope sender"), .textarea("message", "Message", value: "From: someone@example.net\nSubject: test\n\nHello\n")],
                    submit: "Test")
            ]),
        Section(
            "Junk classifier",
            facts: [
                Fact("Learned", "\(junk.spamMessages) spam and \(junk.hamMessages) ham messages, \(junk.tokens) words"),
                Fact(
                    "Judges mail",
                    !junk.learning
                        ? "no: junk learning is off" : junk.active ? "yes" : "not yet: needs \(junk.minimumSpam) spam and \(junk.minimumHam) ham messages"),
            ],
            forms: [Form(path + "/junk-reset", submit: "Forget what it learned", danger: true)]),
    ] + (r.actor.isServerAdmin
        ? [
            Section(
                "Mail files",
                text: ["Import an mbox file or a Maildir into this account, or export its mail, at a path on the server's machine."],
                forms: [
                    Form(path + "/mailbox-import", [.text("path", "Path to import", required: true), .text("folder", "Into folder", hint: "empty: as the file names it")], submit: "Import"),
                    Form(
                        path + "/mailbox-export",
                        [.text("path", "Path to write", required: true), .select("format", "Format", [("mbox", "mbox"), ("maildir", "Maildir")], selected: "mbox"), .text("folder", "Only the folder")],
                        submit: "Export"),
                ])
        ] : [])
}

func addMorePages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let detail: PageBuilder = { r in try accountDetail(c, r, address: try r.param("address")) }
    @Sendable func account(_ r: ConsoleRequest) throws -> (String, String) {
        let address = try r.param("address")
        return (address, "/accounts/" + pathPart(address))
    }
    c.action(group, "accounts/:address/sieve", .admin, fallback: detail) { r in
        guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "rules are not available") }
        let (address, _) = try account(r)
        let name = r.form.text("name") ?? ""
        try delivery.putSieveScript(address, name: name, script: r.form["script"] ?? "", activate: r.form.bool("activate"), actor: r.actor)
        var page = try accountDetail(c, r, address: address)
        page.notice = "Script \(name) saved."
        return page
    }
    c.page(group, "accounts/:address/sieve/:name", .admin) { r in
        guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "rules are not available") }
        let (address, path) = try account(r)
        let s = try delivery.sieveScript(address, name: try r.param("name"), actor: r.actor)
        return Page(
            "Script \(s.name) of \(address)",
            [
                Section(
                    facts: [Fact("Active", s.active ? "yes" : "no"), Fact("Changed", when(s.updatedAt))],
                    forms: [
                        Form(
                            path + "/sieve", [.hidden("name", s.name), .textarea("script", "Script", value: s.script ?? ""), .checkbox("activate", "Make it active", checked: s.active)],
                            submit: "Save script")
                    ], links: [Link(label: "Back to \(address)", href: path)])
            ])
    }
    for action in ["activate", "delete"] {
        c.action(group, RouterPath(stringLiteral: "accounts/:address/sieve/:name/\(action)"), .admin, fallback: detail) { r in
            guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "rules are not available") }
            let (address, _) = try account(r)
            let name = try r.param("name")
            if action == "activate" {
                _ = try delivery.activateSieveScript(address, name: name, actor: r.actor)
            } else {
                _ = try delivery.deleteSieveScript(address, name: name, actor: r.actor)
            }
            var page = try accountDetail(c, r, address: address)
            page.notice = action == "activate" ? "\(name) is the active script." : "\(name) deleted."
            return page
        }
    }
    c.action(group, "accounts/:address/rules-test", .admin, fallback: detail) { r in
        guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "rules are not available") }
        let (address, _) = try account(r)
        let message = (r.form["message"] ?? "").replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        let result = try delivery.testRules(address, message: message, from: r.form.text("from"), actor: r.actor)
        var page = try accountDetail(c, r, address: address)
        page.sections.insert(
            Section(
                "Rules test",
                text: [result.script.map { "Script \($0):" } ?? "No active script."] + result.actions.map { "Action: \($0)" } + result.outcome.map { "Outcome: \($0)" }),
            at: 0)
        return page
    }
    c.action(group, "accounts/:address/junk-reset", .admin, fallback: detail) { r in
        let (address, _) = try account(r)
        _ = try c.dir.resetJunk(address, actor: r.actor)
        var page = try accountDetail(c, r, address: address)
        page.notice = "The junk classifier of \(address) starts again from nothing."
        return page
    }

    for kind in ["import", "export"] {
        c.action(group, RouterPath(stringLiteral: "accounts/:address/mailbox-\(kind)"), .admin, fallback: detail) { r in
            guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "mail files are not available") }
            let (address, _) = try account(r)
            let path = r.form.text("path") ?? ""
            let v =
                kind == "import"
                ? try delivery.importMailbox(address, path: path, folder: r.form.text("folder"), mboxVariant: .mboxrd, maxMessageSize: c.maxMessageSize, actor: r.actor)
                : try delivery.exportMailbox(address, path: path, format: r.form.text("format") ?? "mbox", folder: r.form.text("folder"), actor: r.actor)
            var page = try accountDetail(c, r, address: address)
            page.sections.insert(
                Section(
                    kind == "import" ? "Imported from \(path)" : "Exported to \(path)",
                    table: Table(
                        "Folders", columns: ["Folder", "Messages"],
                        rows: v.folders.map { .init([Cell($0.name), Cell(String($0.messages))]) } + v.refused.map { .init([Cell($0.folder), Cell("refused \($0.item): \($0.reason)")]) })),
                at: 0)
            return page
        }
    }

    // Bans (server admins).
    if let bans = c.bans {
        let list: PageBuilder = { r in
            try c.dir.requireServerAdmin(r.actor, "see the bans")
            let all = bans.bans()
            return Page(
                "Bans",
                [
                    Section(
                        text: ["Client addresses banned after failed logins (SMTP, IMAP, ManageSieve and this console share them). A restart lifts them all."],
                        table: Table(
                            "Bans in force", columns: ["Address", "Until", "Failures", ""],
                            rows: all.map { b in
                                .init([
                                    Cell(b.ip), Cell(when(b.until)), Cell(String(b.failures)),
                                    Cell("", forms: [Form("/bans/lift", [.hidden("ip", b.ip)], submit: "Lift", label: "Lift the ban on \(b.ip)", inline: true)]),
                                ])
                            }, empty: "No address is banned."))
                ])
        }
        c.page(group, "bans", .admin, list)
        c.action(group, "bans/lift", .admin, fallback: list) { r in
            let ip = r.form.text("ip")
            _ = try liftBans(ip, c.dir, bans, r.actor)
            var page = try list(r)
            page.notice = "Lifted the ban on \(ip ?? "every address")."
            return page
        }
    }

    // Imports from Dovecot and Postfix (the domain admins' own domains).
    let imports: PageBuilder = { _ in
        Page(
            "Import",
            [
                Section(
                    "Accounts from a Dovecot passwd-file",
                    text: ["Paste the file: each user:{SCHEME}hash line becomes an account that logs in with its old password. Try it first with “Only show”."],
                    forms: [
                        Form(
                            "/import/dovecot-passwd",
                            [.textarea("text", "passwd-file"), .text("domain", "Domain for bare user names"), .checkbox("dry_run", "Only show what it would do", checked: true)],
                            submit: "Import accounts")
                    ]),
                Section(
                    "Aliases from a Postfix virtual table",
                    forms: [
                        Form(
                            "/import/postfix-virtual",
                            [.textarea("text", "virtual table"), .checkbox("mailbox_maps", "It is a virtual_mailbox_maps file (accounts)"), .checkbox("dry_run", "Only show what it would do", checked: true)],
                            submit: "Import")
                    ]),
            ])
    }
    c.page(group, "import", .admin, imports)
    for kind in ["dovecot-passwd", "postfix-virtual"] {
        c.action(group, RouterPath(stringLiteral: "import/\(kind)"), .admin, fallback: imports) { r in
            let text = (r.form["text"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
            let dry = r.form.bool("dry_run")
            let report =
                kind == "dovecot-passwd"
                ? try c.dir.importDovecotPasswd(text, domain: r.form.text("domain"), dryRun: dry, actor: r.actor)
                : try c.dir.importPostfixVirtual(text, mailboxMaps: r.form.bool("mailbox_maps"), dryRun: dry, actor: r.actor)
            var page = try imports(r)
            func rows(_ items: [MigrationReport.Item], _ what: String) -> [Table.Row] {
                items.map { .init([Cell(what), Cell(String($0.line)), Cell($0.address), Cell($0.detail)]) }
            }
            page.sections.insert(
                Section(
                    report.applied ? "Imported" : "What the import would do (nothing changed)",
                    table: Table(
                        "Import report", columns: ["", "Line", "Address", "Detail"],
                        rows: rows(report.conflicts, "conflict") + rows(report.created, "create") + rows(report.changed, "change") + rows(report.unchanged, "unchanged"))),
                at: 0)
            if !report.conflicts.isEmpty {
                page.error = "Nothing was imported: \(report.conflicts.count) line(s) conflict with what exists or may not be changed by you."
                page.refused = true
            }
            return page
        }
    }
}
