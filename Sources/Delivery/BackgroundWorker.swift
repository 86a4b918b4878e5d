import Dispatch
import Foundation
import Synchronization

/// A thread of its own for work that follows a delivery or a client's command but must not
/// hold up its answer (search indexing, junk training): `wake()` asks for a run of `work`;
/// wakes that come while it runs are folded into one more run, so a burst of commits costs one
/// wake-up, not one each. `stop()` lets the run under way finish and waits for the thread.
/// Blocking work (SQLite, files) belongs here or on NIO's thread pool, never on an event loop.
final class BackgroundWorker: Sendable {
    private let name: String
    private let work: @Sendable (BackgroundWorker) -> Void
    private let wakeup = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// `pending`: a wake came since the thread last looked.
    private let state = Mutex<(stopped: Bool, running: Bool, pending: Bool)>((false, false, false))

    /// `work` runs on the worker's thread; it should return soon after ``isStopping`` turns true.
    init(name: String, work: @escaping @Sendable (BackgroundWorker) -> Void) {
        self.name = name
        self.work = work
    }

    func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        state.withLock { $0.running = true }
        thread.start()
    }

    func wake() {
        let signal = state.withLock { s -> Bool in
            defer { s.pending = true }
            return !s.pending
        }
        if signal { wakeup.signal() }
    }

    var isStopping: Bool { state.withLock { $0.stopped } }

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
            work(self)
        }
        done.signal()
    }
}
