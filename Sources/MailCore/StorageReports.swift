import Foundation

/// What one sweep of unreferenced message bytes found and freed.
public struct BlobSweepReport: Codable, Hashable, Sendable {
    /// Blobs no message, queue entry or held message refers to any more, found by this sweep.
    public var unreferenced = 0
    /// Bytes of those that were kept inside the database and are now freed.
    public var inlineBytesFreed: Int64 = 0
    /// Blob files removed, and their bytes.
    public var filesRemoved = 0
    public var fileBytesFreed: Int64 = 0
    /// Unreferenced files left for a later sweep because they were written or reused moments ago
    /// (a delivery of the same bytes may be about to refer to them).
    public var filesKept = 0
    /// Files no message record names, left by deliveries that failed or were cut off (a crash,
    /// `kill -9`) between writing the bytes and committing, and their bytes. Temporary files
    /// of interrupted writes are counted here too.
    public var strayFilesRemoved = 0
    public var strayBytesFreed: Int64 = 0

    public init() {}
}

/// What the message store holds, for `mailroom storage show`: enough to tell whether a sweep or
/// a compaction would give space back.
public struct StorageUsage: Codable, Hashable, Sendable {
    /// The database file's pages, and those of them that are free (reused by new data; given
    /// back to the disk only by `mailroom storage compact`).
    public var databaseBytes: Int64 = 0
    public var freeBytes: Int64 = 0
    /// Mailbox entries, and the distinct messages behind them (stored once however many
    /// mailboxes hold them).
    public var mailboxEntries = 0
    public var storedMessages = 0
    /// Bytes of stored messages kept inside the database.
    public var inlineBytes: Int64 = 0
    /// Stored messages kept as files in `blobs/`, and their bytes.
    public var files = 0
    public var fileBytes: Int64 = 0
    /// Messages found unreferenced whose file a later sweep removes.
    public var awaitingRemoval = 0
    /// Records of swept messages: their words stay in the search index until a compaction.
    public var sweptRecords = 0
    /// Delivered messages the background indexer has not added to the search index yet
    /// (SEARCH reads them directly meanwhile).
    public var indexBacklog = 0

    public init() {}
}
