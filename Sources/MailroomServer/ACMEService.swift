import Foundation
import Logging
import ServiceLifecycle

/// Keeps the ACME certificate current: obtains one at start when there is none (or it lacks a
/// wanted name), renews it `renewBefore` (30 days) before it expires, and after a failure tries
/// again with a doubling wait (5 minutes up to 6 hours).
struct ACMEService: Service {
    let manager: ACMEManager
    /// The sleep between attempts (tests shorten or skip it).
    var sleep: @Sendable (TimeInterval) async throws -> Void = { seconds in
        try await Task.sleep(for: .seconds(max(0, seconds)))
    }

    func run() async throws {
        // Validation needs the listener that answers the challenge bound first.
        await cancelWhenGracefulShutdown { await manager.waitForResponder() }
        while !Task.isCancelled {
            let wait: TimeInterval
            if let due = manager.renewalDate(), due > Date() {
                wait = due.timeIntervalSinceNow
            } else {
                do {
                    _ = try await manager.obtain()
                    continue
                } catch {
                    wait = manager.backoff()  // recorded and logged by the manager
                }
            }
            manager.setNextAttempt(Date().addingTimeInterval(wait))
            do {
                try await cancelWhenGracefulShutdown { try await sleep(wait) }
            } catch {
                return  // shutting down
            }
        }
    }
}
