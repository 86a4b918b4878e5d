import Offload
import Synchronization
import Testing

@Suite struct BlockingPoolTests {
    @Test func runReturnsWhatTheWorkReturnedAndThrowsWhatItThrew() async throws {
        let pool = BlockingPool(threads: 2)
        #expect(try await pool.run { 6 * 7 } == 42)
        struct Failed: Error {}
        await #expect(throws: Failed.self) { try await pool.run { throw Failed() } }
        try await pool.shutdown()
        await #expect(throws: BlockingPool.Stopped.self) { try await pool.run { 1 } }
    }

    /// A lane runs its pieces in order and never two at once, though the pool has threads to
    /// spare; other lanes run beside it.
    @Test func aLaneRunsInOrderOneAtATime() async throws {
        let pool = BlockingPool(threads: 4)
        let record = Record()
        await withTaskGroup(of: Void.self) { group in
            for l in 0..<3 {
                let lane = pool.lane()
                group.addTask {
                    for i in 0..<200 { lane.submit { record.piece(lane: l, i) } }
                    // The last piece's result says every earlier one has run.
                    _ = try? await lane.run { () }
                }
            }
        }
        #expect(record.overlaps.load(ordering: .relaxed) == 0)
        for l in 0..<3 { #expect(record.log.withLock { $0[l] } == Array(0..<200)) }
        try await pool.shutdown()
    }

    /// What the pieces of several lanes saw.
    final class Record: Sendable {
        let log = Mutex<[Int: [Int]]>([:])
        let running = Mutex<[Int: Int]>([:])
        let overlaps = Atomic<Int>(0)

        func piece(lane l: Int, _ i: Int) {
            let now = running.withLock { r -> Int in
                r[l, default: 0] += 1
                return r[l]!
            }
            if now > 1 { overlaps.add(1, ordering: .relaxed) }
            log.withLock { $0[l, default: []].append(i) }
            running.withLock { $0[l]! -= 1 }
        }
    }

    /// With one thread, a lane that has much queued gives the thread back after each piece, so
    /// another lane's work is not stuck behind all of it.
    @Test func aBusyLaneTakesTurnsWithOthers() async throws {
        let pool = BlockingPool(threads: 1)
        let busy = pool.lane()
        let other = pool.lane()
        let turns = Turns()
        // Holds the only thread until everything below is queued.
        pool.submit { turns.waitForGate() }
        for i in 0..<3 { busy.submit { turns.add("busy \(i)") } }
        other.submit { turns.add("other") }
        turns.openGate()
        _ = try await busy.run { () }
        _ = try await other.run { () }
        let seen = turns.order.withLock { $0 }
        #expect(seen.firstIndex(of: "other")! < seen.firstIndex(of: "busy 2")!)
        try await pool.shutdown()
    }

    final class Turns: Sendable {
        let order = Mutex<[String]>([])
        let gate = Atomic<Bool>(false)

        func add(_ s: String) { order.withLock { $0.append(s) } }
        func openGate() { gate.store(true, ordering: .releasing) }
        func waitForGate() {
            while !gate.load(ordering: .acquiring) {}
        }
    }
}
