import Foundation
import Testing

@testable import Delivery
@testable import Directory
@testable import IMAPServer
@testable import MailCore
@testable import Storage

/// Moving mail into and out of Junk teaches the account's junk classifier.
@Suite struct JunkTrainingSessionTests {
    func counts(_ h: IMAPHarness, _ user: String = "alice") throws -> (ham: Int, spam: Int) {
        h.delivery.junkTrainer.waitUntilIdle()
        let id = try #require(h.dir.snapshot.account(try EmailAddress("\(user)@example.org"))?.id)
        let c = try h.store.junkCounts(accountID: id, tokens: ["cheap"])
        #expect(
            c.tokens["cheap"].map { $0.ham == c.hamMessages && $0.spam == c.spamMessages }
                ?? (c.hamMessages + c.spamMessages == 0))
        return (c.hamMessages, c.spamMessages)
    }

    @Test func moveIntoJunkTeachesSpamAndMoveOutTeachesHam() throws {
        let h = try IMAPHarness()
        let s = h.session()
        _ = h.append(s, "From: deals@shop.test\r\nSubject: cheap pills\r\n\r\ncheap pills here\r\n")
        #expect(try counts(h) == (0, 0))
        h.send(s, "a SELECT INBOX")
        #expect(h.send(s, "b MOVE 1 Junk").contains("b OK"))
        #expect(try counts(h) == (0, 1))
        h.send(s, "c SELECT Junk")
        #expect(h.send(s, "d MOVE 1 INBOX").contains("d OK"))
        // Spam undone, ham learned.
        #expect(try counts(h) == (1, 0))
        // Bob learned nothing from Alice.
        #expect(try counts(h, "bob") == (0, 0))
    }

    @Test func copyIntoJunkTeachesSpamOnceAndDeletingJunkTeachesNothing() throws {
        let h = try IMAPHarness()
        let s = h.session()
        _ = h.append(s, "Subject: cheap\r\n\r\ncheap\r\n")
        h.send(s, "a SELECT INBOX")
        #expect(h.send(s, "b COPY 1 Junk").contains("b OK"))
        #expect(h.send(s, "c COPY 1 Junk").contains("c OK"))
        #expect(try counts(h) == (0, 1))
        h.send(s, "d SELECT Junk")
        // Junk → Trash: deleting spam says nothing about it; a COPY out leaves it in Junk.
        #expect(h.send(s, "e COPY 1 Archive").contains("e OK"))
        #expect(h.send(s, "f MOVE 1:* Trash").contains("f OK"))
        #expect(try counts(h) == (0, 1))
    }

    @Test func appendIntoJunkTeachesSpam() throws {
        let h = try IMAPHarness()
        let s = h.session()
        #expect(h.append(s, "Subject: cheap\r\n\r\ncheap\r\n", mailbox: "Junk").contains("OK [APPENDUID"))
        #expect(h.append(s, "Subject: other\r\n\r\nfine\r\n", mailbox: "Archive").contains("OK [APPENDUID"))
        #expect(try counts(h) == (0, 1))
    }
}
