import Dispatch
import Foundation
import Logging
import MIME
import Storage
import Synchronization

/// Adds delivered messages to the search index in the background, in batches, so that the
/// index (trigrams of every header and text part: the costliest write of a delivery) is not on
/// the path to 250. Runs on a thread of its own, woken after each commit that left messages
/// unindexed; SEARCH reads messages still waiting directly, so answers stay exact.
final class SearchIndexer: Sendable {
    private let store: SQLiteStore
    private let blobs: BlobStore
    private let logger: Logger
    private let wakeup = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// `pending`: a signal came since the thread last looked, so a burst of commits wakes it
    /// once, not once per commit.
    private let state = Mutex<(stopped: Bool, running: Bool, pending: Bool)>((false, false, false))
    /// Messages per transaction: small enough that a commit waiting for the writer waits
    /// a few milliseconds, large enough that the index's own per-transaction cost is shared.
    static let batch = 64
    /// How long the indexer lets new mail gather after it is woken: one commit per message (a
    /// single sending session) would otherwise get an indexing transaction, and its fsync, each.
    static let gather: TimeInterval = 0.2

    init(store: SQLiteStore, blobs: BlobStore, logger: Logger = Logger(label: "mailroom.indexer")) {
        self.store = store
        self.blobs = blobs
        self.logger = logger
    }

    /// Starts the thread; it first works off whatever an earlier run left waiting.
    func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "mailroom-index"
        state.withLock { $0.running = true }
        thread.start()
        signal()
    }

    /// Something new waits to be indexed.
    func signal() {
        let wake = state.withLock { s -> Bool in
            defer { s.pending = true }
            return !s.pending
        }
        if wake { wakeup.signal() }
    }

    /// Finishes the batch under way and stops the thread (what waits stays in the backlog).
    func stop() {
        let running = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return s.running && !s.stopped
        }
        guard running else { return }
        wakeup.signal()
        done.wait()
    }

    private func loop() {
        while true {
            wakeup.wait()
            let stopped = state.withLock { s -> Bool in
                s.pending = false
                return s.stopped
            }
            if stopped { break }
            Thread.sleep(forTimeInterval: Self.gather)
            do {
                while try indexBatch() == Self.batch {
                    if state.withLock({ $0.stopped }) { break }
                }
            } catch {
                logger.error("search indexing failed; the messages stay searchable and are tried again", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 1)
                signal()
            }
        }
        done.signal()
    }

    /// Indexes the oldest waiting messages; returns how many it took off the backlog.
    @discardableResult
    func indexBatch() throws -> Int {
        let pending = try store.indexBacklog(limit: Self.batch)
        var rows: [(rowid: Int64, text: SearchText)] = []
        for p in pending where !p.gone {
            guard let bytes = p.inline ?? (try? blobs.get(p.hash)) else {
                logger.error("a stored message's file is missing; it cannot be searched", metadata: ["blob": "\(p.hash)"])
                continue
            }
            rows.append((p.rowid, SearchText(ParsedMessage(parsing: bytes))))
        }
        try store.finishIndexing(rows, done: pending.map(\.rowid))
        return pending.count
    }

    /// Indexes everything waiting, on the caller's thread (tests; tools with the server stopped).
    func drain() throws {
        while try indexBatch() > 0 {}
    }
}
