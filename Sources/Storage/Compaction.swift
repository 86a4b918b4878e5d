import Foundation
import GRDB

/// A blob the search index has a row for: its index rowid, and its bytes when kept inline.
public struct IndexedBlob: Sendable {
    public let rowid: Int64
    public let hash: String
    public let inline: [UInt8]?
}

/// Rebuilding the full-text index and shrinking the database file, for `mailroom storage
/// compact` with the server stopped. The contentless index cannot drop a swept message's row
/// (that needs its text, which is gone), so its size only grows until it is built afresh from
/// the messages that are still there.
extension SQLiteStore {
    /// Live blobs a mailbox holds (those the search index is for), in rowid order after `rowid`.
    public func indexedBlobs(after rowid: Int64, limit: Int) throws -> [IndexedBlob] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT b.rowid, b.hash, b.data FROM blobs b
                    WHERE b.gone = 0 AND b.rowid > ? AND EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = b.rowid)
                    ORDER BY b.rowid LIMIT ?
                    """,
                arguments: [rowid, limit]
            ).map { IndexedBlob(rowid: $0[0], hash: $0[1], inline: ($0[2] as Data?).map { Array($0) }) }
        }
    }

    /// Starts an empty index beside the live one (dropping one a cut-off rebuild left).
    public func startSearchIndexRebuild() throws {
        try writer.write { db in
            try db.execute(sql: "DROP TABLE IF EXISTS blob_text_rebuild")
            try db.execute(sql: "CREATE VIRTUAL TABLE blob_text_rebuild USING fts5(\(Schema.searchIndexColumns))")
            try Schema.setSearchIndexMerging("blob_text_rebuild", db)
        }
    }

    public func addToRebuiltSearchIndex(_ rows: [(rowid: Int64, text: SearchText)]) throws {
        guard !rows.isEmpty else { return }
        try writer.write { db in
            let insert = try db.makeStatement(
                sql: "INSERT INTO blob_text_rebuild (rowid, subject, from_addr, to_addr, cc, bcc, headers, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for (rowid, t) in rows {
                try insert.execute(arguments: [rowid, t.subject, t.from, t.to, t.cc, t.bcc, t.headers, t.body])
            }
        }
    }

    /// Puts the rebuilt index in place of the old one and deletes the rows of swept blobs,
    /// which no index row names any more; in one transaction. Blobs still waiting for their
    /// file to go lose their stored ENVELOPE (blob_meta), so that storing them again indexes
    /// them again.
    /// Returns how many rows were deleted.
    public func finishSearchIndexRebuild() throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM blob_meta WHERE blob_id IN (SELECT rowid FROM blobs WHERE gone != 0)")
            // A swept blob is one no message uses; asked again all the same, as no foreign key
            // does since v30.
            try db.execute(
                sql: """
                    DELETE FROM blobs WHERE gone = 2 AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = blobs.rowid)
                    """)
            let removed = db.changesCount
            // The copies v24-blob-meta left behind in databases from before it.
            try db.execute(
                sql: """
                    UPDATE blobs SET envelope = NULL, bodystructure = NULL, body_simple = NULL, sent_date = NULL, sent_zone = NULL
                    WHERE envelope IS NOT NULL
                    """)
            try db.execute(sql: "DROP TABLE blob_text")
            try db.execute(sql: "ALTER TABLE blob_text_rebuild RENAME TO blob_text")
            // The rebuilt index holds every live message, those that waited for the indexer too.
            try db.execute(sql: "DELETE FROM index_backlog")
            return removed
        }
    }

    /// Rewrites the database file without its free pages, and empties the write-ahead log.
    public func vacuum() throws {
        try writer.vacuum()
        try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}
