import Foundation
import GRDB
import Synchronization

/// A message waiting for the search indexer: its blob's rowid (the index row's key), and its
/// bytes when kept inline (else they are read from the blob file).
public struct PendingIndex: Sendable {
    public let rowid: Int64
    public let hash: String
    public let inline: [UInt8]?
    /// Swept since it was stored: nothing to index.
    public let gone: Bool
    /// Stored without its IMAP metadata (blob_meta), which the indexer adds with its words.
    public let needsMeta: Bool
}

/// A message waiting for its THREAD keys (``SQLiteStore/threadKeysBacklog(limit:)``).
public struct PendingThreadKeys: Sendable {
    public let blobID: Int64
    /// Nil when the blob's row is gone.
    public let hash: String?
    public let inline: [UInt8]?
    /// Swept since it was stored, or its row is gone: nothing to keep.
    public let gone: Bool
    /// The stored ENVELOPE, for the subject; nil once its metadata is gone.
    public let envelope: [UInt8]?
}

/// The search-index backlog: delivery commits a message without its words (writing the
/// trigram index is the costliest part of storing one), and the indexer adds them in batches
/// afterwards. SEARCH stays exact meanwhile: messages in the backlog are read directly.
extension SQLiteStore {
    /// The oldest `limit` messages waiting to be indexed.
    public func indexBacklog(limit: Int) throws -> [PendingIndex] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT b.rowid, b.hash, b.data, b.gone, bm.blob_id IS NULL
                    FROM index_backlog q JOIN blobs b ON b.rowid = q.blob_rowid LEFT JOIN blob_meta bm ON bm.blob_id = b.rowid
                    ORDER BY q.blob_rowid LIMIT ?
                    """,
                arguments: [limit]
            ).map {
                PendingIndex(
                    rowid: $0[0], hash: $0[1], inline: ($0[2] as Data?).map { Array($0) }, gone: ($0[3] as Int) != 0,
                    needsMeta: $0[4])
            }
        }
    }

    /// Adds the words of indexed messages, and the IMAP metadata in `metas` of those stored
    /// without it, and takes every one of `done` off the backlog, in one transaction. A
    /// message another writer took off meanwhile is not indexed twice. A
    /// swept message (in `done`, without text) loses its cached ENVELOPE, so that storing the
    /// same bytes again indexes them again.
    ///
    /// A delivery waiting for the writer ends the transaction once ``indexedBeforeYielding``
    /// messages are in: indexing a message is the costliest write there is (about 0.2 ms), and
    /// a transaction of 64 kept a single session's next message waiting 10 to 30 ms. The
    /// transaction is not fsynced: losing it in a crash loses its backlog rows' removal with
    /// it, so the messages are indexed again, and the next delivery's fsync covers it anyway.
    @discardableResult
    public func finishIndexing(_ rows: [(rowid: Int64, text: SearchText)], metas: [Int64: BlobMeta], done: [Int64])
        throws -> Int
    {
        guard !done.isEmpty else { return 0 }
        let texts = Dictionary(rows.map { ($0.rowid, $0.text) }, uniquingKeysWith: { a, _ in a })
        return try withoutFsync { db in
            var taken = 0
            try Self.index(
                done, texts: texts, metas: metas, taken: &taken,
                yield: { deliveriesWaiting.load(ordering: .relaxed) > 0 }, db)
            return taken
        }
    }

    /// Messages indexed in a transaction before a waiting delivery ends it.
    static let indexedBeforeYielding = 8

    /// The search text goes in last, after every other write of the transaction: FTS5 writes
    /// its pending terms out as a segment of their own at every statement savepoint, and a
    /// statement that may write several rows opens one (an INSERT … SELECT; a DELETE that
    /// cascades). Between the messages' texts, such a statement made a segment per message
    /// instead of one per transaction, and merging them doubled the indexer's CPU.
    private static func index(
        _ done: [Int64], texts: [Int64: SearchText], metas: [Int64: BlobMeta], taken: inout Int, yield: () -> Bool,
        _ db: Database
    ) throws {
        let take = try db.makeStatement(sql: "DELETE FROM index_backlog WHERE blob_rowid = ?")
        var searchable: [(rowid: Int64, text: SearchText)] = []
        for rowid in done {
            if taken >= indexedBeforeYielding, yield() { break }
            taken += 1
            try take.execute(arguments: [rowid])
            guard db.changesCount == 1 else { continue }
            if let t = texts[rowid] {
                searchable.append((rowid, t))
                if let meta = metas[rowid] { try insertMeta(meta, blob: rowid, db) }
            } else {
                try db.execute(
                    sql: "DELETE FROM blob_meta WHERE blob_id = ? AND (SELECT gone FROM blobs WHERE rowid = ?) != 0",
                    arguments: [rowid, rowid])
            }
        }
        let insert = try db.makeStatement(
            sql:
                "INSERT INTO blob_text (rowid, subject, from_addr, to_addr, cc, bcc, headers, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        for (rowid, t) in searchable {
            try insert.execute(arguments: [rowid, t.subject, t.from, t.to, t.cc, t.bcc, t.headers, t.body])
        }
    }

    /// Does up to `pages` pages of the search index's merging, in a transaction of its own
    /// (not fsynced, as indexing: a merge lost in a crash is done again), and says whether
    /// there was any to do: a level that gathered 16 segments, or a merge begun. Writes do not
    /// merge (see ``Schema/setSearchIndexMerging(_:_:)``); the indexer calls this until it
    /// says no, and a delivery waits for one step at most.
    public func mergeSearchIndex(pages: Int) throws -> Bool {
        try withoutFsync { db in
            let before = db.totalChangesCount
            try db.execute(sql: "INSERT INTO blob_text (blob_text, rank) VALUES ('merge', ?)", arguments: [pages])
            // FTS5 documents this test: a merge that did work changed at least two rows.
            return db.totalChangesCount - before >= 2
        }
    }

    /// Up to `limit` messages stored before sort keys were kept (v26-sort-keys), with their
    /// envelopes.
    public func sortKeysBacklog(limit: Int) throws -> [(blobID: Int64, envelope: [UInt8]?)] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT q.blob_id, bm.envelope FROM sort_keys_backlog q LEFT JOIN blob_meta bm ON bm.blob_id = q.blob_id
                    ORDER BY q.blob_id LIMIT ?
                    """,
                arguments: [limit]
            ).map { ($0[0], ($0[1] as Data?).map { Array($0) }) }
        }
    }

    /// Keeps `keys` for the messages that still have their envelope, and takes every one of
    /// `done` off the sort keys' backlog, in one transaction (not fsynced: lost in a crash, it
    /// is done again).
    public func addSortKeys(_ keys: [Int64: SortKeys], done: [Int64]) throws {
        try withoutFsync { db in
            let take = try db.makeStatement(sql: "DELETE FROM sort_keys_backlog WHERE blob_id = ?")
            let meta = try db.makeStatement(sql: "SELECT sent_date FROM blob_meta WHERE blob_id = ?")
            for blob in done {
                try take.execute(arguments: [blob])
                // Nothing for a message swept meanwhile: its blob_meta row is gone.
                guard let k = keys[blob], let row = try Row.fetchOne(meta, arguments: [blob]) else { continue }
                try Self.insertSortKeys(k, blob: blob, sentDate: row[0], db)
            }
        }
    }

    /// Up to `limit` messages stored before THREAD's keys were kept (v28-thread-keys), with
    /// what the indexer reads them from: the message (its bytes when kept in the database, else
    /// its file's hash) and the stored envelope, for the subject. Messages whose SORT keys wait
    /// (sort_keys_backlog) wait too: their keys' row is not there yet.
    public func threadKeysBacklog(limit: Int) throws -> [PendingThreadKeys] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT q.blob_id, b.hash, b.data, b.gone, bm.envelope FROM thread_keys_backlog q
                    LEFT JOIN blobs b ON b.rowid = q.blob_id LEFT JOIN blob_meta bm ON bm.blob_id = q.blob_id
                    WHERE NOT EXISTS (SELECT 1 FROM sort_keys_backlog s WHERE s.blob_id = q.blob_id)
                    ORDER BY q.blob_id LIMIT ?
                    """,
                arguments: [limit]
            ).map {
                PendingThreadKeys(
                    blobID: $0[0], hash: $0[1], inline: ($0[2] as Data?).map { Array($0) },
                    gone: ($0[3] as Int?).map { $0 != 0 } ?? true, envelope: ($0[4] as Data?).map { Array($0) })
            }
        }
    }

    /// Keeps `keys` with the SORT keys of those of `done` still stored, and takes every one of
    /// `done` off the thread keys' backlog, in one transaction (not fsynced, as ``addSortKeys(_:done:)``).
    public func addThreadKeys(_ keys: [Int64: ThreadKeys], done: [Int64]) throws {
        try withoutFsync { db in
            let take = try db.makeStatement(sql: "DELETE FROM thread_keys_backlog WHERE blob_id = ?")
            let keep = try db.makeStatement(sql: "UPDATE sort_keys SET thread = ? WHERE blob_id = ? AND thread IS NULL")
            for blob in done {
                try take.execute(arguments: [blob])
                if let k = keys[blob] { try keep.execute(arguments: [Data(k.encoded), blob]) }
            }
        }
    }

    /// How many messages wait for the indexer.
    public func indexBacklogCount() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM index_backlog") ?? 0 }
    }

    /// UIDs of the mailbox's messages that are not in the search index yet. Ask this before
    /// the index: a message the indexer moves between the two answers is then in one of them.
    /// The join goes from the (usually empty) backlog outwards, not from every message or blob
    /// to the backlog (10 ms per SEARCH on 100,000 messages, scanning the blobs).
    public func unindexedUIDs(mailboxID: Int64) throws -> [Int64] {
        try writer.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT m.uid FROM index_backlog q
                    CROSS JOIN messages m INDEXED BY messages_blob_id ON m.blob_id = q.blob_rowid
                    WHERE m.mailbox_id = ? ORDER BY m.uid
                    """,
                arguments: [mailboxID])
        }
    }
}
