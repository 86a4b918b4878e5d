import Foundation
import Offload
import Synchronization
import Testing

@testable import Delivery

/// When the search indexer waits for a pause in the mail, and when it does not.
@Suite struct SearchIndexerActivityTests {
    typealias Activity = SearchIndexer.Activity
    let t0 = ContinuousClock.now

    @Test func nothingWaitingMeansNothingToPostpone() {
        let a = Activity()
        #expect(a.postponement(now: t0, backlog: { 0 }) == nil)
    }

    @Test func mailStillArrivingPostponesUntilAPause() {
        let a = Activity()
        a.committed(at: t0)
        #expect(a.postponement(now: t0 + .milliseconds(30), backlog: { 5 }) == Activity.quiet - .milliseconds(30))
        // A pause: index now.
        #expect(a.postponement(now: t0 + Activity.quiet, backlog: { 5 }) == nil)
    }

    @Test func aLongBacklogOrALongWaitIsIndexedWithoutAPause() {
        let a = Activity()
        a.committed(at: t0)
        a.committed(at: t0 + .seconds(3))
        #expect(a.postponement(now: t0 + .seconds(3), backlog: { Activity.maximumBacklog }) == nil)
        // Mail has kept arriving since t0: patience runs out, counted from the first waiting.
        a.committed(at: t0 + Activity.patience)
        #expect(a.postponement(now: t0 + Activity.patience, backlog: { 5 }) == nil)
        // A backlog that cannot be counted is indexed rather than left to grow.
        a.drained()
        a.committed(at: t0 + .seconds(20))
        #expect(a.postponement(now: t0 + .seconds(20), backlog: { throw CancellationError() }) == nil)
    }

    @Test func aSearchThatReadTheBacklogEndsTheWaitUntilItIsIndexed() {
        let a = Activity()
        a.committed(at: t0)
        a.urged()
        #expect(a.postponement(now: t0 + .milliseconds(30), backlog: { 5 }) == nil)
        a.drained()
        a.committed(at: t0 + .seconds(1))
        #expect(a.postponement(now: t0 + .seconds(1) + .milliseconds(30), backlog: { 5 }) != nil)
    }

    @Test func drainedMeansThePatienceStartsAgain() {
        let a = Activity()
        a.committed(at: t0)
        a.drained()
        a.committed(at: t0 + Activity.patience)
        #expect(a.postponement(now: t0 + Activity.patience + .milliseconds(10), backlog: { 5 }) != nil)
    }
}

/// A wake during a run asks for the next run when it said, not after the worker's own delay.
@Suite struct BackgroundWorkerTests {
    @Test func aWakeDuringARunKeepsItsOwnDelay() async throws {
        let pool = BlockingPool(threads: 1)
        let runs = Mutex<[ContinuousClock.Instant]>([])
        let worker = BackgroundWorker(name: "test", delay: .seconds(30), pool: pool) { worker in
            let count = runs.withLock { r in
                r.append(.now)
                return r.count
            }
            if count == 1 { worker.wake(after: .milliseconds(10)) }
        }
        worker.start()
        worker.wake(after: .zero)
        // The second run comes 10 ms after the first, not 30 s.
        for _ in 0..<5_000 where runs.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(runs.withLock { $0.count } == 2)
        worker.stop()
        try await pool.shutdown()
    }
}
