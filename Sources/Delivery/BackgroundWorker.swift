import Dispatch
import Offload
import Synchronization

/// Work that follows a delivery or a client's command but must not hold up its answer (search
/// indexing, junk training), run on the blocking pool: `wake()` asks for a run of `work`,
/// `delay` after it (to let more gather); wakes that come while a run is waiting or under way
/// are folded into one more run, so a burst of commits costs one run, not one each. A run holds
/// one pool thread while it works and none between runs. `stop()` lets the run under way finish
/// and waits for it.
final class BackgroundWorker: Sendable {
    private struct State {
        var started = false
        var stopped = false
        /// A run is scheduled or under way.
        var scheduled = false
        /// `work` is running now (``stop()`` waits for it).
        var working = false
        /// A wake came since the run under way began.
        var pending = false
        /// When that wake asked for its run: nil for the worker's delay.
        var pendingAfter: Duration?
    }

    private let name: String
    private let delay: Duration
    private let pool: BlockingPool
    private let work: @Sendable (BackgroundWorker) -> Void
    private let done = DispatchSemaphore(value: 0)
    private let state = Mutex(State())

    /// `work` runs on a pool thread; it should return soon after ``isStopping`` turns true.
    init(
        name: String, delay: Duration = .zero, pool: BlockingPool = .shared,
        work: @escaping @Sendable (BackgroundWorker) -> Void
    ) {
        self.name = name
        self.delay = delay
        self.pool = pool
        self.work = work
    }

    /// Runs are scheduled from now on (a wake that came before waits for this).
    func start() {
        let go = state.withLock { s -> Bool in
            guard !s.started, !s.stopped else { return false }
            s.started = true
            guard s.pending else { return false }
            s.pending = false
            s.scheduled = true
            return true
        }
        if go { schedule(after: delay) }
    }

    /// Asks for a run `after` from now (the worker's delay when nil).
    func wake(after: Duration? = nil) {
        let go = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            if !s.started || s.scheduled {
                s.pending = true
                if let after { s.pendingAfter = min(after, s.pendingAfter ?? after) }
                return false
            }
            s.scheduled = true
            return true
        }
        if go { schedule(after: after ?? delay) }
    }

    var isStopping: Bool { state.withLock { $0.stopped } }

    func stop() {
        let wait = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.stopped = true
            return s.working
        }
        if wait { done.wait() }
    }

    private func schedule(after: Duration) {
        guard after > .zero else { return pool.submit { self.run() } }
        // The wait is a suspended task, not a sleeping thread.
        Task {
            try? await Task.sleep(for: after)
            self.pool.submit { self.run() }
        }
    }

    private func run() {
        let go = state.withLock { s -> Bool in
            s.pending = false
            s.pendingAfter = nil
            guard !s.stopped else {
                s.scheduled = false
                return false
            }
            s.working = true
            return true
        }
        guard go else { return }
        work(self)
        enum After { case again(Duration), idle, stopped }
        let after = state.withLock { s -> After in
            s.working = false
            if s.stopped {
                s.scheduled = false
                return .stopped
            }
            guard s.pending else {
                s.scheduled = false
                return .idle
            }
            return .again(s.pendingAfter ?? delay)
        }
        switch after {
        case .again(let after): schedule(after: after)
        case .stopped: done.signal()
        case .idle: break
        }
    }
}
