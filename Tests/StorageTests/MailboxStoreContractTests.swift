import Foundation
import Testing

@testable import MailCore
@testable import Storage
import TestSupport

/// What any ``MailboxStore`` must do, run through the protocol against each implementation:
/// SQLite in memory (one connection) and on disk (WAL, a writer and readers). Messages come
/// in through the delivery's commit, as they do in the server.
@Suite struct MailboxStoreContractTests {
    /// A store with one account whose INBOX holds three messages (UIDs 1–3).
    static func store(_ kind: StoreKind) throws -> (any MailboxStore, account: Int64) {
        let store = try kind.make(accounts: ["ann@example.org"])
        let now = Date()
        let account = try #require(try store.loadDirectory().accounts.first?.id)
        try store.commit(
            (1...3).map { n in
                let data = Array("Subject: m\(n)\r\nMessage-ID: <m\(n)@example.org>\r\n\r\nbody \(n)\r\n".utf8)
                return MessageCommit(
                    queueID: "Q\(n)", messageID: "m\(n)@example.org", sender: "x@example.net", blobHash: "hash-\(n)",
                    blobSize: data.count, inlineData: data, meta: Self.meta(n), receivedAt: now,
                    local: [.init(accountID: account, headerPrefix: [])], remote: [], held: [], events: [])
            })
        return (store, account)
    }

    /// What the delivery would compute for message `n`, indexed at once.
    static func meta(_ n: Int) -> BlobMeta {
        BlobMeta(
            envelope: Array("(NIL \"m\(n)\" NIL NIL NIL NIL NIL NIL NIL NIL)".utf8), bodyStructure: [], bodySimple: [],
            sentDate: Date(timeIntervalSince1970: 1_800_000_000 + Double(n)),
            text: SearchText(subject: "m\(n)", from: "", to: "", cc: "", bcc: "", headers: "", body: "body \(n)"))
    }

    @Test(arguments: StoreKind.allCases)
    func flagsExpungeAndChangesFollowTheModseq(_ kind: StoreKind) throws {
        let (store, account) = try Self.store(kind)
        let (inbox, uids) = try #require(try store.openMailbox(accountID: account, name: "INBOX"))
        #expect(uids == [1, 2, 3])
        #expect(try store.mailboxCounts(mailboxID: inbox.id).messages == 3)
        #expect(try store.firstUnseenUID(mailboxID: inbox.id) == 1)
        let before = try #require(try store.mailbox(id: inbox.id)).highestModseq
        let seen = try store.storeFlags(mailboxID: inbox.id, uids: [1], change: .add, flags: ["\\Seen"], unchangedSince: nil)
        #expect(seen.changed.map(\.uid) == [1] && seen.failed.isEmpty)
        // Changed since `before` (CONDSTORE): a STORE that asks so fails for message 1.
        let guarded = try store.storeFlags(mailboxID: inbox.id, uids: [1, 2], change: .add, flags: ["$Work"], unchangedSince: before)
        #expect(guarded.failed == [1] && guarded.changed.map(\.uid) == [2])
        #expect(try store.firstUnseenUID(mailboxID: inbox.id) == 2)
        let counts = try store.mailboxCounts(mailboxID: inbox.id)
        #expect(counts.messages == 3 && counts.unseen == 2 && counts.deleted == 0)
        _ = try store.storeFlags(mailboxID: inbox.id, uids: [2], change: .add, flags: ["\\Deleted"], unchangedSince: nil)
        let mid = try #require(try store.mailbox(id: inbox.id)).highestModseq
        #expect(try store.expunge(mailboxID: inbox.id, uids: nil) == [2])
        #expect(try store.expungedSince(mailboxID: inbox.id, modseq: mid) == [2])
        #expect(try store.messageStates(mailboxID: inbox.id).map(\.uid) == [1, 3])
        let changes = try store.changes(mailboxID: inbox.id, since: before)
        #expect(changes.expunged == [2] && changes.changed.map(\.uid) == [1])
        let details = try store.messageDetails(mailboxID: inbox.id, uids: 1, 3, parts: .basics) { _ in true }
        #expect(details.map(\.uid) == [1, 3])
    }

