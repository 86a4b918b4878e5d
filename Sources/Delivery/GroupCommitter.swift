import Dispatch
import Foundation
import Offload
import Storage
import Synchronization

/// Commits messages from many sessions together: one transaction (and so one fsync) for every
/// message waiting when the previous commit finished. Each caller resumes only after the commit
/// that holds its message returned, which is when it may answer 250.
///
/// The commits run on the blocking pool, not on a thread of their own: while messages wait, one
/// pool thread takes every waiting message, commits them, and looks again; when none wait it
/// gives the thread back. Callers suspend (they never hold a pool thread while they wait for
/// their commit), so the committer can always get a thread.
public final class GroupCommitter: Sendable {
    private struct Job {
        /// Committed together: the variants of one message.
        var commit: [MessageCommit]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [Job] = []
        var stopped = false
        /// A pool thread is committing (or about to): new messages join its next batch.
        var draining = false
    }

    private let store: any MessageCommitStore
    private let pool: BlockingPool
    /// Called after each commit (the search indexer's doorbell).
    private let afterCommit: @Sendable () -> Void
    private let state = Mutex(State())
    /// Signalled when the last batch is done after ``stop()``.
    private let done = DispatchSemaphore(value: 0)
    /// Sizes of the batches committed, for metrics and tests.
    private let stats = Mutex<(batches: Int, messages: Int)>((0, 0))

    public init(store: any MessageCommitStore, pool: BlockingPool = .shared, afterCommit: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.pool = pool
        self.afterCommit = afterCommit
    }

    public func commit(_ m: [MessageCommit]) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let (accepted, start) = state.withLock { s -> (Bool, Bool) in
                guard !s.stopped else { return (false, false) }
                s.pending.append(Job(commit: m, continuation: c))
                defer { s.draining = true }
                return (true, !s.draining)
            }
            if !accepted {
                c.resume(throwing: CommitterStopped())
            } else if start {
                pool.submit { self.drain() }
            }
        }
    }

    /// Commits `m` now, on the caller's thread (a blocking-pool thread), when no commit is under
    /// way, and returns true; returns false without committing when one is: then the caller
    /// awaits ``commit(_:)`` to join the next batch. A message that arrives while nothing else
    /// is being stored (one session) is committed on the thread that prepared it, without a
    /// second trip through the pool; messages that arrive during this commit are handed to a
    /// pool thread after it, not kept waiting behind this caller.
    public func commitIfIdle(_ m: [MessageCommit]) throws -> Bool {
        let claimed = state.withLock { s -> Bool in
            guard !s.stopped, !s.draining else { return false }
            s.draining = true
            return true
        }
        guard claimed else { return false }
        defer {
            let (more, finished) = state.withLock { s -> (Bool, Bool) in
                if s.pending.isEmpty { s.draining = false }
                return (!s.pending.isEmpty, s.pending.isEmpty && s.stopped)
            }
            if more { pool.submit { self.drain() } } else if finished { done.signal() }
        }
        try store.commit(m)
        stats.withLock { $0 = ($0.batches + 1, $0.messages + 1) }
        afterCommit()
        return true
    }

    public var batchStats: (batches: Int, messages: Int) { stats.withLock { $0 } }

    /// Messages waiting for the next batch (tests watch it).
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Finishes what is pending and waits for it; later commits are refused.
    public func stop() {
        let wait = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.stopped = true
            return s.draining
        }
        if wait { done.wait() }
    }

    /// Commits batch after batch while messages wait, then gives the thread back.
    private func drain() {
        while true {
            let (jobs, finished) = state.withLock { s -> ([Job], Bool) in
                defer { s.pending.removeAll() }
                if s.pending.isEmpty { s.draining = false }
                return (s.pending, s.pending.isEmpty && s.stopped)
            }
            guard !jobs.isEmpty else {
                if finished { done.signal() }
                return
            }
            run(jobs)
        }
    }

    private func run(_ jobs: [Job]) {
        do {
            try store.commit(jobs.flatMap(\.commit))
            stats.withLock { $0 = ($0.batches + 1, $0.messages + jobs.count) }
            for j in jobs { j.continuation.resume() }
            afterCommit()
        } catch {
            // One bad message must not fail the others: commit each alone.
            for j in jobs {
                do {
                    try store.commit(j.commit)
                    j.continuation.resume()
                    afterCommit()
                } catch {
                    j.continuation.resume(throwing: error)
                }
            }
        }
    }
}

struct CommitterStopped: Error, CustomStringConvertible {
    var description: String { "the server is shutting down" }
}
