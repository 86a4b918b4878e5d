import Foundation
import GRDB
import TestSupport
import Testing

@testable import Storage

/// The VFS that writes a delivery's WAL frames with one call (Sources/WALWrites): fewer calls,
/// and every committed byte where other connections, a checkpoint and a reopened database
/// read it.
@Suite struct WALWritesTests {
    func tempDB() throws -> String {
        try Scratch.folder("mailroom-wal").appendingPathComponent("mailroom.db").path
    }

    /// Write system calls made by this thread so far (`syscw` counts write, pwrite and writev).
    static func writeCalls() throws -> Int {
        let io = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
        let line = io.split(separator: "\n").first { $0.hasPrefix("syscw:") }
        return Int(line?.split(separator: " ").last ?? "") ?? -1
    }

    /// A 3,000-byte value that says which row it is, so a page read from the wrong place shows.
    static func payload(_ i: Int) -> Data {
        Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) })
    }

    static func insert(_ rows: Range<Int>, _ db: Database) throws {
        for i in rows { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [i, payload(i)]) }
    }

    @Test func aDeliveryWritesItsWALFramesWithOneCall() throws {
        let store = try SQLiteStore(path: try tempDB())
        try store.writer.write { db in try db.execute(sql: "CREATE TABLE t (i INTEGER PRIMARY KEY, v BLOB)") }
        // The same 20 rows (about 20 pages) stored the way deliveries are, then the way other
        // writes are (GRDB's transaction, SQLite's own two writes a page), on one thread.
        let (delivery, other) = try store.writer.writeWithoutTransaction { db in
            let before = try Self.writeCalls()
            try SQLiteStore.immediateTransaction(db) { db in try Self.insert(0..<20, db) }
            let between = try Self.writeCalls()
            try db.inTransaction(.immediate) {
                try Self.insert(20..<40, db)
                return .commit
            }
            return (between - before, try Self.writeCalls() - between)
        }
        #expect(delivery >= 1 && delivery <= 2, "write calls for a delivery's commit: \(delivery)")
        #expect(other >= 40, "write calls for the same rows without: \(other)")
        #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 40)
    }

    /// Readers on other connections, the checkpoints and a reopened database see every commit
    /// whole, including transactions larger than what the VFS holds (1 MiB) and deliveries
    /// beside writes that are not fsynced (which it passes straight on).
    @Test func everyCommitIsReadWholeElsewhere() throws {
        let path = try tempDB()
        var rows = 0
        var checkpoints = 0
        do {
            let store = try SQLiteStore(path: path)
            try store.writer.write { db in try db.execute(sql: "CREATE TABLE t (i INTEGER PRIMARY KEY, v BLOB)") }
            var config = Configuration()
            config.busyMode = .timeout(5)  // the store's own checkpoints run beside this one's
            let other = try DatabaseQueue(path: path, configuration: config)
            func insert(_ db: Database, count: Int) throws {
                try Self.insert(rows..<rows + count, db)
                rows += count
            }
            for round in 0..<60 {
                // 1,500 rows of 3,000 bytes is about 6 MB, more than the VFS holds at once.
                let count = round == 30 ? 1500 : 1 + round % 7
                try store.deliveryWrite { db in try insert(db, count: count) }
                if round % 5 == 0 { try store.withoutFsync { db in try insert(db, count: 3) } }
                let (seen, last) = try other.read { db in
                    (
                        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t"),
                        try Data.fetchOne(db, sql: "SELECT v FROM t WHERE i = ?", arguments: [rows - 1])
                    )
                }
                #expect(seen == rows)
                #expect(last == Self.payload(rows - 1))
                if round % 10 == 0 {
                    // Busy when the store's own checkpoint is running, which copies the same.
                    let done = try? other.writeWithoutTransaction { db in try db.checkpoint(.passive) }
                    if done != nil { checkpoints += 1 }
                }
            }
            try other.close()
        }
        #expect(checkpoints > 0)
        let reopened = try DatabaseQueue(path: path)
        try reopened.read { db in
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") == rows)
            for row in try Row.fetchAll(db, sql: "SELECT i, v FROM t") {
                let i: Int = row["i"]
                #expect(row["v"] as Data == Self.payload(i))
            }
        }
    }
}
