import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import Storage

/// The delivery path's statements, bound straight into SQLite: each kind of value is stored as
/// GRDB would store it, errors come back as GRDB's, and a statement is ready again after each
/// use, whatever happened in it.
@Suite struct BoundStatementsTests {
    static func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB NOT NULL, o TEXT, u TEXT UNIQUE)
                    """)
        }
        return queue
    }

    static let insert = "INSERT INTO t (i, r, s, b, o, u) VALUES (?, ?, ?, ?, ?, ?)"

    @Test(arguments: [
        ("plain", "ascii", [UInt8]("bytes".utf8)),
        ("empty text and bytes", "", []),
        ("non-ASCII text, bytes with NUL", "Grüße, 日本 ✉︎", [0, 1, 0, 255]),
    ])
    func valuesAreStoredAsGRDBStoresThem(_ label: String, text: String, bytes: [UInt8]) throws {
        let queue = try Self.database()
        try queue.write { db in
            try db.executeBound(Self.insert, Int64(-7), 2.5, text, bytes, String?.none, label)
            try db.execute(sql: Self.insert, arguments: [Int64(-7), 2.5, text, Data(bytes), nil, label + " (GRDB)"])
            let rows = try Row.fetchAll(
                db, sql: "SELECT i, r, s, b, o, typeof(s), typeof(b), typeof(o) FROM t ORDER BY id")
            #expect(rows.count == 2)
            #expect(rows[0]["i"] as Int64 == -7)
            #expect(rows[0]["r"] as Double == 2.5)
            #expect(rows[0]["s"] as String == text)
            #expect([UInt8](rows[0]["b"] as Data) == bytes)
            #expect(rows[0]["o"] as String? == nil)
            // An empty array is an empty BLOB, never NULL (the column is NOT NULL); "" is TEXT.
            #expect(rows[0][5] as String == "text")
            #expect(rows[0][6] as String == "blob")
            #expect(rows[0][7] as String == "null")
            #expect(Array(rows[0].databaseValues.prefix(5)) == Array(rows[1].databaseValues.prefix(5)))
        }
    }

    @Test func intAndOptionalsBindTheirValues() throws {
        let queue = try Self.database()
        try queue.write { db in
            try db.executeBound(
                Self.insert, Int(42), Double?.some(1), String?.some("s"), [UInt8](), String?.some("o"), Int?.none)
            let row = try #require(try Row.fetchOne(db, sql: "SELECT i, r, s, o, u FROM t"))
            #expect(row["i"] as Int == 42)
            #expect(row["r"] as Double == 1)
            #expect(row["o"] as String == "o")
            #expect(row["u"] as String? == nil)
        }
    }

    @Test func firstRowIsReadAndNoRowIsNil() throws {
        let queue = try Self.database()
        try queue.write { db in
            for n in 1...3 { try db.executeBound(Self.insert, n, 0.0, "s\(n)", [UInt8](), String?.none, "u\(n)") }
            let found = try db.fetchFirstBound("SELECT i, s FROM t WHERE i >= ? ORDER BY i", 2) {
                (sqlite3_column_int64($0, 0), String(cString: sqlite3_column_text($0, 1)))
            }
            #expect(found?.0 == 2)
            #expect(found?.1 == "s2")
            #expect(try db.fetchFirstBound("SELECT i FROM t WHERE i > ?", 3) { sqlite3_column_int64($0, 0) } == nil)
            // RETURNING: the change is made, and its row read, with one step.
            let bumped = try db.fetchFirstBound("UPDATE t SET i = i + 10 WHERE u = ? RETURNING i", "u1") {
                sqlite3_column_int64($0, 0)
            }
            #expect(bumped == 11)
            #expect(try Int.fetchOne(db, sql: "SELECT i FROM t WHERE u = 'u1'") == 11)
        }
    }

    @Test func aConstraintFailureIsGRDBsErrorAndTheStatementWorksAfterIt() throws {
        let queue = try Self.database()
        try queue.write { db in
            try db.executeBound(Self.insert, 1, 0.0, "a", [UInt8](), String?.none, "same")
            let error = #expect(throws: DatabaseError.self) {
                try db.executeBound(Self.insert, 2, 0.0, "b", [UInt8](), String?.none, "same")
            }
            #expect(error?.resultCode == .SQLITE_CONSTRAINT)
            #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE)
            #expect(error?.sql == Self.insert)
            // The same cached statement, reset and bound afresh.
            try db.executeBound(Self.insert, 3, 0.0, "c", [UInt8](), String?.none, "other")
            #expect(try Int.fetchAll(db, sql: "SELECT i FROM t ORDER BY id") == [1, 3])
        }
    }

    /// A statement read only to its first row is reset: none is left running (one would keep a
    /// read transaction open on the writer's connection), and an `UPDATE … RETURNING` read so
    /// has made all its changes.
    @Test func noStatementIsLeftRunning() throws {
        let queue = try Self.database()
        try queue.writeWithoutTransaction { db in
            for n in 1...3 { try db.executeBound(Self.insert, n, 0.0, "s", [UInt8](), String?.none, "u\(n)") }
            _ = try db.fetchFirstBound("SELECT i FROM t ORDER BY i") { sqlite3_column_int64($0, 0) }
            _ = try db.fetchFirstBound("UPDATE t SET i = i + 10 RETURNING i") { sqlite3_column_int64($0, 0) }
            var running = 0
            var statement = sqlite3_next_stmt(db.sqliteConnection, nil)
            while let s = statement {
                if sqlite3_stmt_busy(s) != 0 { running += 1 }
                statement = sqlite3_next_stmt(db.sqliteConnection, s)
            }
            #expect(running == 0)
            #expect(sqlite3_get_autocommit(db.sqliteConnection) != 0)
            #expect(try Int.fetchAll(db, sql: "SELECT i FROM t ORDER BY i") == [11, 12, 13])
        }
    }
}
