import Foundation
import Logging
import MIME
import Storage
import Synchronization

/// Adds delivered messages to the search index in the background, in batches, so that the
/// index (trigrams of every header and text part: the costliest write of a delivery) is not on
/// the path to 250. Runs on a ``BackgroundWorker``, woken after each commit that left messages
/// unindexed; SEARCH reads messages still waiting directly, so answers stay exact.
///
/// While mail keeps arriving, indexing waits for a pause (``Activity/quiet`` without a
/// commit): indexing took a third of the CPU a message costs and held the database's writer
/// while deliveries waited, so a burst is stored first and indexed in larger batches after it.
/// It waits no longer than ``Activity/patience``, and not once ``Activity/maximumBacklog``
/// messages wait, which bounds what a SEARCH reads directly; a SEARCH that read many ends the
/// wait (``urge()``), as the next one would read them again.
final class SearchIndexer: Sendable {
    private let store: any SearchIndexStore
    private let blobs: BlobStore
    private let logger: Logger
    private let worker: BackgroundWorker
    /// Messages per transaction: small enough that a commit waiting for the writer waits
    /// a few milliseconds, large enough that the index's own per-transaction cost is shared.
    static let batch = 64
    /// How long the indexer lets new mail gather after it is woken: one commit per message (a
    /// single sending session) would otherwise get an indexing transaction, and its fsync, each.
    static let gather: Duration = .milliseconds(200)
    let activity = Activity()

    init(store: any SearchIndexStore, blobs: BlobStore, logger: Logger = Logger(label: "mailroom.indexer")) {
        self.store = store
        self.blobs = blobs
        self.logger = logger
        let activity = self.activity
        self.worker = BackgroundWorker(name: "mailroom-index", delay: Self.gather) { worker in
            if let wait = activity.postponement(backlog: { try store.indexBacklogCount() }) {
                return worker.wake(after: wait)
            }
            do {
                let stopping = { worker.isStopping }
                while try Self.indexBatch(store: store, blobs: blobs, logger: logger, until: stopping) == Self.batch,
                    !stopping()
                {
                    try Self.merge(store: store, until: stopping)
                }
                try Self.merge(store: store, until: stopping)
                try Self.keepSortKeys(store: store, until: stopping)
                try Self.keepThreadKeys(store: store, blobs: blobs, until: stopping)
                activity.drained()
            } catch {
                logger.error(
                    "search indexing failed; the messages stay searchable and are tried again",
                    metadata: ["error": "\(error)"])
                worker.wake(after: .seconds(1))
            }
        }
    }

    /// Starts the worker; it first works off whatever an earlier run left waiting.
    func start() {
        worker.start()
        worker.wake()
    }

    /// Something new waits to be indexed (a commit).
    func signal() {
        activity.committed()
        worker.wake()
    }

    /// Indexes what waits without waiting for a pause in the mail: a reader paid for it.
    func urge() {
        activity.urged()
        worker.wake()
    }

    /// When mail last arrived and since when messages wait: whether indexing should wait for a
    /// pause.
    final class Activity: Sendable {
        /// No commit for this long is a pause in the mail.
        static let quiet: Duration = .milliseconds(100)
        static let patience: Duration = .seconds(10)
        /// Indexing alongside deliveries cost a single sending session a third of its rate
        /// (bench/accept-latency: 517 messages a second where 759 without), and 6% more CPU
        /// per message than indexing after the burst, in larger batches. A SEARCH reads each
        /// message waiting at about 0.1 ms (364 ms with 3,200 waiting, in the same bench).
        static let maximumBacklog = 5000

        private struct State {
            var lastCommit: ContinuousClock.Instant
            var waitingSince: ContinuousClock.Instant?
            var urged = false
        }

        private let state = Mutex(State(lastCommit: .now))

        func committed(at now: ContinuousClock.Instant = .now) {
            state.withLock { s in
                s.lastCommit = now
                if s.waitingSince == nil { s.waitingSince = now }
            }
        }

        /// Waiting for a pause ends until everything waiting is indexed.
        func urged() { state.withLock { $0.urged = true } }

        var isUrged: Bool { state.withLock { $0.urged } }

        /// Everything waiting was indexed.
        func drained() {
            state.withLock { s in
                s.waitingSince = nil
                s.urged = false
            }
        }

        /// How much longer to wait for a pause before indexing; nil to index now. `backlog`
        /// counts the messages waiting (asked only while mail keeps arriving).
        func postponement(now: ContinuousClock.Instant = .now, backlog: () throws -> Int) -> Duration? {
            let (last, since, urged) = state.withLock { ($0.lastCommit, $0.waitingSince, $0.urged) }
            let calm = now - last
            guard !urged, calm < Self.quiet, let since, now - since < Self.patience else { return nil }
            guard let waiting = try? backlog(), waiting < Self.maximumBacklog else { return nil }
            return Self.quiet - calm
        }
    }

    /// Finishes the message under way, indexes what the batch has read so far, and stops the
    /// worker (what waits stays in the backlog).
    func stop() { worker.stop() }

