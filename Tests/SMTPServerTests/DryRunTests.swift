import AdminModels
import DNS
import Delivery
import Directory
import Foundation
import Logging
import LoginKit
import MailCore
import Outbound
import Storage
import Testing

@testable import SMTP
@testable import SMTPServer

/// `mailroom trace --dry-run` through the real decisions (policy, inbound checks, delivery's
/// resolution and rules, the queue's routes): what it says, and that it changes nothing.
@Suite struct DryRunTests {
    let admin = AdminActor(name: "t", role: .serverAdmin)

    struct Setup {
        let harness: PolicyHarness
        var env: SMTPEnvironment
        let runner: QueueRunner

        init() throws {
            harness = try PolicyHarness()
            let admin = AdminActor(name: "t", role: .serverAdmin)
            let dir = harness.dir
            // An alias to a list with a local member and one at a partner; a moderated list.
            _ = try dir.createList(
                "proj@example.org", members: ["alice@example.org", "pat@partner.test"],
                actor: admin)
            _ = try dir.addAlias(
                "projects@example.org", targets: ["proj@example.org"], actor: admin)
            _ = try dir.createList("mod@example.org", members: ["carol@example.org"], actor: admin)
            _ = try dir.updateList(
                "mod@example.org", postingPolicy: "moderated", moderators: ["bob@example.org"], actor: admin
            )
            env = SMTPEnvironment(
                hostname: "mx.example.org", directory: dir, delivery: harness.delivery, tls: nil, limits: SMTPLimits(),
                plaintextAuthOnLoopback: false, authLimiter: AuthLimiter(maxFailures: 10, ban: 1),
                authFailureDelay: .zero,
                logger: Logger(label: "test"))
            env.checkInbound(InboundSettings(), dns: InboundChecksTests.dns)
            var settings = OutboundSettings(hostname: "mx.example.org")
            settings.routes["partner.test"] = NextHop(host: "127.0.0.1", port: 2526)
            // No DNS server answers (port 9): only the configured route is used here.
            runner = QueueRunner(
                store: harness.store, delivery: harness.delivery, settings: settings,
                resolver: DNSResolver(
                    servers: [DNSServerAddress(host: "127.0.0.1", port: 9)], timeout: .milliseconds(100)),
                logger: Logger(label: "test"))
        }

        func dryRun(_ t: DryRunTransaction) async -> [DryRunStep] {
            await env.dryRun(t) { await runner.route(for: $0) }
        }

        func lines(_ steps: [DryRunStep]) -> [String] {
            steps.map { s in
                [s.step, s.recipient, s.detail, s.reply].compactMap { $0 }.joined(separator: " | ")
            }
        }

