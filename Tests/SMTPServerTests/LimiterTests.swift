import LoginKit
import Foundation
import Synchronization
import Testing

@testable import SMTPServer

@Suite struct LimiterTests {
    @Test func connectionsAreCountedInTotalAndPerAddress() {
        let l = ConnectionLimiter(maxTotal: 3, maxPerIP: 2)
        #expect(l.acquire("192.0.2.1"))
        #expect(l.acquire("192.0.2.1"))
        #expect(!l.acquire("192.0.2.1"))  // per address
        #expect(l.acquire("192.0.2.2"))
        #expect(!l.acquire("192.0.2.3"))  // in total
        l.release("192.0.2.1")
        #expect(l.acquire("192.0.2.3"))
        #expect(!l.acquire("192.0.2.1"))
    }

    @Test func failedLoginsBanAnAddressForAWhile() {
        let now = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let l = AuthLimiter(maxFailures: 3, window: 600, ban: 900, clock: { now.withLock { $0 } })
        for _ in 0..<2 { l.recordFailure("192.0.2.9") }
        #expect(!l.isBanned("192.0.2.9"))
        l.recordFailure("192.0.2.9")
        #expect(l.isBanned("192.0.2.9"))
        #expect(!l.isBanned("192.0.2.10"))
        now.withLock { $0 += 901 }
        #expect(!l.isBanned("192.0.2.9"))
        // Failures spread wider than the window do not add up.
        for _ in 0..<2 {
            l.recordFailure("192.0.2.11")
            now.withLock { $0 += 700 }
        }
        l.recordFailure("192.0.2.11")
        #expect(!l.isBanned("192.0.2.11"))
        // A success clears the count.
        l.recordFailure("192.0.2.12")
        l.recordFailure("192.0.2.12")
        l.recordSuccess("192.0.2.12")
        l.recordFailure("192.0.2.12")
        #expect(!l.isBanned("192.0.2.12"))
    }
}
