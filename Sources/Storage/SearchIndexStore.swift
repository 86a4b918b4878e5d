import Foundation

/// The full-text search index's backlog and rebuild. Delivery and APPEND commit a message
/// without its words (writing the index is the costliest part of storing one) or its IMAP
/// metadata; the indexer computes both from one parse and takes them off the backlog in
/// batches, and `mailroom storage compact` builds the index afresh. SEARCH stays
/// exact meanwhile: ``MailboxStore/unindexedUIDs(mailboxID:)`` names the messages still waiting.
/// ``SQLiteStore`` is one implementation; `Tests/StorageTests/SearchIndexStoreContractTests.swift`
/// holds the contract any other must pass.
public protocol SearchIndexStore: Sendable {
    // MARK: Backlog

    /// The oldest `limit` messages waiting to be indexed.
    func indexBacklog(limit: Int) throws -> [PendingIndex]
    /// Adds the words of indexed messages (and `metas`, the IMAP metadata of those stored
    /// without it) and takes `done` off the backlog, in order, in one transaction, and returns
    /// how many of `done` it took (at least one): an implementation
    /// may end the transaction early when a delivery waits to write, so that storing mail never
    /// waits long behind the index; the rest stay waiting. A message another writer took off
    /// meanwhile is not indexed twice.
    @discardableResult
    func finishIndexing(_ rows: [(rowid: Int64, text: SearchText)], metas: [Int64: BlobMeta], done: [Int64]) throws
        -> Int
    /// How many messages wait for the indexer.
    func indexBacklogCount() throws -> Int
    /// Does up to `pages` pages of the index's merging in a transaction of its own; false when
    /// there was none to do. Writes leave merging to this.
    func mergeSearchIndex(pages: Int) throws -> Bool
    /// Up to `limit` messages whose SORT keys were never kept (stored before they were), with
    /// their stored envelopes (nil when gone).
    func sortKeysBacklog(limit: Int) throws -> [(blobID: Int64, envelope: [UInt8]?)]
    /// Keeps `keys` for those of `done` that are still stored, and takes every one of `done`
    /// off that backlog.
    func addSortKeys(_ keys: [Int64: SortKeys], done: [Int64]) throws
    /// Up to `limit` messages whose THREAD keys were never kept, once their SORT keys are.
    func threadKeysBacklog(limit: Int) throws -> [PendingThreadKeys]
    /// Keeps `keys` with the SORT keys of those of `done` that are still stored, and takes
    /// every one of `done` off that backlog.
    func addThreadKeys(_ keys: [Int64: ThreadKeys], done: [Int64]) throws

    // MARK: Rebuild

    /// Live messages' bytes (those a mailbox holds), in index-key order after `rowid`.
    func indexedBlobs(after rowid: Int64, limit: Int) throws -> [IndexedBlob]
    /// Starts an empty index beside the live one (dropping one a cut-off rebuild left).
    func startSearchIndexRebuild() throws
    func addToRebuiltSearchIndex(_ rows: [(rowid: Int64, text: SearchText)]) throws
    /// Puts the rebuilt index in place of the old one and forgets the entries of swept
    /// messages, in one transaction. Returns how many were forgotten.
    func finishSearchIndexRebuild() throws -> Int
}

extension SQLiteStore: SearchIndexStore {}
