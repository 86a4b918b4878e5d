import AdminModels
import Delivery
import Directory
import Filtering
import Foundation
import MailCore
import SMTP
import Storage
import Testing

@testable import SMTPServer

/// A recipient's trained junk classifier adds its rule to the built-in score on the MX.
@Suite struct JunkLearningTests {
    static let spamWords = [
        "viagra", "pills", "winner", "lottery", "casino", "bitcoin", "cheap", "offer", "prize", "discount",
    ]
    static let hamWords = [
        "meeting", "agenda", "report", "project", "lunch", "review", "budget", "schedule", "draft", "minutes",
    ]

    static func message(_ words: [String], subject: String) -> String {
        "From: Ann <ann@relaxed.test>\r\nTo: alice@example.org\r\nSubject: \(subject)\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n"
            + "Message-ID: <\(UUID())@relaxed.test>\r\n\r\n\(words.joined(separator: " "))\r\n"
    }

    /// Teaches alice 12 spam and 12 ham messages through the store.
    static func train(_ s: InboundChecksTests.Setup) throws {
        let alice = try s.account("alice@example.org")
        for i in 0..<12 {
            let spam = Self.message((0..<5).map { spamWords[(i + $0) % 10] }, subject: "great \(spamWords[i % 10])")
            let ham = Self.message((0..<5).map { hamWords[(i + $0) % 10] }, subject: "about the \(hamWords[i % 10])")
            try s.harness.store.trainJunk(
                accountID: alice, blobHash: "spam\(i)", tokens: JunkTokenizer.tokens(Array(spam.utf8)), as: .spam)
            try s.harness.store.trainJunk(
                accountID: alice, blobHash: "ham\(i)", tokens: JunkTokenizer.tokens(Array(ham.utf8)), as: .ham)
        }
    }

    @Test func aTrainedUsersSpamGoesToJunkAndHamToTheInbox() async throws {
        let s = try InboundChecksTests.Setup()
        let spam = Self.message(["cheap", "viagra", "pills", "casino", "prize"], subject: "great offer")
        let ham = Self.message(["agenda", "budget", "review", "meeting"], subject: "about the project")
        // Untrained: both arrive in INBOX.
        #expect(await s.send(from: "ann@relaxed.test", spam).code == 250)
        #expect(try s.junkCount() == 0)
        #expect(try s.inbox().count == 1)

        try Self.train(s)
        #expect(await s.send(from: "ann@relaxed.test", spam).code == 250)
        #expect(try s.junkCount() == 1)
        #expect(await s.send(from: "ann@relaxed.test", ham).code == 250)
        #expect(try s.junkCount() == 1)
        #expect(try s.inbox().count == 2)

        let checks = try s.trace().filter { $0.event == .checked }.compactMap(\.detail)
        let spamStory = try #require(checks.first { $0.contains("BAYES_SPAM") })
        #expect(
            spamStory.contains("junk classifier of alice@example.org: BAYES_SPAM at probability 0.9")
                || spamStory.contains("BAYES_SPAM at probability 1 ("))
        #expect(spamStory.contains("filed in Junk for alice@example.org: score"))
        #expect(checks.contains { $0.contains("BAYES_HAM -2") })
    }

    /// `[spam] junk_learning = false`: no classifier is asked, nothing is learned; and an
    /// administrator sees what an account learned and can make it forget.
    @Test func learningOffAndTheAdministratorsShowAndReset() async throws {
        let s = try InboundChecksTests.Setup()
        try Self.train(s)
        let admin = AdminActor.system
        let learned = try s.harness.dir.junkSummary("alice@example.org", actor: admin)
        #expect(learned.spamMessages == 12 && learned.hamMessages == 12 && learned.tokens > 20)

        let spam = Self.message(["cheap", "viagra", "pills", "casino", "prize"], subject: "great offer")
        s.harness.delivery.junkTrainer.isEnabled = false
        #expect(await s.send(from: "ann@relaxed.test", spam).code == 250)
        #expect(try s.junkCount() == 0, "learning off: no classifier verdict")
        let alice = try s.account("alice@example.org")
        let inbox = try #require(try s.harness.store.mailbox(accountID: alice, name: "INBOX"))
        s.harness.delivery.junkTrainer.learn([.init(accountID: alice, mailboxID: inbox.id, uid: 1, junkClass: .spam)])
        s.harness.delivery.junkTrainer.waitUntilIdle()
        #expect(try s.harness.dir.junkSummary("alice@example.org", actor: admin).spamMessages == 12, "learning off: nothing learned")

        s.harness.delivery.junkTrainer.isEnabled = true
        let reset = try s.harness.dir.resetJunk("alice@example.org", actor: admin)
        #expect(reset.hamMessages == 0 && reset.spamMessages == 0 && reset.tokens == 0)
        #expect(await s.send(from: "ann@relaxed.test", spam).code == 250)
        #expect(try s.junkCount() == 0, "forgotten: untrained again")
        #expect(try s.harness.dir.auditLog(since: nil, target: nil, limit: 10, actor: admin).contains { $0.action == "account.junk.reset" })
    }

    /// Junk is each recipient's own: alice's classifier files her copy in Junk, and bob, whose
    /// classifier has learned nothing, gets his in INBOX.
    @Test func eachRecipientsClassifierFilesOnlyTheirCopy() async throws {
        let s = try InboundChecksTests.Setup()
        try Self.train(s)
        let spam = Self.message(["cheap", "viagra", "pills", "casino", "prize"], subject: "great offer")
        let opinions = await s.env.junkLookup(Array(spam.utf8), recipients: ["bob@example.org", "alice@example.org"])()
        #expect(opinions.map(\.account) == ["alice@example.org"])
        #expect((opinions.first?.verdict.probability ?? 0) > 0.9)

        #expect(await s.send(from: "ann@relaxed.test", spam, to: "alice@example.org", also: ["bob@example.org"]).code == 250)
        #expect(try s.junkCount() == 1)
        let bob = try s.account("bob@example.org")
        #expect(try s.harness.store.inboxMessages(accountID: bob).count == 1)
        #expect(try s.harness.store.mailbox(accountID: bob, name: "Junk").map { $0.uidNext - 1 } ?? 0 == 0)
        let stored = try s.trace().filter { $0.event == .stored }
        #expect(stored.contains { $0.recipient == "alice@example.org" && ($0.detail ?? "").hasPrefix("Junk (score") })
        #expect(stored.contains { $0.recipient == "bob@example.org" && $0.detail == "INBOX" })
        let checks = try s.trace().filter { $0.event == .checked }.compactMap(\.detail)
        #expect(checks.contains { $0.contains("filed in Junk for alice@example.org") }, "\(checks)")
    }
}
