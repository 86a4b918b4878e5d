import GRDB
import GRDBSQLite

/// A value a statement of the delivery path binds straight into SQLite (see
/// `Database.executeBound`).
protocol DirectBindable {
    /// Binds the value to parameter `index` (from 1); SQLite's result code.
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
}

/// SQLite copies what it is given with this destructor, so the Swift value may go at once.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension Int64: DirectBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self) }
}

extension Int: DirectBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, Int64(self))
    }
}

extension Double: DirectBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_double(statement, index, self) }
}

extension String: DirectBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        var copy = self
        return copy.withUTF8 { bytes in
            // "" has no buffer, and a nil pointer would bind NULL.
            guard let start = bytes.baseAddress else { return sqlite3_bind_text(statement, index, "", 0, transient) }
            return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text(statement, index, $0, Int32(bytes.count), transient)
            }
        }
    }
}

extension Array: DirectBindable where Element == UInt8 {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        // An empty BLOB, not NULL (what a nil pointer would bind): `header_prefix` is NOT NULL.
        guard !isEmpty else { return sqlite3_bind_zeroblob(statement, index, 0) }
        return withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
    }
}

extension Optional: DirectBindable where Wrapped: DirectBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        guard let self else { return sqlite3_bind_null(statement, index) }
        return self.bind(to: statement, at: index)
    }
}

extension Database {
    /// Runs the cached statement `sql` with `values` bound straight into SQLite, for the
    /// statements every accepted message runs.
    ///
    /// GRDB's `execute(arguments:)` first makes each argument a `DatabaseValue` in an array of
    /// existentials (an allocation or two per value, and `Data` copies of byte arrays): on the
    /// path of each message (a dozen statements, some with a dozen values) that cost about as
    /// much CPU as SQLite's own work in them (perf, at one sending session).
    func executeBound<each V: DirectBindable>(_ sql: String, _ values: repeat each V) throws {
        let statement = try bound(sql, repeat each values)
        defer { sqlite3_reset(statement) }
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code, sql) }
    }

    /// Runs the cached statement `sql` with `values` bound straight into SQLite (see
    /// ``executeBound(_:_:)``) and reads its first row with `row`; nil when it has none.
    func fetchFirstBound<each V: DirectBindable, Value>(
        _ sql: String, _ values: repeat each V, row: (OpaquePointer) -> Value
    ) throws -> Value? {
        let statement = try bound(sql, repeat each values)
        defer { sqlite3_reset(statement) }
        let code = sqlite3_step(statement)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw failure(code, sql) }
        return row(statement)
    }

    private func bound<each V: DirectBindable>(_ sql: String, _ values: repeat each V) throws -> OpaquePointer {
        let statement = try cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(statement)
        var index: Int32 = 1
        for value in repeat each values {
            let code = value.bind(to: statement, at: index)
            guard code == SQLITE_OK else { throw failure(code, sql) }
            index += 1
        }
        precondition(Int(sqlite3_bind_parameter_count(statement)) == index - 1, "\(sql): wrong number of values")
        return statement
    }

    /// SQLite's error `code` from a statement stepped or bound outside GRDB, as GRDB reports it.
    func failure(_ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqliteConnection)),
            sql: sql)
    }
}
