import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "The outbound queue: what waits for delivery to other domains, and why.",
        discussion: """
            Every message for another domain waits here until the remote server accepts it. Failures
            that may pass (4xx replies, unreachable hosts, DNS trouble) are retried with growing
            delays for up to 5 days; permanent ones (5xx) bounce to the sender at once.
            Use `mailroom trace` for a message's whole story, including delivered ones.
            """,
        subcommands: [List.self, Show.self, Summary.self, Retry.self, Hold.self, Release.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queued recipients, oldest first.")
        @Option(help: "Only mail to this domain.") var domain: String?
        @Option(help: "Only mail from this sender.") var sender: String?
        @Option(help: "Only mail to this recipient.") var recipient: String?
        @Option(help: "Only entries in this state: queued, active, deferred or held.") var status: String?
        @Option(help: "At most this many rows.") var limit = 1000
        @OptionGroup var client: ClientOptions

        func run() async throws {
            var q = ["limit=\(limit)"]
            if let domain { q.append("domain=\(seg(domain))") }
            if let sender { q.append("sender=\(seg(sender))") }
            if let recipient { q.append("recipient=\(seg(recipient))") }
            if let status { q.append("status=\(seg(status))") }
            let entries = try await client.call(API.getQueue, query: q.joined(separator: "&"))
            guard !client.json else { return }
            if entries.isEmpty { print("the outbound queue is empty\(q.count > 1 ? " for this selection" : "")"); return }
            printTable(
                ["QUEUE ID", "STATUS", "FROM", "TO", "SIZE", "QUEUED", "TRIES", "NEXT TRY", "LAST REPLY"],
                entries.map {
                    [
                        $0.queueId, $0.status, $0.sender.isEmpty ? "<>" : shown($0.sender), shown($0.recipient), quotaText(Int64($0.size)),
                        dateText($0.createdAt), String($0.attempts), $0.status == "held" ? "held" : dateText($0.nextAttempt),
                        String(($0.lastReply ?? "-").prefix(60)),
                    ]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One queued message: each recipient and each attempt (time, host, IP, TLS, reply).")
        @Argument(help: "The queue id, as `queue list` shows it.") var id: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let entries = try await client.call(API.getQueued, [String(id)])
            guard !client.json, let first = entries.first else { return }
            print("queue id:   \(first.queueId)")
            print("message-id: \(first.messageId ?? "-")")
            print("from:       \(first.sender.isEmpty ? "<> (a bounce)" : shown(first.sender))")
            print("size:       \(quotaText(Int64(first.size)))")
            print("queued:     \(dateText(first.createdAt))")
            for e in entries {
                print("")
                print("to \(shown(e.recipient)): \(e.status), \(counted(e.attempts, "attempt"))"
                    + (e.status == "held" ? " (held: `mailroom queue release \(e.queueId)` to send it)" : ", next try \(dateText(e.nextAttempt))"))
                for a in e.history ?? [] {
                    let host = [a.mx, a.ip.map { "[\($0)]" }].compactMap { $0 }.joined()
                    print("  \(dateText(a.at))  \(host.isEmpty ? "-" : host)  \(a.tls.map { "TLS \($0)" } ?? "no TLS")")
                    print("    \(a.reply)")
                }
            }
        }
    }

    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queued recipients by destination domain and age (like qshape).")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let s = try await client.call(API.getQueueSummary)
            guard !client.json else { return }
            if s.rows.isEmpty { print("the outbound queue is empty"); return }
            let total = s.rows.reduce(into: Array(repeating: 0, count: s.buckets.count)) { acc, r in for i in r.counts.indices { acc[i] += r.counts[i] } }
            printTable(
                ["DOMAIN", "TOTAL"] + s.buckets.map { $0 == "more" ? "older" : "<\($0)" },
                [["TOTAL", String(total.reduce(0, +))] + total.map(String.init)] + s.rows.map { [$0.domain, String($0.total)] + $0.counts.map(String.init) })
            print("")
            print("by status: " + s.byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Try again now: one message, a domain's messages, or all.")
        @Argument(help: "A queue id.") var id: String?
        @Option(help: "Every message to this domain.") var domain: String?
        @Flag(help: "Every message on the queue.") var all = false
        @OptionGroup var client: ClientOptions

        func validate() throws {
            guard [id != nil, domain != nil, all].filter({ $0 }).count == 1 else {
                throw ValidationError("say which messages: a queue id, --domain D, or --all")
            }
        }

        func run() async throws {
            let r: QueueActionResult
            if let id {
                r = try await client.call(API.postQueuedRetry, [id])
            } else {
                r = try await client.call(API.postQueueRetry, query: domain.map { "domain=\(seg($0))" } ?? "all=true")
            }
            if !client.json { print("retrying \(counted(r.recipients, "recipient")) now") }
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Keep a message from being sent until it is released.")
        @Argument var id: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.postQueuedHold, [String(id)])
            if !client.json { print("held \(counted(r.recipients, "recipient")) of \(id); `mailroom queue release \(id)` sends it") }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a held message (tried at once).")
        @Argument var id: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.postQueuedRelease, [String(id)])
            if !client.json { print("released \(counted(r.recipients, "recipient")) of \(id)") }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a message from the queue; --bounce tells the sender.")
        @Argument var id: String
        @Flag(help: "Send the sender a bounce (DSN) saying the message was not delivered.") var bounce = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.deleteQueued, [id], query: bounce ? "bounce=true" : nil)
            if !client.json {
                print("deleted \(counted(r.recipients, "recipient")) of \(id)" + (r.bounced > 0 ? "; the sender was sent a bounce" : ""))
            }
        }
    }
}

