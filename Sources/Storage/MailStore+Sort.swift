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
            FROM messages m LEFT JOIN blob_meta bm ON bm.blob_id = m.blob_id
            WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid
            """
        try scanRows(sql: sql, [mailboxID, lo, hi]) { s in
            body(
                SortScanRow(
                    uid: sqlite3_column_int64(s, 0), internalDate: sqlite3_column_double(s, 1),
                    size: sqlite3_column_int64(s, 2), envelope: Self.bytes(s, 3),
                    sentDate: sqlite3_column_type(s, 4) == SQLITE_NULL ? nil : sqlite3_column_double(s, 4),
                    stored: sqlite3_column_int(s, 5) != 0))
        }
    }

    /// The kept SORT keys (see ``SortKeys``) of the messages in a UID range, in UID order, row
    /// by row: about 100 bytes per message, where the envelopes are 600. Reads no blob_meta
    /// row: a row without keys (`keys` nil) is read with ``scanSortFields``.
    public func scanSortKeys(mailboxID: Int64, uids lo: Int64, _ hi: Int64, _ body: (SortKeyRow) -> Void) throws {
        let sql = """
            SELECT m.uid, m.internal_date, m.size, sk.sent_date, sk.blob_id IS NOT NULL,
                sk.subject, sk.from_addr, sk.to_addr, sk.cc_addr, sk.from_name, sk.to_name, sk.thread
            FROM messages m LEFT JOIN sort_keys sk ON sk.blob_id = m.blob_id
            WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid
            """
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        try scanRows(sql: sql, [mailboxID, lo, hi]) { s in
            let kept = sqlite3_column_int(s, 4) != 0
            func key(_ c: Int32) -> UnsafeRawBufferPointer { Self.bytes(s, c) ?? empty }
            body(
                SortKeyRow(
                    uid: sqlite3_column_int64(s, 0), internalDate: sqlite3_column_double(s, 1),
                    size: sqlite3_column_int64(s, 2),
                    sentDate: sqlite3_column_type(s, 3) == SQLITE_NULL ? nil : sqlite3_column_double(s, 3),
                    keys: kept
                        ? SortKeyRow.Keys(
                            subject: key(5), from: key(6), to: key(7), cc: key(8), fromName: key(9), toName: key(10),
                            thread: Self.bytes(s, 11))
                        : nil))
        }
    }

    /// Steps a statement, handing each row over in place: what the scans of whole mailboxes
    /// use, so that no value is built per row.
    func scanRows(sql: String, _ arguments: StatementArguments, _ row: (OpaquePointer) -> Void) throws {
        try writer.read { db in
            let statement = try db.makeStatement(sql: sql)
            try statement.setArguments(arguments)
            let s = statement.sqliteStatement
            defer { sqlite3_reset(s) }
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { return }
                guard rc == SQLITE_ROW else { throw db.failure(rc, sql) }
                row(s)
            }
        }
    }

    /// A BLOB or TEXT column of the current row, nil when NULL; valid until the next step.
    static func bytes(_ s: OpaquePointer, _ column: Int32) -> UnsafeRawBufferPointer? {
        guard sqlite3_column_type(s, column) != SQLITE_NULL else { return nil }
        return UnsafeRawBufferPointer(
            start: sqlite3_column_blob(s, column), count: Int(sqlite3_column_bytes(s, column)))
    }
}
