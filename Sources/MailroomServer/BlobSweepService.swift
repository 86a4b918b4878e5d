import AdminModels
import Delivery
import Foundation
import Logging
import Offload
import ServiceLifecycle
import Storage

/// The store's upkeep, a minute after start and then every `interval`: quarantined messages
/// older than `quarantineKeep` expire, and (when `sweep` is on) unreferenced message bytes are
/// swept (``LocalDelivery/sweepBlobs(grace:now:)``).
struct BlobSweepService: Service {
    let delivery: LocalDelivery
    let interval: TimeInterval
    let sweep: Bool
    let quarantineKeep: TimeInterval
    let logger: Logger

    func run() async throws {
        var wait: TimeInterval = min(60, interval)
        while true {
            let pause = Duration.seconds(wait)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                return  // shutting down: the sleep was cancelled
            }
            wait = interval
            let delivery = self.delivery
            let keep = quarantineKeep
            do {
                let expired = try await BlockingPool.shared.run { try delivery.expireQuarantine(keep: keep) }
                if expired > 0 { logger.info("quarantined messages expired", metadata: ["count": "\(expired)"]) }
            } catch {
                logger.error("expiring the quarantine failed; it is tried again later", metadata: ["error": "\(error)"])
            }
            guard sweep else { continue }
            do {
                // On the blocking pool: a sweep takes seconds of disk work, which must not hold
                // one of the few threads that every async task shares.
                let report = try await BlockingPool.shared.run { try delivery.sweepBlobs() }
                guard report.unreferenced > 0 || report.filesRemoved > 0 else { continue }
                logger.info(
                    "swept the message store",
                    metadata: [
                        "unreferenced": "\(report.unreferenced)", "files_removed": "\(report.filesRemoved)",
                        "bytes_freed": "\(report.inlineBytesFreed + report.fileBytesFreed)",
                    ])
            } catch {
                logger.error("sweeping the message store failed; it is tried again later", metadata: ["error": "\(error)"])
            }
        }
    }
}
