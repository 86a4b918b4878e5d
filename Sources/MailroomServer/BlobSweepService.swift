import Delivery
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Storage

/// Sweeps unreferenced message bytes from the store a minute after start, then every
/// `interval` (``LocalDelivery/sweepBlobs(grace:now:)``).
struct BlobSweepService: Service {
    let delivery: LocalDelivery
    let interval: TimeInterval
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
            do {
                // On NIO's blocking pool: a sweep takes seconds of disk work, which must not hold
                // one of the few threads that every async task shares.
                let report = try await NIOThreadPool.singleton.runIfActive { try delivery.sweepBlobs() }
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
