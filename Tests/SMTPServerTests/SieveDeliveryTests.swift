import AdminModels
import Foundation
import Testing

@testable import Delivery
@testable import Directory
@testable import MailCore
@testable import Storage

/// The accounts' Sieve scripts at delivery: where the message goes, what is sent, what the
/// trace says.
@Suite struct SieveDeliveryTests {
    let admin = AdminActor(name: "t", role: .serverAdmin)

    func message(
        _ rcpts: [String] = ["alice@example.org"], from sender: String? = "sender@elsewhere.com", headers: String = "",
        subject: String = "test", body: String = "hello\r\n"
    ) -> InboundMessage {
        InboundMessage(
            sender: sender, recipients: rcpts,
            data: Array(
                "From: <\(sender ?? "x@elsewhere.com")>\r\nTo: <\(rcpts[0])>\r\nSubject: \(subject)\r\nMessage-ID: <id-\(UUID().uuidString)@x>\r\n\(headers)\r\n\(body)"
                    .utf8),
            receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "client", tls: nil,
            authenticatedUser: nil)
    }

    func account(_ h: PolicyHarness, _ address: String = "alice@example.org") throws -> Int64 {
        try #require(h.dir.snapshot.account(try EmailAddress(address))?.id)
    }

    func put(_ h: PolicyHarness, _ script: String, for address: String = "alice@example.org") throws {
        try h.store.putSieveScript(
            accountID: try account(h, address), name: "rules", text: script, activate: true, at: Date(), audit: [])
    }

    /// The messages in one of the account's mailboxes (flags included).
    func messages(_ h: PolicyHarness, _ mailbox: String, of address: String = "alice@example.org") throws
        -> [MessageState]
    {
        guard let box = try h.store.mailbox(accountID: try account(h, address), name: mailbox) else {
            return []
        }
        return try h.store.messageStates(mailboxID: box.id)
    }

    func trace(_ h: PolicyHarness, _ queueID: String) throws -> [String] {
        try h.store.traceEvents(
            messageID: nil, sender: nil, recipient: nil, since: nil, limit: 100
        )
        .filter { $0.queueID == queueID }.map { "\($0.event.rawValue): \($0.detail ?? "")" }
    }

    @Test func fileintoAnExistingFolderAndCreateOne() async throws {
        let h = try PolicyHarness()
        try h.store.createMailbox(accountID: try account(h), name: "Projects", specialUse: nil)
        try put(
            h,
            """
            require ["fileinto", "mailbox"];
            if header :contains "subject" "project" { fileinto "Projects"; }
            elsif header :contains "subject" "new" { fileinto :create "Later/Reading"; }
            """)
        let q1 = try await h.delivery.deliver(message(subject: "the project plan"))
        _ = try await h.delivery.deliver(message(subject: "new things"))
        _ = try await h.delivery.deliver(message(subject: "hello"))
        #expect(try messages(h, "Projects").count == 1)
        #expect(try messages(h, "Later/Reading").count == 1)
        #expect(try h.store.mailbox(accountID: try account(h), name: "Later") != nil)
        #expect(try messages(h, "INBOX").count == 1)
        #expect(try trace(h, q1).contains("stored: Projects (filed by the account's rules)"))
    }

    @Test func fileintoAMissingFolderWithoutCreateKeepsInInbox() async throws {
        let h = try PolicyHarness()
        try put(h, "require \"fileinto\"; fileinto \"Gone\";")
        let q = try await h.delivery.deliver(message())
        #expect(try messages(h, "INBOX").count == 1)
        #expect(try h.store.mailbox(accountID: try account(h), name: "Gone") == nil)
        #expect(try trace(h, q).contains { $0.contains("\"Gone\", which does not exist — kept in INBOX") })
    }

    @Test func keepDiscardAndFlags() async throws {
        let h = try PolicyHarness()
        try put(
            h,
            """
            require ["imap4flags"];
            if header :is "subject" "drop" { discard; stop; }
            addflag ["\\\\seen", "$Important"];
            keep;
            """)
        let dropped = try await h.delivery.deliver(message(subject: "drop"))
        _ = try await h.delivery.deliver(message(subject: "keep"))
        let inbox = try messages(h, "INBOX")
        #expect(inbox.count == 1)
        #expect(inbox.first?.flags == ["\\Seen", "$Important"])
        #expect(try trace(h, dropped).contains("filtered: script \"rules\": discarded by the account's rules"))
        #expect(try h.store.mailbox(accountID: try account(h), name: "INBOX")?.keywords == ["$Important"])
    }

