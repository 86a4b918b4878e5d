import Foundation
import Testing

@testable import Storage
import TestSupport

/// What any ``IMAPMigrationStore`` must do, run through the protocol against each
/// implementation (SQLite in memory and on disk): how far each folder was copied, what
/// `mailroom migrate imap` records of each source message, and how the changes of the source
/// are applied here: only to copies the migration made, flags as differences (a change made
/// here stays), a copy removed when no source message is left for it.
@Suite struct IMAPMigrationStoreContractTests {
    typealias Store = IMAPMigrationStore & MessageCommitStore & MailboxStore

    static let source = "imap://old.example.org:993/ann"

    static func store(_ kind: StoreKind) throws -> (any Store, Int64) {
        let (store, inbox) = try kind.makeWithInbox()
        return (store, inbox)
    }

    static func origin(_ uid: Int64, _ flags: [String]) -> IMAPMigrationOrigin {
        IMAPMigrationOrigin(
            accountID: 1, source: source, folder: "INBOX", uidValidity: 7, sourceUID: uid, sourceFlags: flags)
    }

    /// Appends a message; with `origin`, as a migration copies it.
    static func add(_ store: any Store, _ mailbox: Int64, _ n: Int, _ flags: [String], origin: IMAPMigrationOrigin?)
        throws -> Int64
    {
        let bytes = Array("Subject: \(n)\r\n\r\nbody \(n)\r\n".utf8)
        return try store.appendMessage(
            NewMessage(
                blobHash: "hash\(n)", blobSize: bytes.count, inlineData: bytes, meta: nil, flags: flags,
                internalDate: Date(timeIntervalSince1970: 0), messageID: "<\(n)@example.net>"),
            mailboxID: mailbox, accountID: 1, quota: 0, origin: origin
        ).uid
    }

    static func flags(_ store: any Store, _ mailbox: Int64) throws -> [Int64: Set<String>] {
        Dictionary(uniqueKeysWithValues: try store.messageStates(mailboxID: mailbox).map { ($0.uid, Set($0.flags)) })
    }

    @Test(arguments: StoreKind.allCases)
    func eachFolderKeepsItsOwnMark(_ kind: StoreKind) throws {
        let (store, _) = try Self.store(kind)
        #expect(try store.imapMigrationMark(accountID: 1, source: Self.source, folder: "INBOX") == nil)
        try store.setIMAPMigrationMark(
            IMAPMigrationMark(uidValidity: 7, lastUID: 40), accountID: 1, source: Self.source, folder: "INBOX")
        try store.setIMAPMigrationMark(
            IMAPMigrationMark(uidValidity: 9, lastUID: 3), accountID: 1, source: Self.source, folder: "Sent")
        try store.setIMAPMigrationMark(
            IMAPMigrationMark(uidValidity: 7, lastUID: 52), accountID: 1, source: Self.source, folder: "INBOX")
        #expect(
            try store.imapMigrationMark(accountID: 1, source: Self.source, folder: "INBOX")
                == IMAPMigrationMark(uidValidity: 7, lastUID: 52))
        #expect(
            try store.imapMigrationMark(accountID: 1, source: Self.source, folder: "Sent")
                == IMAPMigrationMark(uidValidity: 9, lastUID: 3))
        #expect(
            try store.imapMigrationMark(accountID: 1, source: "imap://other.example:993/ann", folder: "INBOX") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func changesAtTheSourceReachOnlyCopies(_ kind: StoreKind) throws {
        let (store, inbox) = try Self.store(kind)
        let seen = try Self.add(store, inbox, 1, ["\\Seen"], origin: Self.origin(1, ["\\Seen"]))
        let plain = try Self.add(store, inbox, 2, [], origin: Self.origin(2, []))
        // Arrived here directly; the source's UID 3 was found to be the same message.
        let direct = try Self.add(store, inbox, 3, ["\\Seen"], origin: nil)
        try store.linkIMAPMigration(Self.origin(3, ["\\Seen"]), mailboxID: inbox, uid: direct, owned: false)
        // One copy standing for two source messages with the same bytes (4 and 5).
        let twice = try Self.add(store, inbox, 4, [], origin: Self.origin(4, []))
        try store.linkIMAPMigration(Self.origin(5, []), mailboxID: inbox, uid: twice, owned: true)

        let keys = Dictionary(
            uniqueKeysWithValues: try store.storedMessageKeys(mailboxID: inbox).map { ($0.uid, $0.owned) })
        #expect(keys == [seen: true, plain: true, direct: false, twice: true])
        let links = try store.imapMigrationLinks(accountID: 1, source: Self.source, folder: "INBOX", uidValidity: 7)
        #expect(links.map(\.sourceUID) == [1, 2, 3, 4, 5])
        #expect(links.map(\.uid) == [seen, plain, direct, twice, twice])

        // Set here meanwhile: stays.
        _ = try store.storeFlags(
            mailboxID: inbox, uids: [plain], change: .add, flags: ["\\Answered"], unchangedSince: nil)
        let result = try store.syncIMAPMigration(
            accountID: 1, source: Self.source, folder: "INBOX", uidValidity: 7,
            flags: [1: [], 2: ["\\Flagged", "Work"], 3: []], gone: [3, 4])
        #expect(result.flagsChanged == 2)
        #expect(result.expunged == 0)
        var now = try Self.flags(store, inbox)
        #expect(now[seen] == [])
        #expect(now[plain] == ["\\Answered", "\\Flagged", "Work"])
        #expect(now[direct] == ["\\Seen"], "a message that arrived here directly was changed")
        #expect(now[twice] == [], "a copy was removed while a source message was left for it")
        #expect(try store.mailbox(id: inbox)?.keywords.contains("Work") == true)

        // The second source message of the pair goes: so does the copy.
        let last = try store.syncIMAPMigration(
            accountID: 1, source: Self.source, folder: "INBOX", uidValidity: 7, flags: [:], gone: [5])
        #expect(last.expunged == 1)
        now = try Self.flags(store, inbox)
        #expect(now[twice] == nil)
        #expect(try store.expungedSince(mailboxID: inbox, modseq: 0).contains(twice))
        let left = try store.imapMigrationLinks(accountID: 1, source: Self.source, folder: "INBOX", uidValidity: 7)
        #expect(left.map(\.sourceUID) == [1, 2])
        #expect(left.map(\.sourceFlags) == [[], ["\\Flagged", "Work"]])

        // Numbers from another UIDVALIDITY are forgotten; the messages stay.
        try store.forgetIMAPMigrationLinks(accountID: 1, source: Self.source, folder: "INBOX", except: 8)
        #expect(
            try store.imapMigrationLinks(accountID: 1, source: Self.source, folder: "INBOX", uidValidity: 7).isEmpty)
        #expect(try Self.flags(store, inbox).count == 3)
    }
}
