import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import ServerKit

/// A listener accepts on every event loop (a socket each, sharing the port), and a port
/// another server listens on still cannot be taken.
@Suite struct ListenerGroupTests {
    final class Accepted: Sendable {
        let loops = Mutex<[ObjectIdentifier]>([])
        /// Connections handed from the loop that accepted them to another.
        let handedOver = Mutex(0)
        /// Connections without TCP_NODELAY (a reply would wait for the client's delayed ACK).
        let nagled = Mutex(0)
    }

    static func group() -> ListenerGroup {
        ListenerGroup(maxConnections: 100, maxPerIP: 100, backlog: 16, refusal: [], shutdownEvent: 0)
    }

    /// Serves 127.0.0.1 on `port` until the returned task is cancelled; the port bound, or the
    /// error.
    static func serve(_ group: ListenerGroup, port: Int, accepted: Accepted) async -> (Task<Void, any Error>, Result<Int, any Error>) {
        let (bound, continuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let task = Task {
            do {
                try await group.serve(
                    [.init(host: "127.0.0.1", port: port, name: "test")],
                    onListening: { _, port in continuation.yield(.success(port)) }
                ) { channel, _, _ in
                    accepted.loops.withLock { $0.append(ObjectIdentifier(channel.eventLoop)) }
                    if channel.parent?.eventLoop !== channel.eventLoop { accepted.handedOver.withLock { $0 += 1 } }
                    let noDelay = try channel.syncOptions?.getOption(.tcpOption(.tcp_nodelay))
                    if noDelay != 1 { accepted.nagled.withLock { $0 += 1 } }
                    _ = channel.close()
                }
            } catch {
                continuation.yield(.failure(error))
                throw error
            }
        }
        var first: Result<Int, any Error> = .failure(CancellationError())
        for await r in bound {
            first = r
            break
        }
        return (task, first)
    }

    @Test func connectionsAreAcceptedOnEveryLoopAndThePortStaysExclusive() async throws {
        let accepted = Accepted()
        let (server, bound) = await Self.serve(Self.group(), port: 0, accepted: accepted)
        defer { server.cancel() }
        let port = try bound.get()
        for _ in 0..<40 {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.closeFuture.get()
        }
        var loops = 0
        for _ in MultiThreadedEventLoopGroup.singleton.makeIterator() { loops += 1 }
        let used = accepted.loops.withLock { $0 }
        #expect(used.count == 40)
        #expect(accepted.handedOver.withLock { $0 } == 0, "each connection stays on the loop that accepted it")
        #expect(accepted.nagled.withLock { $0 } == 0)
        // The kernel picks the socket by the connection's addresses: 40 connections on one
        // loop of two would be a chance of one in 2^39.
        #expect(Set(used).count == loops)

        // A second server on the same port fails, as with one socket (SO_REUSEPORT would let
        // it share the port and take some of the connections).
        let (second, refused) = await Self.serve(Self.group(), port: port, accepted: accepted)
        defer { second.cancel() }
        #expect(throws: ListenerError.self) { try refused.get() }
        if case .failure(let error) = refused { #expect("\(error)".contains("in use"), "\(error)") }
    }
}
