import NIOCore
import NIOPosix
import Synchronization

/// The one way blocking work (SQLite, file reads and writes, fsync, password hashing) leaves
/// the event loops and the Swift cooperative pool: a bounded set of threads that may block.
///
/// - ``run(_:)`` awaits one piece of work from async code.
/// - ``submit(_:)`` starts one without waiting for it (a journal write after a reply).
/// - ``Lane`` runs a connection's work in order, one piece at a time, on the same threads:
///   a session needs ordering, not a thread of its own, so ten thousand idle IMAP sessions
///   cost no threads and a busy one holds at most one.
///
/// The threads are few on purpose: what waits on a socket (a client that reads slowly, a
/// remote server, a timer) must not sit on one of them — it suspends (async code) or hands its
/// next step back to the event loop (channel handlers) and comes back through here when there
/// is work again. Only work that ends by itself belongs here.
///
/// Backed by `NIOThreadPool`, first in, first out: every caller queues behind the same line,
/// so no kind of work can take more than the pool.
public final class BlockingPool: Sendable {
    /// The pool the server uses. Sixteen threads: enough that disk and SQLite waits of a few
    /// sessions overlap (SQLite's WAL lets readers run beside the one writer), few enough that
    /// a burst of work queues here instead of multiplying threads.
    public static let shared = BlockingPool(threads: 16)

    private let pool: NIOThreadPool
    public let threadCount: Int

    /// A pool of its own (tests use a small one); ``shutdown()`` ends it.
    public init(threads: Int) {
        precondition(threads > 0, "A blocking pool needs at least one thread")
        threadCount = threads
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Runs `body` on one of the pool's threads and returns what it returned. Once submitted,
    /// the work is done even if the awaiting task is cancelled (a write handed over is never
    /// dropped half-way); a pool that was shut down throws ``Stopped`` without running it.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            pool.submit { state in
                guard case .active = state else { return c.resume(throwing: Stopped()) }
                c.resume(with: Result(catching: body))
            }
        }
    }

    /// Runs `body` on one of the pool's threads; nobody waits for it. After ``shutdown()`` it
    /// is dropped.
    public func submit(_ body: @escaping @Sendable () -> Void) {
        pool.submit { state in
            if case .active = state { body() }
        }
    }

    /// A new serial lane on this pool (one per connection).
    public func lane() -> Lane { Lane(pool: self) }

    /// Stops the threads once the work already queued is done. For pools made with
    /// ``init(threads:)``; the shared pool lives as long as the process.
    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }

    /// Work for one connection, run in the order it was submitted and never two pieces at once,
    /// on the pool's threads: the ordering of a serial `DispatchQueue`, without a thread per
    /// connection. A lane gives its thread back after each piece, so a connection with much
    /// queued cannot keep others waiting for longer than one piece.
    public final class Lane: Sendable {
        private let pool: BlockingPool
        private let state = Mutex<(jobs: [@Sendable () -> Void], head: Int, running: Bool)>(([], 0, false))

        init(pool: BlockingPool) {
            self.pool = pool
        }

        /// Queues `body` behind what this lane already has.
        public func submit(_ body: @escaping @Sendable () -> Void) {
            let start = state.withLock { s -> Bool in
                s.jobs.append(body)
                defer { s.running = true }
                return !s.running
            }
            if start { schedule() }
        }

        /// Queues `body` behind what this lane already has and awaits its result.
        public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
                submit { c.resume(with: Result(catching: body)) }
            }
        }

        private func schedule() {
            // A lane's work runs even after the pool stopped (on the caller's thread then): a
            // piece skipped would leave whoever waits for it waiting for ever.
            pool.pool.submit { _ in self.next() }
        }

        /// Runs the oldest piece, then gives the thread back and queues itself again if more
        /// is waiting.
        private func next() {
            let job = state.withLock { s -> @Sendable () -> Void in
                let job = s.jobs[s.head]
                s.head += 1
                return job
            }
            job()
            let more = state.withLock { s -> Bool in
                if s.head == s.jobs.count {
                    s.jobs.removeAll(keepingCapacity: s.jobs.count <= 16)
                    s.head = 0
                    s.running = false
                    return false
                }
                if s.head >= 64 && s.head * 2 >= s.jobs.count {
                    s.jobs.removeFirst(s.head)
                    s.head = 0
                }
                return true
            }
            if more { schedule() }
        }
    }

    /// The pool was shut down before the work could run.
    public struct Stopped: Error, CustomStringConvertible {
        public var description: String { "the blocking pool was shut down (the server is stopping)" }
    }
}
