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

            With --dry-run, it tells instead what would happen to a message now, decided by the same code as real \
            mail: the SMTP checks (--client, --helo), address resolution and list moderation, SPF, DKIM, DMARC and \
            the spam verdict, each account's rules and folder, and the route of copies for other servers. Nothing \
            is delivered, stored, queued, sent or remembered (rspamd is not asked).
            """)
    @Option(help: "The Message-ID header (with or without <>).") var messageId: String?
    @Option(help: "The envelope sender.") var sender: String?
    @Option(help: "A recipient (as given at RCPT, or a final recipient).") var recipient: String?
    @Option(
        name: .customLong("client"),
        help: "The client's address: what a sending host did, refusals at connection (DNS blocklists) included. With --dry-run: where the message comes from.")
    var clientAddress: String?
    @Option(help: "An account: the messages it sent and received, and its logins (failed ones with the reason).")
    var account: String?
    @Option(help: "Only since a time (ISO 8601) or a duration back (30m, 2h, 7d).") var since: String?
    @Option(help: "At most this many messages.") var limit = 50
    @Flag(help: "Show what would happen to a message now, without delivering it (give --from and --to).") var dryRun = false
    @Option(help: "With --dry-run: the envelope sender (\"\" for a bounce).") var from: String?
    @Option(help: "With --dry-run: a recipient (repeat for several).") var to: [String] = []
    @Option(help: ArgumentHelp("With --dry-run: the message (RFC 5322 text; - for standard input); a minimal one without it.", valueName: "file"))
    var message: String?
    @Option(help: "With --dry-run: the client's EHLO name (the sender's domain without it).") var helo: String?
    @Option(help: "With --dry-run: sent by this authenticated user (submission), not to the MX.") var authUser: String?
    @OptionGroup var client: ClientOptions

    func validate() throws {
        if dryRun {
            if from == nil || to.isEmpty { throw ValidationError("--dry-run needs --from and at least one --to") }
            return
        }
        if from != nil || !to.isEmpty || message != nil || helo != nil || authUser != nil {
            throw ValidationError("--from, --to, --message, --helo and --auth-user go with --dry-run")
        }
        if messageId == nil && sender == nil && recipient == nil && clientAddress == nil && account == nil {
            throw ValidationError("give --message-id, --sender, --recipient, --client or --account")
        }
    }

    func run() async throws {
        if dryRun { return try await runDryRun() }
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

    /// One line per decision, as the trace of real mail reads.
    func runDryRun() async throws {
        let body = TraceDryRun(
            from: from ?? "", to: to, message: try message.map(readText), client: clientAddress, helo: helo, authUser: authUser)
        let r = try await client.call(API.postTraceDryRun, body: body)
        guard !client.json else { return }
        print("dry run — nothing was delivered, stored, queued or sent")
        for s in r.steps {
            var parts = ["  " + s.step.padding(toLength: max(9, s.step.count), withPad: " ", startingAt: 0)]
            if let recipient = s.recipient { parts.append(shown(recipient)) }
            if let d = s.detail { parts.append(s.recipient == nil ? d : "— \(d)") }
            if let reply = s.reply { parts.append("→ \(reply)") }
            print(parts.joined(separator: " "))
        }
        print(r.accepted ? "the message would be accepted (250)" : "the message would be refused")
    }

    func timeText(_ d: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d) + "Z"
    }
}
