import Foundation
import Testing

@testable import Storage
import TestSupport

/// What any ``BlobRecordStore`` must do, run through the protocol against each implementation:
/// SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct BlobRecordStoreContractTests {
    static func store(_ kind: StoreKind) throws -> (
        any BlobRecordStore & MessageCommitStore & MailboxStore, inbox: Int64
    ) {
        let (store, inbox) = try kind.makeWithInbox()
        return (store, inbox)
    }

    @Test(arguments: StoreKind.allCases)
    func theSweepFindsWhatNothingReferences(_ kind: StoreKind) throws {
        let (store, inbox) = try Self.store(kind)
        try store.commit([Mail.commit(1, to: [1]), Mail.commit(2, to: [1], file: true), Mail.commit(3, to: [1])])
        #expect(try store.inlineBlob("hash-1") == Mail.bytes(1))
        #expect(try store.inlineBlob("hash-2") == nil && store.inlineBlob("hash-none") == nil)
        #expect(try store.markUnreferencedBlobs() == (0, 0))
        // Message 1 is expunged; message 3 is copied to Kept first, so its bytes stay referenced.
        try store.createMailbox(accountID: 1, name: "Kept", specialUse: nil)
        let kept = try #require(try store.mailbox(accountID: 1, name: "Kept"))
        _ = try store.copyMessages(from: inbox, uids: [3], to: kept.id, move: false, accountID: 1, quota: 0)
        _ = try store.storeFlags(
            mailboxID: inbox, uids: [1, 3], change: .add, flags: ["\\Deleted"], unchangedSince: nil)
        #expect(try store.expunge(mailboxID: inbox, uids: nil) == [1, 3])
        let marked = try store.markUnreferencedBlobs()
        #expect(marked == (1, Int64(Mail.bytes(1).count)))
        #expect(try store.inlineBlob("hash-1") == nil)
        #expect(try store.blobsAwaitingRemoval() == ["hash-1"])
        #expect(try store.markUnreferencedBlobs() == (0, 0))
        // Marked blobs are the sweep's own; live ones are named; a stray file is not.
        #expect(try store.blobsWithoutRecord(["hash-1", "hash-2", "hash-3", "stray"]) == ["stray"])
        try store.blobsRemoved(["hash-1"])
        #expect(try store.blobsAwaitingRemoval().isEmpty)
        #expect(try store.blobsWithoutRecord(["hash-1", "hash-2"]) == ["hash-1"])
        // Stored again after its file went: live again.
        try store.commit([Mail.commit(1, to: [1])])
        #expect(try store.blobsWithoutRecord(["hash-1"]).isEmpty && store.inlineBlob("hash-1") == Mail.bytes(1))
    }

    @Test(arguments: StoreKind.allCases)
    func aBlobStoredAgainBeforeItsFileGoesStaysLive(_ kind: StoreKind) throws {
        let (store, inbox) = try Self.store(kind)
        try store.commit([Mail.commit(2, to: [1], file: true)])
        _ = try store.storeFlags(mailboxID: inbox, uids: [1], change: .add, flags: ["\\Deleted"], unchangedSince: nil)
        _ = try store.expunge(mailboxID: inbox, uids: nil)
        #expect(try store.markUnreferencedBlobs().count == 1)
        #expect(try store.blobsAwaitingRemoval() == ["hash-2"])
        // The same bytes arrive while the sweeper is removing the file: it must keep it.
        try store.commit([Mail.commit(2, to: [1], file: true)])
        try store.blobsRemoved(["hash-2"])
        #expect(try store.blobsAwaitingRemoval().isEmpty)
        #expect(try store.blobsWithoutRecord(["hash-2"]).isEmpty)
        #expect(try store.markUnreferencedBlobs().count == 0)
    }
}
