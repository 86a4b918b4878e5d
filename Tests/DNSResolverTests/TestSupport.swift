import DNS
import Foundation
import TestSupport
import NIOCore
import NIOPosix
import Synchronization

/// A clock the tests move by hand (injected as the resolver's `now`).
final class TestClock: Sendable {
    private let date = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    var now: @Sendable () -> Date { { self.date.withLock { $0 } } }

    func advance(seconds: TimeInterval) { date.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A UDP socket on loopback that reads queries and never answers.
struct SilentServer {
    let channel: any Channel
    var address: DNSServerAddress { DNSServerAddress(host: "127.0.0.1", port: channel.localAddress!.port!) }

    static func start() async throws -> SilentServer {
        SilentServer(
            channel: try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get())
    }

    func stop() async { try? await channel.close() }
}

func name(_ text: String) -> DNSName { try! DNSName(text) }
