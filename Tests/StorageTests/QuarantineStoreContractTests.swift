import Foundation
import Testing

@testable import Storage
import TestSupport

/// What any ``QuarantineStore`` must do, run through the protocol against each implementation:
/// SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct QuarantineStoreContractTests {
    /// ann (id 1) and bob (id 2).
    static func store(_ kind: StoreKind) throws -> any QuarantineStore & MessageCommitStore & MailboxStore
        & BlobRecordStore
    {
        try kind.make(accounts: ["ann@example.org", "bob@example.org"])
    }

    static func quarantined(_ n: Int, at: Date) -> QuarantinedMessage {
        QuarantinedMessage(
            queueID: "Q\(n)", messageID: "m\(n)@example.org", sender: "x@example.net",
            recipients: ["ann@example.org", "bob@example.org"],
            blobHash: "hash-\(n)", size: Mail.bytes(n).count, subject: "s\(n)", reason: "spam score 9.1",
            checks: "spf=fail",
            clientIP: "192.0.2.1", helo: "mx.example.net", heldAt: at)
    }

    @Test(arguments: StoreKind.allCases)
    func aQuarantinedMessageIsReleasedExactlyOnce(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        let t0 = Mail.t0
        let first = try store.quarantine(Self.quarantined(1, at: t0), inlineData: Mail.bytes(1), events: [])
        let second = try store.quarantine(Self.quarantined(2, at: t0 + 60), inlineData: Mail.bytes(2), events: [])
        #expect(first != second)
        #expect(try store.quarantinedMessages(limit: 10).map(\.id) == [second, first])
        #expect(try store.quarantinedMessages(limit: 1).map(\.id) == [second])
        var expected = Self.quarantined(1, at: t0)
        expected.id = first
        #expect(try store.quarantinedMessage(id: first) == expected)
        #expect(try store.inlineBlob("hash-1") == Mail.bytes(1))
        #expect(try store.quarantinedBefore(t0 + 30).map(\.id) == [first])
        // Released to both recipients: delivered once, however often it is asked.
        let release = Mail.commit(1, to: [1, 2])
        #expect(try store.finishQuarantine(id: first, release: [release], events: [], audit: nil))
        #expect(try !store.finishQuarantine(id: first, release: [release], events: [], audit: nil))
        #expect(try store.openMailbox(accountID: 1, name: "INBOX")?.1 == [1])
        #expect(try store.openMailbox(accountID: 2, name: "INBOX")?.1 == [1])
        #expect(try store.quarantinedMessage(id: first) == nil)
        // Dropped: nothing delivered, and its bytes are no longer held for it.
        #expect(try store.finishQuarantine(id: second, release: [], events: [], audit: nil))
        #expect(try store.quarantinedMessages(limit: 10).isEmpty)
        #expect(try store.markUnreferencedBlobs().count == 1)
        #expect(try store.blobsAwaitingRemoval() == ["hash-2"])
    }

    @Test(arguments: StoreKind.allCases)
    func aHeldMessageIsModeratedOnce(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        var posted = Mail.commit(1, to: [])
        posted.held = [.init(listAddress: "eng@example.org", headerPrefix: Array("X-Held: 1\r\n".utf8), subject: "s1")]
        var other = Mail.commit(2, to: [])
        other.held = [.init(listAddress: "ops@example.org", headerPrefix: [], subject: "s2")]
        try store.commit([posted, other])
        let held = try store.heldMessages()
        #expect(held.map(\.listAddress) == ["eng@example.org", "ops@example.org"])
        let first = held[0]
        #expect(
            first.queueID == "Q1" && first.sender == "x@example.net" && first.blobHash == "hash-1"
                && first.subject == "s1")
        #expect(first.headerPrefix == Array("X-Held: 1\r\n".utf8) && first.createdAt == Mail.t0)
        #expect(try store.heldMessage(id: first.id) == first)
        try store.finishModeration(id: first.id, release: [Mail.commit(1, to: [2])], events: [])
        #expect(try store.openMailbox(accountID: 2, name: "INBOX")?.1 == [1])
        #expect(throws: StoreError.self) {
            try store.finishModeration(id: first.id, release: [Mail.commit(1, to: [2])], events: [])
        }
        #expect(try store.openMailbox(accountID: 2, name: "INBOX")?.1 == [1])
        #expect(try store.heldMessage(id: first.id) == nil && store.heldMessages().map(\.queueID) == ["Q2"])
    }
}
