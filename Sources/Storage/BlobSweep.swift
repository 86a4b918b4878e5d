import Foundation
import GRDB
import MailCore

extension SQLiteStore {
    /// Blobs examined per write transaction when marking, so that deliveries wait at most one
    /// short batch for the writer.
    static let sweepBatch: Int64 = 5_000

    /// Marks every blob that nothing refers to (counting the references again rather than
    /// trusting `refs`, which account removal does not lower) and frees its inline bytes.
    /// Returns how many were marked and the inline bytes freed.
    public func markUnreferencedBlobs() throws -> (count: Int, inlineBytes: Int64) {
        let top = try writer.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM blobs") } ?? 0
        var from: Int64 = 0
        var count = 0
        var bytes: Int64 = 0
        while from < top {
            let to = from + Self.sweepBatch
            try writer.write { db in
                // One pass finds them (the reference checks are the costly part); the update
                // then goes by rowid.
                let found = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT rowid, length(data) FROM blobs
                        WHERE gone = 0 AND rowid > ? AND rowid <= ?
                        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = blobs.rowid)
                        AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.blob_hash = blobs.hash)
                        AND NOT EXISTS (SELECT 1 FROM held h WHERE h.blob_hash = blobs.hash)
                        AND NOT EXISTS (SELECT 1 FROM quarantine qq WHERE qq.blob_hash = blobs.hash)
                        """,
                    arguments: [from, to])
                guard !found.isEmpty else { return }
                count += found.count
                bytes += found.reduce(0) { $0 + ($1[1] as Int64? ?? 0) }
                let rowids = found.map { String($0[0] as Int64) }.joined(separator: ",")
                try db.execute(sql: "UPDATE blobs SET gone = 1, refs = 0, data = NULL WHERE rowid IN (\(rowids))")
            }
            from = to
        }
        return (count, bytes)
    }

    /// Marked blobs whose file may still be on disk.
    public func blobsAwaitingRemoval() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "SELECT hash FROM blobs WHERE gone = 1") }
    }

    /// Records that these blobs' files are removed; a blob stored again meanwhile stays live.
    public func blobsRemoved(_ hashes: [String]) throws {
        guard !hashes.isEmpty else { return }
        try writer.write { db in
            for hash in hashes {
                try db.execute(sql: "UPDATE blobs SET gone = 2 WHERE hash = ? AND gone = 1", arguments: [hash])
            }
        }
    }

    /// Which of these blob files no live record names: no row at all, or a row whose file was
    /// already removed (`gone = 2`). Rows marked for removal (`gone = 1`) are the sweep's own.
    public func blobsWithoutRecord(_ hashes: [String]) throws -> [String] {
        guard !hashes.isEmpty else { return [] }
        return try writer.read { db in
            var named = Set<String>()
            for start in stride(from: 0, to: hashes.count, by: 500) {
                let chunk = Array(hashes[start..<min(start + 500, hashes.count)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                named.formUnion(
                    try String.fetchAll(
                        db, sql: "SELECT hash FROM blobs WHERE gone < 2 AND hash IN (\(marks))", arguments: StatementArguments(chunk)))
            }
            return hashes.filter { !named.contains($0) }
        }
    }
}

extension SQLiteStore {
    public func storageUsage() throws -> StorageUsage {
        try writer.read { db in
            var u = StorageUsage()
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            u.databaseBytes = (try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0) * pageSize
            u.freeBytes = (try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0) * pageSize
            u.mailboxEntries = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages") ?? 0
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FILTER (WHERE gone = 0),
                           TOTAL(length(data)) FILTER (WHERE gone = 0),
                           COUNT(*) FILTER (WHERE gone = 0 AND data IS NULL),
                           TOTAL(size) FILTER (WHERE gone = 0 AND data IS NULL),
                           COUNT(*) FILTER (WHERE gone = 1),
                           COUNT(*) FILTER (WHERE gone = 2)
                    FROM blobs
                    """)
            if let row {
                u.storedMessages = row[0]
                u.inlineBytes = Int64(row[1] as Double)
                u.files = row[2]
                u.fileBytes = Int64(row[3] as Double)
                u.awaitingRemoval = row[4]
                u.sweptRecords = row[5]
            }
            u.indexBacklog = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM index_backlog") ?? 0
            return u
        }
    }
}