    @Test func redirectIsQueuedForTheRemoteAddressAndKeepsTheSender() async throws {
        let h = try PolicyHarness()
        try put(h, "redirect \"carol@partner.test\";")
        let q = try await h.delivery.deliver(message())
        let queued = try h.store.queueEntries(QueueSelection(recipient: "carol@partner.test"))
        #expect(queued.count == 1)
        #expect(queued.first?.sender == "sender@elsewhere.com")
        #expect(queued.first?.queueID != q)
        #expect(try messages(h, "INBOX").isEmpty)
        let bytes = String(decoding: try h.delivery.readBlob(try #require(queued.first).blobHash), as: UTF8.self)
        #expect(bytes.contains("Delivered-To: alice@example.org\r\n"))
        #expect(
            try trace(h, q).contains { $0.hasPrefix("filtered: script \"rules\": redirected to carol@partner.test") })
    }

    @Test func aRedirectLoopBetweenTwoAccountsStops() async throws {
        let h = try PolicyHarness()
        try put(h, "redirect \"bob@example.org\";")
        try put(h, "redirect \"alice@example.org\";", for: "bob@example.org")
        let q = try await h.delivery.deliver(message())
        // alice → bob → alice: the Delivered-To check refuses the second visit to alice; the
        // message is in nobody's INBOX, and the trace says why.
        let events = try h.store.traceEvents(
            messageID: nil, sender: nil, recipient: nil, since: nil, limit: 100)
        #expect(events.contains { $0.event == .filtered && ($0.detail ?? "").contains("not sent: mail loop") })
        #expect(try messages(h, "INBOX").isEmpty)
        #expect(try trace(h, q).contains { $0.contains("redirected to bob@example.org") })
    }

    @Test func vacationAnswersOncePerSenderPerPeriod() async throws {
        let h = try PolicyHarness()
        try put(h, "require \"vacation\"; vacation :days 3 :subject \"Away\" \"I am away until Monday.\";")
        let first = message()
        let before = Date()
        let q1 = try await h.delivery.deliver(first)
        let afterFirst = Date()
        let q2 = try await h.delivery.deliver(message())
        _ = try await h.delivery.deliver(message(from: "other@elsewhere.com"))
        let replies = try h.store.queueEntries(QueueSelection(domain: "elsewhere.com"))
        #expect(replies.map(\.recipient).sorted() == ["other@elsewhere.com", "sender@elsewhere.com"])
        #expect(replies.allSatisfy { $0.sender == "" })
        let reply = String(
            decoding: try h.delivery.readBlob(
                try #require(replies.first { $0.recipient == "sender@elsewhere.com" }).blobHash), as: UTF8.self)
        let originalID = try #require(HeaderSummary(first.data).messageID)
        #expect(reply.contains("From: <alice@example.org>\r\n"))
        #expect(reply.contains("Subject: Away\r\n"))
        #expect(reply.contains("Auto-Submitted: auto-replied"))
        #expect(reply.contains("In-Reply-To: <\(originalID)>\r\n"))
        #expect(reply.contains("References: <\(originalID)>\r\n"))
        #expect(reply.contains("I am away until Monday."))
        #expect(try messages(h, "INBOX").count == 3)
        #expect(try trace(h, q1).contains { $0.contains("vacation reply sent to sender@elsewhere.com") })
        #expect(
            try trace(h, q2).contains { $0.contains("vacation reply not sent: sender@elsewhere.com was answered on") })
        let last = try #require(
            try h.store.lastVacationReply(
                accountID: try account(h), handle: "I am away until Monday.Away<default-from><NO-MIME>",
                sender: "sender@elsewhere.com"))
        // Remembered as of the first reply (the second message sent none), whatever the pace.
        #expect(last >= before.addingTimeInterval(-1) && last <= afterFirst.addingTimeInterval(1), "\(last)")
    }

    @Test func twoMessagesFromOneSenderAtOnceGetOneReply() async throws {
        let h = try PolicyHarness()
        try put(h, "require \"vacation\"; vacation \"away\";")
        async let a = h.delivery.deliver(message())
        async let b = h.delivery.deliver(message())
        async let c = h.delivery.deliver(message())
        _ = try await (a, b, c)
        #expect(try h.store.queueEntries(QueueSelection(recipient: "sender@elsewhere.com")).count == 1)
        #expect(try messages(h, "INBOX").count == 3)
    }

    @Test func vacationAnswersAgainAfterThePeriod() async throws {
        let h = try PolicyHarness()
        try put(h, "require [\"vacation\", \"vacation-seconds\"]; vacation :seconds 1 \"away\";")
        _ = try await h.delivery.deliver(message())
        try await Task.sleep(for: .milliseconds(1100))
        _ = try await h.delivery.deliver(message())
        #expect(try h.store.queueEntries(QueueSelection(recipient: "sender@elsewhere.com")).count == 2)
    }

    @Test(arguments: [
        ("List-Id: <news.example.com>\r\n", "mailing list"),
        ("Auto-Submitted: auto-generated\r\n", "automatic"),
        ("Precedence: bulk\r\n", "bulk"),
    ])
    func vacationDoesNotAnswerListsOrAutomaticMail(header: String, why: String) async throws {
        let h = try PolicyHarness()
        try put(h, "require \"vacation\"; vacation \"away\";")
        let q = try await h.delivery.deliver(message(headers: header))
        #expect(try h.store.queueEntries(QueueSelection()).isEmpty)
        #expect(try trace(h, q).contains { $0.contains("vacation reply not sent") && $0.contains(why) })
    }

    @Test func vacationDoesNotAnswerBounces() async throws {
        let h = try PolicyHarness()
        try put(h, "require \"vacation\"; vacation \"away\";")
        _ = try await h.delivery.deliver(message(from: nil))
        #expect(try h.store.queueEntries(QueueSelection()).isEmpty)
        #expect(try messages(h, "INBOX").count == 1)
    }

    @Test func aFailingScriptKeepsInInboxAndTheTraceSaysWhy() async throws {
        let h = try PolicyHarness()
        // Valid when saved; fails at run time: reject with fileinto (RFC 5429 §2.1).
        try put(h, "require [\"reject\", \"fileinto\"]; fileinto \"INBOX\"; reject \"no\";")
        let q = try await h.delivery.deliver(message())
        #expect(try messages(h, "INBOX").count == 1)
        #expect(
            try trace(h, q).contains {
                $0.hasPrefix("filtered: script \"rules\": script \"rules\" failed at")
                    && $0.hasSuffix("— kept in INBOX")
            })
    }

