import Foundation
import MailCore

/// Looking after the store as a whole: its size, a consistent copy for backups, and giving
/// back free space. ``SQLiteStore`` is one implementation;
/// `Tests/StorageTests/MaintenanceStoreContractTests.swift` holds the contract any other must
/// pass.
public protocol MaintenanceStore: Sendable {
    /// What the store holds: messages and their bytes (inline and in files), blobs awaiting
    /// removal, the search-index backlog, and the store's own size.
    func storageUsage() throws -> StorageUsage
    /// Writes a consistent copy of the store to `path` (one snapshot, while writers carry on)
    /// and returns the hashes of the message files that copy names, by hash (messages kept in
    /// the store itself travel inside the copy).
    func backup(to path: String) throws -> [String]
    /// Gives back the store's free space.
    func vacuum() throws
}

extension SQLiteStore: MaintenanceStore {}
