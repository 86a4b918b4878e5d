import Dispatch
import Foundation
import IMAP
import Logging
import LoginKit
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// One IMAP listening address: `imap` (143, STARTTLS) or `imaps` (993, implicit TLS).
public struct IMAPListener: Sendable {
    public var host: String
    public var port: Int
    public var implicitTLS: Bool

    public init(host: String, port: Int, implicitTLS: Bool) {
        self.host = host
        self.port = port
        self.implicitTLS = implicitTLS
    }

    /// How `mailroom serve` names it.
    public var displayName: String { implicitTLS ? "IMAPS (TLS)" : "IMAP" }
}

/// The IMAP listeners as one service: binds them, serves until graceful shutdown, then says
/// `BYE` to every open session and waits for them to close.
public final class IMAPServerService: Service, Sendable {
    let listeners: [IMAPListener]
    let env: IMAPEnvironment
    let onListening: @Sendable (IMAPListener, Int) async -> Void
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let limiter: ConnectionLimiter
    /// Where sessions run their commands: many threads may block on the store at once.
    private let workers = DispatchQueue(label: "mailroom.imap", qos: .userInitiated, attributes: .concurrent)

    public init(listeners: [IMAPListener], env: IMAPEnvironment, onListening: @escaping @Sendable (IMAPListener, Int) async -> Void) {
        self.listeners = listeners
        self.env = env
        self.onListening = onListening
        self.limiter = ConnectionLimiter(maxTotal: env.limits.maxConnections, maxPerIP: env.limits.maxConnectionsPerIP)
    }

    public func run() async throws {
        var servers: [any Channel] = []
        do {
            for l in listeners {
                let channel = try await bind(l)
                servers.append(channel)
                await onListening(l, channel.localAddress?.port ?? l.port)
            }
        } catch {
            for s in servers { try? await s.close() }
            throw error
        }
        try? await gracefulShutdown()
        for s in servers { try? await s.close() }
        let open = connections.withLock { Array($0.values) }
        for c in open { c.pipeline.fireUserInboundEventTriggered(IMAPShutdownEvent()) }
        for c in open { _ = try? await c.closeFuture.get() }
    }

    private func bind(_ l: IMAPListener) async throws -> any Channel {
        let env = self.env
        let limiter = self.limiter
        let registry = self
        let workers = self.workers
        do {
            return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                .childChannelInitializer { channel in
                    let ip = channel.remoteAddress?.ipAddress ?? "unknown"
                    guard limiter.acquire(ip) else {
                        channel.writeAndFlush(ByteBuffer(string: "* BYE Too many connections from your address\r\n"))
                            .whenComplete { _ in channel.close(promise: nil) }
                        return channel.eventLoop.makeSucceededVoidFuture()
                    }
                    registry.track(channel)
                    channel.closeFuture.whenComplete { _ in
                        limiter.release(ip)
                        registry.untrack(channel)
                    }
                    let loopback = isLoopbackAddress(channel.remoteAddress?.ipAddress) && isLoopbackAddress(channel.localAddress?.ipAddress)
                    let session = IMAPSession(env: env, clientIP: ip, tlsActive: l.implicitTLS, loopback: loopback)
                    let queue = DispatchQueue(label: "mailroom.imap.session", target: workers)
                    return channel.eventLoop.makeCompletedFuture {
                        if l.implicitTLS, let tls = env.tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        try channel.pipeline.syncOperations.addHandler(IMAPChannelHandler(session: session, env: env, queue: queue))
                    }
                }
                .bind(host: l.host, port: l.port)
                .get()
        } catch {
            throw IMAPListenerError(description: "cannot listen for \(l.implicitTLS ? "imaps" : "imap") on \(l.host):\(l.port): \(error)")
        }
    }

    private func track(_ c: any Channel) { connections.withLock { $0[ObjectIdentifier(c)] = c } }
    private func untrack(_ c: any Channel) { _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(c)) } }
}

struct IMAPListenerError: Error, CustomStringConvertible {
    var description: String
}
