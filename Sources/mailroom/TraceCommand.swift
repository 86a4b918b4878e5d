import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Where did this message go? The story of each matching message, in time order.",
        discussion: """
            Every message Mailroom accepts or refuses leaves events: received, expanded (aliases and lists), \
            stored (in which mailbox), queued (for which remote recipient), held (for a moderator) and rejected \
            (with the reply given). Give at least one filter.
            """)
    @Option(help: "The Message-ID header (with or without <>).") var messageId: String?
    @Option(help: "The envelope sender.") var sender: String?
    @Option(help: "A recipient (as given at RCPT, or a final recipient).") var recipient: String?
    @Option(name: .customLong("client"), help: "The client's address: what a sending host did, refusals at connection (DNS blocklists) included.")
    var clientAddress: String?
    @Option(help: "An account: the messages it sent and received, and its logins (failed ones with the reason).")
    var account: String?
    @Option(help: "Only since a time (ISO 8601) or a duration back (30m, 2h, 7d).") var since: String?
    @Option(help: "At most this many messages.") var limit = 50
    @OptionGroup var client: ClientOptions

    func validate() throws {
        if messageId == nil && sender == nil && recipient == nil && clientAddress == nil && account == nil {
            throw ValidationError("give --message-id, --sender, --recipient, --client or --account")
        }
    }

    func run() async throws {
        var q = ["limit=\(limit)"]
        if let messageId { q.append("message_id=\(seg(messageId))") }
        if let sender { q.append("sender=\(seg(sender))") }
        if let recipient { q.append("recipient=\(seg(recipient))") }
        if let clientAddress { q.append("client=\(seg(clientAddress))") }
        if let account { q.append("account=\(seg(account))") }
        if let since { q.append("since=\(seg(since))") }
        let stories = try await client.call(API.getTrace, query: q.joined(separator: "&"))
        guard !client.json else { return }
        if stories.isEmpty {
            print("no messages match — check the address, or widen --since")
            return
        }
        for (i, s) in stories.enumerated() {
            if i > 0 { print("") }
            print(
                s.queueId == "-"
                    ? "refused at RCPT (no message id)"
                    : s.queueId == "logins" ? "logins" : "message \(s.queueId)" + (s.messageId.map { "  <\($0)>" } ?? ""))
            for e in s.events {
                var parts = ["  \(timeText(e.at))  \(e.event.padding(toLength: max(9, e.event.count), withPad: " ", startingAt: 0))"]
                switch e.event {
                case "received":
                    parts.append("from <\(e.sender ?? "")>" + (e.clientIp.map { " [\($0)]" } ?? "") + (e.helo.map { " helo \($0)" } ?? "")
                        + (e.tls.map { ", \($0)" } ?? "") + (e.authUser.map { ", authenticated as \($0)" } ?? ""))
                case "login", "login failed":
                    parts.append(shown(e.recipient ?? "") + (e.clientIp.map { " from \($0)" } ?? ""))
                default:
                    if let r = e.recipient { parts.append(shown(r)) }
                }
                if let d = e.detail { parts.append("— \(d)") }
                if let r = e.reply { parts.append("→ \(r)") }
                print(parts.joined(separator: " "))
            }
        }
    }

    func timeText(_ d: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d) + "Z"
    }
}
