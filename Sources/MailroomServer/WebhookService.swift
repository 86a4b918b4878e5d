import Foundation
import Logging
import ServiceLifecycle
import Webhooks

/// Runs the webhook dispatcher every second while the server runs.
struct WebhookService: Service {
    let webhooks: Webhooks
    let logger: Logger

    func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                return  // shutting down
            }
            do {
                try await webhooks.dispatch()
            } catch {
                logger.error("webhook dispatch failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
