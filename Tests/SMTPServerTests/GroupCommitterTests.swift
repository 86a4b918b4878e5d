import Dispatch
import Foundation
import Offload
import Storage
import Synchronization
import Testing

@testable import Delivery

/// A store that records each batch it commits, and can hold commits until let go.
private final class RecordingStore: MessageCommitStore {
    let batches = Mutex<[[String]]>([])
    /// While set, a commit waits for one signal of it.
    private let gate = Mutex<DispatchSemaphore?>(nil)
    private let waiting = DispatchSemaphore(value: 0)
    /// Commits that reached the gate.
    private let held = Atomic<Int>(0)

    func commit(_ batch: [MessageCommit]) throws {
        if let gate = gate.withLock({ $0 }) {
            held.add(1, ordering: .sequentiallyConsistent)
            gate.wait()
        }
        batches.withLock { $0.append(batch.map(\.queueID)) }
    }

    func appendMessage(_ m: NewMessage, mailboxID: Int64, accountID: Int64, quota: Int64, origin: IMAPMigrationOrigin?) throws
        -> (uidValidity: Int64, uid: Int64)
    { (1, 1) }

    /// Commits from now on wait at the gate.
    func hold() { gate.withLock { $0 = waiting } }

    /// Returns once the first commit waits at the gate.
    func firstHeld() async { await eventually { held.load(ordering: .sequentiallyConsistent) == 1 } }

    /// Commits after this one pass; the one held still waits for ``letGo()``.
    func stopHolding() { gate.withLock { $0 = nil } }

    func letGo() {
        stopHolding()
        waiting.signal()
    }
}

/// Waits (a bounded while) until `condition` holds, without holding a thread.
private func eventually(_ condition: () -> Bool) async {
    for _ in 0..<10_000 where !condition() { try? await Task.sleep(for: .milliseconds(1)) }
}

private func message(_ id: String) -> [MessageCommit] {
    [MessageCommit(queueID: id, messageID: nil, sender: "", blobHash: "", blobSize: 0, receivedAt: Date(), local: [], remote: [], held: [], events: [])]
}

@Suite struct GroupCommitterTests {
    @Test func anIdleCommitterCommitsOnTheCallersThread() throws {
        let store = RecordingStore()
        let pool = BlockingPool(threads: 2)
        let committer = GroupCommitter(store: store, pool: pool)
        #expect(try committer.commitIfIdle(message("a")))
        #expect(store.batches.withLock { $0 } == [["a"]])
        #expect(committer.batchStats == (1, 1))
    }

    @Test func aBusyCommitterLeavesTheMessageToTheNextBatch() async throws {
        let store = RecordingStore()
        let committer = GroupCommitter(store: store, pool: BlockingPool(threads: 2))
        store.hold()
        async let first: Void = committer.commit(message("a"))
        await store.firstHeld()
        // "a" is being committed: "b" is not committed here, and not lost.
        #expect(try committer.commitIfIdle(message("b")) == false)
        store.letGo()
        try await first
        try await committer.commit(message("b"))
        #expect(store.batches.withLock { $0 } == [["a"], ["b"]])
    }

    @Test func messagesThatArriveDuringAnIdleCommitAreCommittedAfterIt() async throws {
        let store = RecordingStore()
        let pool = BlockingPool(threads: 2)
        let committer = GroupCommitter(store: store, pool: pool)
        store.hold()
        // As delivery calls it: on a pool thread, after preparing the message.
        async let idle = pool.run { try committer.commitIfIdle(message("a")) }
        await store.firstHeld()
        store.stopHolding()
        // "b" and "c" wait for the commit of "a" on the caller's thread, then go together.
        async let b: Void = committer.commit(message("b"))
        async let c: Void = committer.commit(message("c"))
        await eventually { committer.pendingCount == 2 }
        store.letGo()
        #expect(try await idle)
        _ = try await (b, c)
        let batches = store.batches.withLock { $0 }
        #expect(batches.first == ["a"])
        #expect(batches.dropFirst().flatMap { $0 }.sorted() == ["b", "c"])
        #expect(committer.batchStats.messages == 3)
    }

    @Test func stopWaitsForAnIdleCommitUnderWay() async throws {
        let store = RecordingStore()
        let pool = BlockingPool(threads: 2)
        let committer = GroupCommitter(store: store, pool: pool)
        store.hold()
        async let idle = pool.run { try committer.commitIfIdle(message("a")) }
        await store.firstHeld()
        async let stopped: Void = pool.run { committer.stop() }
        store.letGo()
        try await stopped
        #expect(try await idle)
        #expect(store.batches.withLock { $0 } == [["a"]])
        #expect(try committer.commitIfIdle(message("b")) == false)
    }
}