    /// Indexes the oldest waiting messages, or those read before `until` says stop; returns how
    /// many it took off the backlog.
    @discardableResult
    func indexBatch(until stop: () -> Bool = { false }) throws -> Int {
        try Self.indexBatch(store: store, blobs: blobs, logger: logger, until: stop)
    }

    /// `until` is asked before each message: a batch of large messages takes seconds (a minute
    /// in a debug build under load), and a server being stopped should not wait for it all.
    static func indexBatch(store: any SearchIndexStore, blobs: BlobStore, logger: Logger, until stop: () -> Bool) throws
        -> Int
    {
        let pending = try store.indexBacklog(limit: Self.batch)
        var rows: [(rowid: Int64, text: SearchText)] = []
        var metas: [Int64: BlobMeta] = [:]
        var read = 0
        for p in pending {
            if stop() { break }
            read += 1
            if p.gone { continue }
            if let bytes = p.inline {
                let parsed = ParsedMessage(parsing: bytes)
                rows.append((p.rowid, SearchText(parsed)))
                if p.needsMeta { metas[p.rowid] = BlobMeta(parsed: parsed) }
                continue
            }
            // A file is parsed and read in windows: a 50 MB message is indexed in a few MB.
            guard let file = try? blobs.file(p.hash) else {
                logger.error(
                    "a stored message's file is missing; it cannot be searched", metadata: ["blob": "\(p.hash)"])
                continue
            }
            let outline = MessageOutline(parsing: file)
            let text = SearchText(outline: outline)
            if p.needsMeta { metas[p.rowid] = BlobMeta(outline: outline) }
            if let error = file.error {
                logger.error(
                    "a stored message's file cannot be read; it cannot be searched",
                    metadata: ["blob": "\(p.hash)", "error": "\(error)"])
                continue
            }
            rows.append((p.rowid, text))
        }
        // The store may end a transaction early for a delivery waiting to write; the rest
        // follow in the next.
        var done = pending.prefix(read).map(\.rowid)[...]
        while !done.isEmpty { done = done.dropFirst(try store.finishIndexing(rows, metas: metas, done: Array(done))) }
        return read
    }

    /// Pages of merging per step: a step holds the writer for a millisecond or two, so that a
    /// delivery that comes meanwhile waits no longer than that.
    static let mergeStep = 32

    /// Merges the index's segments step by step until there is nothing to merge (or `until`).
    /// Writes leave merging to this, in steps between deliveries, rather than in lumps that
    /// held deliveries up (see `Schema.setSearchIndexMerging`).
    static func merge(store: any SearchIndexStore, until stop: () -> Bool) throws {
        while !stop(), try store.mergeSearchIndex(pages: mergeStep) {}
    }

    /// Messages per transaction of ``keepSortKeys(store:until:)``: each costs an envelope's
    /// parse and a short row, so a transaction holds the writer a few milliseconds.
    static let sortKeysBatch = 256

    /// Computes the SORT keys of messages stored before they were kept, from their stored
    /// envelopes, until none is left (or `until`).
    static func keepSortKeys(store: any SearchIndexStore, until stop: () -> Bool) throws {
        while !stop() {
            let pending = try store.sortKeysBacklog(limit: sortKeysBatch)
            if pending.isEmpty { return }
            var keys: [Int64: SortKeys] = [:]
            for p in pending { if let e = p.envelope { keys[p.blobID] = SortKeys(envelope: e) } }
            try store.addSortKeys(keys, done: pending.map(\.blobID))
        }
    }

    /// Computes THREAD's keys of messages stored before they were kept, from their headers and
    /// stored subjects, until none is left (or `until`). Reads only as far as each header ends.
    static func keepThreadKeys(store: any SearchIndexStore, blobs: BlobStore, until stop: () -> Bool) throws {
        while !stop() {
            let pending = try store.threadKeysBacklog(limit: sortKeysBatch)
            if pending.isEmpty { return }
            var keys: [Int64: ThreadKeys] = [:]
            for p in pending where !p.gone {
                guard let envelope = p.envelope, let hash = p.hash else { continue }
                let ids: (messageID: String?, references: [String])
                if let bytes = p.inline {
                    ids = MessageIDs.threadIDs(message: bytes)
                } else if let file = try? blobs.file(hash) {
                    ids = MessageIDs.threadIDs(message: file)
                    if file.error != nil { continue }
                } else {
                    continue
                }
                keys[p.blobID] = ThreadKeys(envelope: envelope, ids: ids)
            }
            try store.addThreadKeys(keys, done: pending.map(\.blobID))
        }
    }

    /// Indexes everything waiting and merges, on the caller's thread (tests; tools with the
    /// server stopped).
    func drain() throws {
        while try indexBatch() > 0 {}
        try Self.merge(store: store, until: { false })
        try Self.keepSortKeys(store: store, until: { false })
        try Self.keepThreadKeys(store: store, blobs: blobs, until: { false })
    }
}