    @Test(arguments: StoreKind.allCases)
    func mailboxesAreMadeRenamedCopiedIntoAndDeleted(_ kind: StoreKind) throws {
        let (store, account) = try Self.store(kind)
        #expect(try store.mailboxes(accountID: account).map(\.name).contains("INBOX"))
        try store.createMailbox(accountID: account, name: "Projects/2026", specialUse: nil)
        #expect(try store.mailbox(accountID: account, name: "Projects") != nil)
        let inbox = try #require(try store.mailbox(accountID: account, name: "INBOX"))
        let target = try #require(try store.mailbox(accountID: account, name: "Projects/2026"))
        let moved = try store.copyMessages(from: inbox.id, uids: [1, 3], to: target.id, move: true, accountID: account, quota: 0)
        #expect(moved.pairs.map(\.0) == [1, 3] && moved.pairs.map(\.1) == [1, 2] && moved.uidValidity == target.uidValidity)
        #expect(try store.openMailbox(accountID: account, name: "INBOX")?.1 == [2])
        try store.renameMailbox(accountID: account, from: "Projects", to: "Old")
        #expect(try store.openMailbox(accountID: account, name: "Old/2026")?.1 == [1, 2])
        // A move keeps the account's totals; deleting a mailbox takes its messages off them.
        let size = Int64(try #require(try store.messageDetails(mailboxID: inbox.id, uids: 2, 2, parts: .basics) { _ in true }.first).size)
        #expect(size > 0)
        #expect(try store.mailboxStats(accountID: account) == (3, 3 * size))
        #expect(throws: MailboxError.self) { try store.deleteMailbox(accountID: account, name: "Old") }
        #expect(throws: MailboxError.self) { try store.deleteMailbox(accountID: account, name: "INBOX") }
        try store.deleteMailbox(accountID: account, name: "Old/2026")
        #expect(try store.mailboxStats(accountID: account) == (1, size))
        try store.deleteMailbox(accountID: account, name: "Old")
        #expect(try store.mailbox(accountID: account, name: "Old") == nil)
        try store.setSubscribed(accountID: account, name: "Later", true)
        #expect(try store.subscriptions(accountID: account).contains("Later"))
        try store.setSubscribed(accountID: account, name: "Later", false)
        #expect(!(try store.subscriptions(accountID: account).contains("Later")))
    }

    @Test(arguments: StoreKind.allCases)
    func searchAndSortReadWhatWasStored(_ kind: StoreKind) throws {
        let (store, account) = try Self.store(kind)
        let inbox = try #require(try store.mailbox(accountID: account, name: "INBOX"))
        #expect(try store.searchRows(mailboxID: inbox.id).map(\.uid) == [1, 2, 3])
        // Indexed at the commit (the text came with it): nothing waits, and the index finds it.
        #expect(try store.unindexedUIDs(mailboxID: inbox.id).isEmpty)
        #expect(try store.textSearch(mailboxID: inbox.id, fields: SearchText.Field.allCases, needle: "body 2") == [2])
        #expect(try store.textSearch(mailboxID: inbox.id, fields: [], needle: "body 2").isEmpty)
        #expect(try store.textSearch(mailboxID: inbox.id, fields: [.subject], needle: "body 2").isEmpty)
        var rows: [(Int64, Double?)] = []
        try store.scanSortFields(mailboxID: inbox.id, uids: 1, 3) { rows.append(($0.uid, $0.sentDate)) }
        #expect(rows.map(\.0) == [1, 2, 3] && rows.map(\.1) == [1_800_000_001, 1_800_000_002, 1_800_000_003])
        var scanned: [Int64] = []
        try store.scanMessages(mailboxID: inbox.id, uids: 2, 3, basics: true, meta: false) { scanned.append($0.uid) }
        #expect(scanned == [2, 3])
        // \Recent: the first claim gets all three, the next none.
        #expect(try store.unclaimedRecent(inbox) == 3)
        #expect(try store.claimRecent(mailboxID: inbox.id, through: 3) == 0)
        #expect(try store.claimRecent(mailboxID: inbox.id, through: 3) == 3)
        #expect(try store.unclaimedRecent(try #require(try store.mailbox(id: inbox.id))) == 0)
    }
}
