import Logging
import Storage

/// Files the delivery events that commits stage into the table a trace reads, in the
/// background (see ``EventStore/fileStagedEvents(limit:)``): a message's commit writes its event
/// where it costs one page, and its six index entries are written here, many to a page. Woken
/// after each commit; it lets events gather for ``gather`` first. A trace files what is staged
/// itself, so it never waits for this.
final class EventFiler: Sendable {
    private let worker: BackgroundWorker
    /// Events per transaction: a delivery waiting for the writer waits a few milliseconds.
    static let batch = 256
    static let gather: Duration = .seconds(1)

    init(store: any EventStore, gather: Duration = EventFiler.gather, logger: Logger = Logger(label: "mailroom.events")) {
        self.worker = BackgroundWorker(name: "mailroom-events", delay: gather) { worker in
            do {
                while try store.fileStagedEvents(limit: Self.batch) == Self.batch, !worker.isStopping {}
            } catch {
                logger.error("filing delivery events failed; they stay staged and are tried again", metadata: ["error": "\(error)"])
                worker.wake(after: .seconds(5))
            }
        }
    }

    /// Starts the worker; it first files whatever an earlier run left staged.
    func start() {
        worker.start()
        worker.wake()
    }

    /// Events were staged (a commit).
    func signal() { worker.wake() }

    func stop() { worker.stop() }
}
