import Foundation

/// The records of message bytes (blobs, known by their hash): the bytes of small messages kept
/// in the store itself, and the sweep that finds blobs nothing refers to any more so that their
/// files can go. ``SQLiteStore`` is one implementation;
/// `Tests/StorageTests/BlobRecordStoreContractTests.swift` holds the contract any other must
/// pass. Blobs are recorded by the commits that store messages.
public protocol BlobRecordStore: Sendable {
    /// The bytes of a blob kept in the store, or nil when it is a file (or unknown).
    func inlineBlob(_ hash: String) throws -> [UInt8]?
    /// Marks every blob that no message, queue entry, held or quarantined copy refers to, and
    /// frees its inline bytes. Returns how many were marked and the inline bytes freed.
    func markUnreferencedBlobs() throws -> (count: Int, inlineBytes: Int64)
    /// Marked blobs whose file may still be on disk.
    func blobsAwaitingRemoval() throws -> [String]
    /// Records that these blobs' files are removed; a blob stored again meanwhile stays live.
    func blobsRemoved(_ hashes: [String]) throws
    /// Which of these blob files no live record names (files a crash left, or whose removal
    /// was recorded); blobs marked and awaiting removal are the sweep's own and not named.
    func blobsWithoutRecord(_ hashes: [String]) throws -> [String]
}

extension SQLiteStore: BlobRecordStore {}
