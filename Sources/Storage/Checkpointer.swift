import Foundation
import GRDB
import GRDBSQLite
import Offload
import Synchronization

/// Copies the WAL back into the database file (a checkpoint) off the path of the commits.
///
/// SQLite checkpoints on the connection that commits, once the WAL holds 1,000 pages: for a
/// single sending session that was every 30-odd messages, and the delivery that tripped it
/// waited 5–8 ms (1,000 pages copied and the database file fsynced) before its 250. The
/// writer's own checkpoint is off; its WAL hook wakes this checkpointer instead, which runs a
/// PASSIVE checkpoint on a connection of its own on the blocking pool while the writer goes on
/// appending to the WAL.
///
/// SQLite only starts the WAL over from its beginning when a write begins after a checkpoint
/// that copied every frame. Under steady writes the background checkpoint never quite catches
/// up (the writer has always appended more by the time it ends), so the WAL grew without end: a
/// 100,000-message import left a 909 MB WAL. Once the WAL holds ``catchUpPages``, the writer
/// itself checkpoints after its commit, as SQLite would: little is left to copy, since the
/// background has copied the rest, and its next write starts the WAL over.
final class Checkpointer: Sendable {
    /// WAL pages after a commit that ask for a checkpoint (SQLite's own default).
    static let pages: Int32 = 1000
    /// WAL pages after a commit at which the writer checkpoints on its own connection.
    static let catchUpPages: Int32 = 4000
    /// Bytes the WAL file keeps when it starts over (the pages above, and room to spare).
    static let walSizeLimit = 32 * 1024 * 1024

    private let path: String
    private let pool: BlockingPool
    /// Opened on the first checkpoint: most stores (tests, tools) never need one.
    private let connection = Mutex<DatabaseQueue?>(nil)
    private let running = Atomic<Bool>(false)
    private let stats = Mutex<(runs: Int, failures: Int)>((0, 0))

    init(path: String, pool: BlockingPool = .shared) {
        self.path = path
        self.pool = pool
    }

    /// Takes the checkpoints of `writer`'s connection over (its automatic checkpoint stops).
    func takeOver(_ writer: any DatabaseWriter) throws {
        // The hook holds a weak reference in a box it keeps: the store (and this checkpointer)
        // may go while the connection lives on a moment longer.
        let box = Unmanaged.passRetained(Box(self)).toOpaque()
        try writer.writeWithoutTransaction { db in
            _ = sqlite3_wal_hook(db.sqliteConnection, { context, connection, name, pages in
                if pages >= Checkpointer.catchUpPages {
                    // On the writer, as SQLite's own automatic checkpoint does from this hook.
                    _ = sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                    return SQLITE_OK
                }
                guard let context else { return SQLITE_OK }
                Unmanaged<Box>.fromOpaque(context).takeUnretainedValue().checkpointer?.committed(walPages: pages)
                return SQLITE_OK
            }, box)
            // The WAL file is cut back to this when it starts over, after a burst grew it.
            try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        }
    }

    /// Checkpoints run (and failed, left to the next commit's call), for tests.
    var runs: (runs: Int, failures: Int) { stats.withLock { $0 } }

    /// After each commit of the writer, on its thread: must not block.
    func committed(walPages: Int32) {
        guard walPages >= Self.pages,
            running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        pool.submit { self.checkpoint() }
    }

    /// A PASSIVE checkpoint: copies what no reader still needs, waiting for nobody.
    func checkpoint() {
        defer { running.store(false, ordering: .releasing) }
        do {
            let queue = try connection.withLock { c in
                if let c { return c }
                var config = Configuration()
                config.busyMode = .timeout(5)
                let opened = try DatabaseQueue(path: path, configuration: config)
                c = opened
                return opened
            }
            _ = try queue.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            stats.withLock { $0.runs += 1 }
        } catch {
            // Busy (another checkpoint) or unreadable: the WAL keeps growing until the next
            // commit asks again.
            stats.withLock { $0.failures += 1 }
        }
    }

    private final class Box {
        weak var checkpointer: Checkpointer?
        init(_ checkpointer: Checkpointer) { self.checkpointer = checkpointer }
    }
}
