import Dispatch
import Foundation
import Storage
import Synchronization

/// Commits messages from many sessions together: one transaction (and so one fsync) for every
/// message waiting when the previous commit finished. Each caller resumes only after the commit
/// that holds its message returned, which is when it may answer 250.
public final class GroupCommitter: Sendable {
    private struct Job {
        /// Committed together: the variants of one message.
        var commit: [MessageCommit]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [Job] = []
        var stopped = false
    }

    private let store: SQLiteStore
    /// Called after each commit (the search indexer's doorbell).
    private let afterCommit: @Sendable () -> Void
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// Sizes of the batches committed, for metrics and tests.
    private let stats = Mutex<(batches: Int, messages: Int)>((0, 0))

    public init(store: SQLiteStore, afterCommit: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.afterCommit = afterCommit
        let thread = Thread { [self] in self.loop() }
        thread.name = "mailroom-commit"
        thread.start()
    }

    public func commit(_ m: [MessageCommit]) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let accepted = state.withLock { s -> Bool in
                guard !s.stopped else { return false }
                s.pending.append(Job(commit: m, continuation: c))
                return true
            }
            if accepted { wakeup.signal() } else { c.resume(throwing: CommitterStopped()) }
        }
    }

    public var batchStats: (batches: Int, messages: Int) { stats.withLock { $0 } }

    /// Finishes what is pending and stops the worker.
    public func stop() {
        let wasRunning = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        guard wasRunning else { return }
        wakeup.signal()
        done.wait()
    }

    private func loop() {
        while true {
            wakeup.wait()
            let (jobs, stopped) = state.withLock { s -> ([Job], Bool) in
                defer { s.pending.removeAll() }
                return (s.pending, s.stopped)
            }
            if !jobs.isEmpty { run(jobs) }
            if stopped {
                done.signal()
                return
            }
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
