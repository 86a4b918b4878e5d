import Foundation
import MailCore
import Testing

@testable import Storage
import TestSupport

/// What any ``MaintenanceStore`` must do, run through the protocol against each implementation:
/// SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct MaintenanceStoreContractTests {
    @Test(arguments: StoreKind.allCases)
    func usageCountsWhatIsStoredAndABackupNamesItsFiles(_ kind: StoreKind) throws {
        let store: any MaintenanceStore & MessageCommitStore & BlobRecordStore = try kind.make(accounts: [
            "ann@example.org", "bob@example.org",
        ])
        try store.commit([
            Mail.commit(1, to: [1, 2]), Mail.commit(2, to: [1], file: true),
            Mail.commit(3, to: [2], file: true, indexed: false),
        ])
        let usage = try store.storageUsage()
        #expect(usage.mailboxEntries == 4 && usage.storedMessages == 3)
        #expect(usage.inlineBytes == Int64(Mail.bytes(1).count))
        #expect(usage.files == 2 && usage.fileBytes == Int64(Mail.bytes(2).count + Mail.bytes(3).count))
        #expect(usage.indexBacklog == 1 && usage.awaitingRemoval == 0)
        #expect(usage.databaseBytes > 0)

        let folder = Scratch.url("mailroom-backup")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("copy").path
        #expect(try store.backup(to: copy) == ["hash-2", "hash-3"])
        #expect(FileManager.default.fileExists(atPath: copy))

        try store.vacuum()
        let after = try store.storageUsage()
        #expect(after.storedMessages == 3 && after.mailboxEntries == 4)
        #expect(try store.inlineBlob("hash-1") == Mail.bytes(1))
    }
}
