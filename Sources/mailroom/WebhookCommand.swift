import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Post events (delivered, bounced, refused, failed logins, account changes...) to a URL.",
        discussion: """
            Each event is one JSON object POSTed to the URL, signed in X-Mailroom-Signature with the \
            hook's secret (shown once by `webhook add`), and retried with backoff until the receiver \
            answers 2xx; `webhook log` shows every delivery. Events: \(WebhookView.eventNames.joined(separator: ", ")). \
            Server admins only. See docs/admin-api.md.
            """,
        subcommands: [Add.self, List.self, Remove.self, Log.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a webhook; prints its secret once.")
        @Argument(help: "http:// or https:// URL the events are posted to.") var url: String
        @Option(help: "Events, separated by commas (\(WebhookView.eventNames.joined(separator: ",")))") var events: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.postWebhooks, body: WebhookCreate(url: url, events: events.split(separator: ",").map(String.init)))
            guard !client.json else { return }
            print("added webhook \(r.hook.id) to \(r.hook.url) for \(r.hook.events.joined(separator: ", "))")
            print("secret: \(r.secret)   (shown only now; the receiver checks signatures with it)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The webhooks.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let hooks = try await client.call(API.getWebhooks)
            guard !client.json else { return }
            guard !hooks.isEmpty else { return print("No webhooks.") }
            printTable(["ID", "URL", "EVENTS", "ADDED"], hooks.map { [String($0.id), $0.url, $0.events.joined(separator: ","), dateText($0.createdAt)] })
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a webhook and its delivery log.")
        @Argument var id: Int64
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.deleteWebhook, [String(id)])
            if !client.json { print("removed webhook \(id)") }
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A webhook's deliveries, newest first.")
        @Argument var id: Int64
        @Option(help: "How many.") var limit = 50
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let log = try await client.call(API.getWebhookLog, [String(id)], query: "limit=\(limit)")
            guard !client.json else { return }
            guard !log.isEmpty else { return print("Nothing sent yet.") }
            printTable(
                ["ID", "EVENT", "STATUS", "ATTEMPTS", "LAST ANSWER", "NEXT ATTEMPT"],
                log.map { d in
                    [
                        String(d.id), d.event, d.status, String(d.attempts), d.lastStatus.map(String.init) ?? d.lastError ?? "",
                        d.nextAttempt.map(dateText) ?? "",
                    ]
                })
        }
    }
}
