import Foundation
import MIME
import MailCore
import Storage

/// What `mailroom storage compact` did.
public struct CompactionReport: Sendable {
    /// The sweep it starts with (no grace: with the server stopped no delivery is under way).
    public var sweep = BlobSweepReport()
    /// Messages whose text went into the new search index.
    public var reindexed = 0
    /// Messages whose bytes could not be read (a missing blob file): left out of the index.
    public var unreadable: [String] = []
    /// Rows of swept messages deleted from the database.
    public var rowsRemoved = 0
}

extension LocalDelivery {
    /// Sweeps, builds the search index afresh from the messages still stored, and rewrites the
    /// database without free space. Only with the server stopped: the caller holds the data
    /// folder's lock. `progress` hears the count of messages indexed so far, now and then.
    public func compact(progress: (Int) -> Void = { _ in }) throws -> CompactionReport {
        var report = CompactionReport()
        report.sweep = try sweepBlobs(grace: 0, now: Date().addingTimeInterval(1))
        // Messages waiting for the indexer get their IMAP metadata (and words) first: the
        // rebuild reads the messages that have it, and ends the backlog.
        try indexWaitingMessages()
        try store.startSearchIndexRebuild()
        var after: Int64 = 0
        while true {
            let batch = try store.indexedBlobs(after: after, limit: 1_000)
            guard let last = batch.last else { break }
            after = last.rowid
            var rows: [(rowid: Int64, text: SearchText)] = []
            for blob in batch {
                guard let bytes = blob.inline ?? (try? blobs.get(blob.hash)) else {
                    report.unreadable.append(blob.hash)
                    continue
                }
                rows.append((blob.rowid, SearchText(ParsedMessage(parsing: bytes))))
            }
            try store.addToRebuiltSearchIndex(rows)
            report.reindexed += rows.count
            progress(report.reindexed)
        }
        report.rowsRemoved = try store.finishSearchIndexRebuild()
        try SearchIndexer.merge(store: store, until: { false })
        try store.vacuum()
        return report
    }
}
