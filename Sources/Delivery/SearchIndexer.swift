import Foundation
import Logging
import MIME
import Storage
import Synchronization

/// Adds delivered messages to the search index in the background, in batches, so that the
/// index (trigrams of every header and text part: the costliest write of a delivery) is not on
/// the path to 250. Runs on a ``BackgroundWorker``, woken after each commit that left messages
/// unindexed; SEARCH reads messages still waiting directly, so answers stay exact.
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

    init(store: any SearchIndexStore, blobs: BlobStore, logger: Logger = Logger(label: "mailroom.indexer")) {
        self.store = store
        self.blobs = blobs
        self.logger = logger
        self.worker = BackgroundWorker(name: "mailroom-index", delay: Self.gather) { worker in
            do {
                while try Self.indexBatch(store: store, blobs: blobs, logger: logger) == Self.batch, !worker.isStopping {}
            } catch {
                logger.error("search indexing failed; the messages stay searchable and are tried again", metadata: ["error": "\(error)"])
                worker.wake(after: .seconds(1))
            }
        }
    }

    /// Starts the worker; it first works off whatever an earlier run left waiting.
    func start() {
        worker.start()
        worker.wake()
    }

    /// Something new waits to be indexed.
    func signal() { worker.wake() }

    /// Finishes the batch under way and stops the worker (what waits stays in the backlog).
    func stop() { worker.stop() }

    /// Indexes the oldest waiting messages; returns how many it took off the backlog.
    @discardableResult
    func indexBatch() throws -> Int { try Self.indexBatch(store: store, blobs: blobs, logger: logger) }

    static func indexBatch(store: any SearchIndexStore, blobs: BlobStore, logger: Logger) throws -> Int {
        let pending = try store.indexBacklog(limit: Self.batch)
        var rows: [(rowid: Int64, text: SearchText)] = []
        for p in pending where !p.gone {
            if let bytes = p.inline {
                rows.append((p.rowid, SearchText(ParsedMessage(parsing: bytes))))
                continue
            }
            // A file is parsed and read in windows: a 50 MB message is indexed in a few MB.
            guard let file = try? blobs.file(p.hash) else {
                logger.error("a stored message's file is missing; it cannot be searched", metadata: ["blob": "\(p.hash)"])
                continue
            }
            let text = SearchText(outline: MessageOutline(parsing: file))
            if let error = file.error {
                logger.error("a stored message's file cannot be read; it cannot be searched", metadata: ["blob": "\(p.hash)", "error": "\(error)"])
                continue
            }
            rows.append((p.rowid, text))
        }
        // The store may end a transaction early for a delivery waiting to write; the rest
        // follow in the next.
        var done = pending.map(\.rowid)[...]
        while !done.isEmpty { done = done.dropFirst(try store.finishIndexing(rows, done: Array(done))) }
        return pending.count
    }

    /// Indexes everything waiting, on the caller's thread (tests; tools with the server stopped).
    func drain() throws {
        while try indexBatch() > 0 {}
    }
}