    @Test func aBudgetOverrunKeepsInInbox() async throws {
        let h = try PolicyHarness()
        // 100 tests of 1,024 keys each, none matching: over the 100,000 steps a run may take.
        let keys = "[" + (0..<1024).map { "\"k\($0)\"" }.joined(separator: ",") + "]"
        let tests = Array(repeating: "header :is \"subject\" \(keys)", count: 100).joined(separator: ", ")
        try put(h, "if anyof (\(tests)) { keep; } discard;")
        let q = try await h.delivery.deliver(message())
        #expect(try messages(h, "INBOX").count == 1)
        #expect(try trace(h, q).contains { $0.contains("steps and was stopped — kept in INBOX") })
    }

    @Test func junkVerdictKeepGoesToJunkButFileintoWins() async throws {
        let h = try PolicyHarness()
        try put(h, "require \"fileinto\"; if header :contains \"subject\" \"invoice\" { fileinto \"INBOX\"; }")
        var spam = message(subject: "buy now")
        spam.junkReason = "score 7.0"
        var invoice = message(subject: "your invoice")
        invoice.junkReason = "score 6.0"
        _ = try await h.delivery.deliver(spam)
        _ = try await h.delivery.deliver(invoice)
        #expect(try messages(h, "Junk").count == 1)
        #expect(try messages(h, "INBOX").count == 1)
    }

    @Test func rejectAfterAcceptanceTellsTheSender() async throws {
        let h = try PolicyHarness()
        try put(h, "require \"reject\"; reject \"I do not take mail from you.\";")
        let q = try await h.delivery.deliver(message())
        let notices = try h.store.queueEntries(QueueSelection(recipient: "sender@elsewhere.com"))
        #expect(notices.count == 1 && notices.first?.sender == "")
        let text = String(decoding: try h.delivery.readBlob(try #require(notices.first).blobHash), as: UTF8.self)
        #expect(text.contains("I do not take mail from you."))
        #expect(text.contains("report-type=disposition-notification"))
        #expect(try messages(h, "INBOX").isEmpty)
        #expect(try trace(h, q).contains { $0.contains("rejected by the account's rules") })
    }

    @Test func rejectWhileTheClientWaitsRefusesAtSMTPForTheOnlyRecipient() async throws {
        let h = try PolicyHarness()
        try put(h, "require \"ereject\"; ereject \"No mail from you, thanks.\";")
        var m = message()
        m.awaitsReply = true
        do {
            _ = try await h.delivery.deliver(m)
            Issue.record("stored a message the rules rejected")
        } catch let r as DeliveryRefusal {
            #expect(r.code == 550 && r.enhanced == "5.7.1" && r.text == "No mail from you, thanks.")
        }
        #expect(try h.store.queueEntries(QueueSelection()).isEmpty)
        #expect(try messages(h, "INBOX").isEmpty)
        // With another recipient the message is accepted for bob: alice's sender gets a notice.
        var both = message(["alice@example.org", "bob@example.org"])
        both.awaitsReply = true
        _ = try await h.delivery.deliver(both)
        #expect(try h.store.queueEntries(QueueSelection(recipient: "sender@elsewhere.com")).count == 1)
        #expect(try messages(h, "INBOX", of: "bob@example.org").count == 1)
        #expect(try messages(h, "INBOX").isEmpty)
    }

    @Test func duplicateSeesAMessageIDTheSecondTime() async throws {
        let h = try PolicyHarness()
        try put(h, "require [\"duplicate\", \"fileinto\"]; if duplicate { fileinto \"Trash\"; }")
        var m = message()
        _ = try await h.delivery.deliver(m)
        m.recipients = ["alice@example.org"]
        _ = try await h.delivery.deliver(m)
        #expect(try messages(h, "INBOX").count == 1)
        #expect(try messages(h, "Trash").count == 1)
    }

    @Test func accountsWithoutAnActiveScriptAreUntouched() async throws {
        let h = try PolicyHarness()
        try put(h, "discard;")
        try h.store.setActiveSieveScript(accountID: try account(h), name: nil, audit: [])
        _ = try await h.delivery.deliver(message())
        #expect(try messages(h, "INBOX").count == 1)
    }
}
