import AdminModels
import Delivery
import Directory
import Foundation
import Logging
import Offload
import ServiceLifecycle

/// `[backup] dir`: a backup every `interval` while the server runs, keeping the newest `keep`.
public struct BackupSettings: Sendable {
    public var dir: String
    public var interval: TimeInterval = 86400
    public var keep = 7
    public init(dir: String) { self.dir = dir }
}

struct BackupService: Service {
    let delivery: LocalDelivery
    let settings: BackupSettings
    let logger: Logger

    func run() async throws {
        while true {
            let pause = Duration.seconds(settings.interval)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                return  // shutting down
            }
            let (delivery, settings) = (self.delivery, self.settings)
            do {
                // On the blocking pool: a backup is minutes of disk work for a large store.
                let (b, pruned) = try await BlockingPool.shared.run {
                    let b = try delivery.backup(into: settings.dir, actor: .system)
                    return (b, try delivery.pruneBackups(in: settings.dir, keep: settings.keep))
                }
                logger.info(
                    "scheduled backup done",
                    metadata: [
                        "backup": "\(settings.dir)/\(b.name)", "files_copied": "\(b.filesCopied)", "backups_removed": "\(pruned.backups)",
                        "files_removed": "\(pruned.files)",
                    ])
            } catch {
                logger.error("the scheduled backup failed; it is tried again at the next interval", metadata: ["error": "\(error)"])
            }
        }
    }
}