struct DKIMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "DKIM signing keys: mail from a domain with a key is signed before it leaves.",
        subcommands: [Generate.self, List.self, Rotate.self])

    static func printRecord(_ k: DKIMKeyView) {
        print("publish this TXT record in DNS, then mail from \(k.domain) is signed with selector \(k.selector):")
        print("")
        print("  \(k.dnsName).  IN TXT  \(Self.quoted(k.dnsRecord))")
        print("")
        print("check it with: dig +short TXT \(k.dnsName)")
    }

    /// A TXT value as DNS zone files want it: strings of at most 255 characters.
    static func quoted(_ value: String) -> String {
        var parts: [String] = []
        var rest = Substring(value)
        while !rest.isEmpty {
            parts.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        return parts.count > 1 ? "( " + parts.joined(separator: " ") + " )" : (parts.first ?? "\"\"")
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a signing key for a local domain and print the DNS record to publish.")
        @Argument var domain: String
        @Option(help: "rsa-2048 (default, understood everywhere) or ed25519.") var algorithm: String?
        @Option(help: "The selector (default: mrYYYYMM).") var selector: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let k = try await client.call(API.postDkim, body: DKIMGenerate(domain: domain, algorithm: algorithm, selector: selector))
            if !client.json { printRecord(k) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys and their DNS records.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let keys = try await client.call(API.getDkim)
            guard !client.json else { return }
            if keys.isEmpty { print("no DKIM keys; create one with `mailroom dkim generate DOMAIN`"); return }
            printTable(
                ["DOMAIN", "SELECTOR", "ALGORITHM", "ACTIVE", "CREATED", "DNS NAME"],
                keys.map { [$0.domain, $0.selector, $0.algorithm, $0.active ? "yes" : "no", dateText($0.createdAt), $0.dnsName] })
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new key with a new selector and sign with it from now on.",
            discussion: "Publish the new record first (signing switches at once). Keep the old record for a week, so mail signed before still verifies.")
        @Argument var domain: String
        @Option(help: "rsa-2048 or ed25519 (default: rsa-2048).") var algorithm: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let k = try await client.call(API.postDkimRotate, [domain], query: algorithm.map { "algorithm=\(seg($0))" })
            if !client.json { printRecord(k) }
        }
    }
}