        /// Nothing stored, queued, held, traced or remembered.
        func expectNothingChanged(_ account: String = "alice@example.org") throws {
            let store = harness.store
            let id = try #require(harness.dir.snapshot.account(try EmailAddress(account))?.id)
            harness.delivery.flushRefusals()
            #expect(try store.inboxMessages(accountID: id).isEmpty)
            #expect(try store.mailbox(accountID: id, name: "Projects") == nil)
            #expect(try store.queueEntries(QueueSelection()).isEmpty)
            #expect(try store.heldMessages().isEmpty)
            #expect(try store.traceEvents(messageID: nil, sender: nil, recipient: nil, since: nil, limit: 10).isEmpty)
            #expect(
                try store.lastVacationReply(
                    accountID: id, handle: "away<default-subject><default-from><NO-MIME>", sender: "boss@partner.test")
                    == nil)
        }
    }

    static let message =
        "From: Boss <boss@partner.test>\r\nTo: projects@example.org\r\nSubject: project plan\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\nMessage-ID: <p1@partner.test>\r\n\r\nThe plan.\r\n"

    @Test func anAliasToAListReachesAnAccountWhoseRulesFileTheMessage() async throws {
        let s = try Setup()
        let script = """
            require ["fileinto", "mailbox", "vacation"];
            vacation "away";
            if header :contains "subject" "project" { fileinto :create "Projects"; }
            """
        _ = try s.harness.delivery.putSieveScript(
            "alice@example.org", name: "rules", script: script, activate: true, actor: admin)
        let steps = await s.dryRun(
            DryRunTransaction(
                sender: "boss@partner.test", recipients: ["projects@example.org"], message: Self.message,
                clientIP: InboundChecksTests.client, helo: "mail.partner.test"))
        let text = s.lines(steps).joined(separator: "\n")
        #expect(
            steps.first?.step == "connect"
                && steps.first?.detail?.contains("[192.0.2.1] helo mail.partner.test") == true, "\(text)")
        #expect(text.contains("rcpt | projects@example.org | accepted (ours)"), "\(text)")
        #expect(text.contains("checked | SPF pass for partner.test"), "\(text)")
        #expect(text.contains("DMARC pass for partner.test"), "\(text)")
        #expect(text.contains("score "), "\(text)")
        #expect(text.contains("expanded | projects@example.org | alias"), "\(text)")
        #expect(
            text.contains(
                "stored | alice@example.org | Projects (filed by the account's rules) via projects@example.org → proj@example.org"
            ),
            "\(text)")
        // The rules' vacation is decided (To names the alias, not alice: no reply) and not remembered.
        #expect(text.contains("filtered | alice@example.org | script \"rules\": vacation reply not sent"), "\(text)")
        #expect(text.contains("queued | pat@partner.test"), "\(text)")
        #expect(
            text.contains("route | pat@partner.test | partner.test by the configured route: 127.0.0.1:2526"), "\(text)")
        #expect(!steps.contains { $0.step == "rejected" }, "\(text)")
        try s.expectNothingChanged()
    }

    @Test func aModeratedListHoldsTheMessageForItsModerator() async throws {
        let s = try Setup()
        let steps = await s.dryRun(DryRunTransaction(sender: "someone@elsewhere.test", recipients: ["mod@example.org"]))
        let text = s.lines(steps).joined(separator: "\n")
        #expect(text.contains("rcpt | mod@example.org | accepted (ours)"), "\(text)")
        #expect(text.contains("held | mod@example.org | held for a moderator of mod@example.org"), "\(text)")
        #expect(!steps.contains { $0.step == "stored" }, "\(text)")
        try s.expectNothingChanged("carol@example.org")
    }

    @Test func aListsPostingPolicyRefusesAtRCPT() async throws {
        let s = try Setup()
        // eng@ takes posts from its members only.
        let steps = await s.dryRun(DryRunTransaction(sender: "boss@partner.test", recipients: ["eng@example.org"]))
        let text = s.lines(steps).joined(separator: "\n")
        #expect(
            text.contains(
                "rejected | eng@example.org | RCPT TO refused | 550 5.7.1 only members may post to eng@example.org"),
            "\(text)")
        #expect(steps.last?.detail == "no recipient was accepted: the message would not be sent", "\(text)")
    }

    @Test func anUnknownRecipientIsRefusedAndTheOthersStillGo() async throws {
        let s = try Setup()
        let steps = await s.dryRun(
            DryRunTransaction(sender: "someone@elsewhere.test", recipients: ["nobody@example.org", "bob@example.org"]))
        let text = s.lines(steps).joined(separator: "\n")
        #expect(
            text.contains(
                "rejected | nobody@example.org | RCPT TO refused | 550 5.1.1 no such user here: nobody@example.org"),
            "\(text)")
        #expect(text.contains("stored | bob@example.org | INBOX"), "\(text)")
        try s.expectNothingChanged("bob@example.org")
    }

    @Test func aRemoteRecipientOfASubmissionGetsItsRoute() async throws {
        let s = try Setup()
        let steps = await s.dryRun(
            DryRunTransaction(
                sender: "alice@example.org", recipients: ["pat@partner.test", "someone@nowhere.test"],
                clientIP: "198.51.100.7",
                authenticatedUser: "alice@example.org"))
        let text = s.lines(steps).joined(separator: "\n")
        #expect(text.contains("rcpt | pat@partner.test | accepted (for another server)"), "\(text)")
        #expect(text.contains("checked | not checked: mail from an authenticated user"), "\(text)")
        #expect(
            text.contains("route | pat@partner.test | partner.test by the configured route: 127.0.0.1:2526"), "\(text)")
        // Without a route, the MX lookup is tried; here no DNS server answers.
        #expect(text.contains("route | someone@nowhere.test | nowhere.test by MX: no host"), "\(text)")
        // The same user may not send as someone else.
        let forged = await s.dryRun(
            DryRunTransaction(
                sender: "bob@example.org", recipients: ["pat@partner.test"], authenticatedUser: "alice@example.org"))
        #expect(s.lines(forged).contains { $0.contains("553 5.7.1 alice@example.org may not send as bob@example.org") })
        try s.expectNothingChanged()
    }

    @Test func aMessageThatFailsDMARCRejectIsRefusedAtTheEndOfData() async throws {
        let s = try Setup()
        let forged =
            "From: <ceo@bank.test>\r\nTo: alice@example.org\r\nSubject: pay\r\nMessage-ID: <f@x>\r\n\r\nPay now.\r\n"
        let steps = await s.dryRun(
            DryRunTransaction(
                sender: "ceo@bank.test", recipients: ["alice@example.org"], message: forged, clientIP: "192.0.2.1"))
        let text = s.lines(steps).joined(separator: "\n")
        #expect(text.contains("checked | SPF fail for bank.test"), "\(text)")
        #expect(
            text.contains(
                "rejected | refused at the end of DATA | 550 5.7.1 bank.test publishes a DMARC policy of reject"),
            "\(text)")
        try s.expectNothingChanged()
    }
}
