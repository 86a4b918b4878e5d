import Foundation
import Synchronization
import Testing

@testable import Storage
import TestSupport

/// What any ``MessageCommitStore`` must do, run through the protocol against each
/// implementation: SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct MessageCommitStoreContractTests {
    /// ann (id 1) and bob (id 2).
    static func store(_ kind: StoreKind) throws -> any MessageCommitStore & MailboxStore & QueueStore & EventStore
        & BlobRecordStore
    {
        try kind.make(accounts: ["ann@example.org", "bob@example.org"])
    }

    @Test(arguments: StoreKind.allCases)
    func aBatchIsStoredInEveryRecipientsMailboxQueuedAndTold(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        let inbox = try #require(try store.mailbox(accountID: 1, name: "INBOX"))
        let told = Told()
        let token = store.changes.subscribe(mailbox: inbox.id) { told.count.add(1, ordering: .relaxed) }
        defer { store.changes.unsubscribe(mailbox: inbox.id, token: token) }
        var second = Mail.commit(2, to: [1], remote: ["x@remote.test", "y@remote.test"])
        second.events = [
            DeliveryEvent(
                at: Mail.t0, queueID: "Q2", messageID: "m2@example.org", event: .received, sender: "x@example.net",
                recipient: nil,
                clientIP: "192.0.2.1", helo: nil, tls: nil, authUser: nil, detail: nil, reply: nil)
        ]
        var third = Mail.commit(3, to: [])
        third.local = [
            .init(accountID: 2, headerPrefix: [], specialUse: "\\Junk"),
            .init(accountID: 2, headerPrefix: [], mailbox: "Lists/Eng", create: true, flags: ["\\Flagged"]),
        ]
        try store.commit([Mail.commit(1, to: [1, 2]), second, third])
        #expect(try store.openMailbox(accountID: 1, name: "INBOX")?.1 == [1, 2])
        #expect(try store.openMailbox(accountID: 2, name: "INBOX")?.1 == [1])
        #expect(try store.openMailbox(accountID: 2, name: "Junk")?.1 == [1])
        #expect(
            try store.messageStates(mailboxID: try #require(try store.mailbox(accountID: 2, name: "Lists/Eng")).id).map(
                \.flags) == [["\\Flagged"]])
        #expect(try store.mailbox(id: inbox.id).map(\.highestModseq) ?? 0 > inbox.highestModseq)
        #expect(told.count.load(ordering: .relaxed) > 0)
        #expect(
            try store.queueEntries(QueueSelection()).map(\.recipient).sorted() == ["x@remote.test", "y@remote.test"])
        #expect(
            try store.traceEvents(messageID: "m2@example.org", sender: nil, recipient: nil, since: nil, limit: 10).map(
                \.event) == [.received])
        #expect(try store.inlineBlob("hash-1") == Mail.bytes(1))
        // The same bytes again are one blob with another mailbox entry.
        try store.commit([Mail.commit(1, to: [1])])
        #expect(try store.openMailbox(accountID: 1, name: "INBOX")?.1 == [1, 2, 3])
        #expect(try store.blobHashes(mailboxID: inbox.id, uids: [1, 3]) == ["hash-1", "hash-1"])
    }

    @Test(arguments: StoreKind.allCases)
    func appendKeepsToTheQuotaAndStoresNothingOverIt(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        let inbox = try #require(try store.mailbox(accountID: 1, name: "INBOX"))
        func message(_ n: Int) -> NewMessage {
            NewMessage(
                blobHash: "append-\(n)", blobSize: Mail.bytes(n).count, inlineData: Mail.bytes(n), meta: nil,
                flags: ["\\Seen"],
                internalDate: Mail.t0, messageID: "<m\(n)@example.org>")
        }
        let size = Int64(Mail.bytes(1).count)
        let first = try store.appendMessage(message(1), mailboxID: inbox.id, accountID: 1, quota: size * 3 / 2)
        #expect(first.uid == 1 && first.uidValidity == inbox.uidValidity)
        #expect(throws: MailboxError.overQuota) {
            try store.appendMessage(message(2), mailboxID: inbox.id, accountID: 1, quota: size * 3 / 2)
        }
        #expect(try store.openMailbox(accountID: 1, name: "INBOX")?.1 == [1])
        #expect(try store.mailboxUsage(accountID: 1) == size)
        #expect(try store.messageStates(mailboxID: inbox.id).map(\.flags) == [["\\Seen"]])
        // No quota (0): no limit.
        #expect(try store.appendMessage(message(2), mailboxID: inbox.id, accountID: 1, quota: 0).uid == 2)
        #expect(try store.mailboxUsage(accountID: 1) == 2 * size && store.mailboxUsage(accountID: 2) == 0)
    }
}

/// Counts the calls of a change hub's callback.
private final class Told: Sendable {
    let count = Atomic<Int>(0)
}
