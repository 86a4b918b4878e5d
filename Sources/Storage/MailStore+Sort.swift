import GRDB
import GRDBSQLite

extension SQLiteStore {

    /// The stored columns SORT and THREAD read, for the messages in a UID range in UID order,
    /// row by row and without copying the envelopes: sorting a large mailbox reads no message.
    /// Without `envelopes`, the envelope column is not read (nil in every row).
    /// The columns are in blob_meta, apart from the message bytes (see v24-blob-meta).
    public func scanSortFields(
        mailboxID: Int64, uids lo: Int64, _ hi: Int64, envelopes: Bool, _ body: (SortScanRow) -> Void
    ) throws {
        let sql = """
            SELECT m.uid, m.internal_date, m.size, \(envelopes ? "bm.envelope" : "NULL"), bm.sent_date, bm.blob_id IS NOT NULL
            FROM messages m JOIN blobs b ON b.hash = m.blob_hash LEFT JOIN blob_meta bm ON bm.blob_id = b.rowid
            WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid
            """
        try writer.read { db in
            let statement = try db.makeStatement(sql: sql)
            try statement.setArguments([mailboxID, lo, hi])
            let s = statement.sqliteStatement
            defer { sqlite3_reset(s) }
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { return }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(
                        resultCode: ResultCode(rawValue: rc),
                        message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                let envelope =
                    sqlite3_column_type(s, 3) == SQLITE_NULL
                    ? nil
                    : UnsafeRawBufferPointer(start: sqlite3_column_blob(s, 3), count: Int(sqlite3_column_bytes(s, 3)))
                body(
                    SortScanRow(
                        uid: sqlite3_column_int64(s, 0), internalDate: sqlite3_column_double(s, 1),
                        size: sqlite3_column_int64(s, 2),
                        envelope: envelope,
                        sentDate: sqlite3_column_type(s, 4) == SQLITE_NULL ? nil : sqlite3_column_double(s, 4),
                        stored: sqlite3_column_int(s, 5) != 0))
            }
        }
    }
}
