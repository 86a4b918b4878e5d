import Delivery
import Foundation
import Logging
import LoginKit
import NIOCore
import NIOPosix
import NIOSSL
import SMTP
import ServiceLifecycle
import Synchronization

/// One SMTP listening address and what it serves.
public struct SMTPListener: Sendable {
    public enum Kind: String, Sendable {
        /// Port 25: mail for our domains.
        case mx = "smtp"
        /// Port 587: submission with STARTTLS.
        case submission
        /// Port 465: submission over implicit TLS (RFC 8314).
        case submissions

        /// How `mailroom serve` names it.
        public var displayName: String {
            switch self {
            case .mx: return "SMTP (MX)"
            case .submission: return "submission"
            case .submissions: return "submissions (TLS)"
            }
        }
    }

    public var host: String
    public var port: Int
    public var kind: Kind

    public init(host: String, port: Int, kind: Kind) {
        self.host = host
        self.port = port
        self.kind = kind
    }
}

/// The SMTP listeners as one service: binds them, serves until graceful shutdown, then tells
/// every open session `421` and waits (briefly) for them to close.
public final class SMTPServerService: Service, Sendable {
    let listeners: [SMTPListener]
    let env: SMTPEnvironment
    let onListening: @Sendable (SMTPListener, Int) async -> Void
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let limiter: ConnectionLimiter

    public init(listeners: [SMTPListener], env: SMTPEnvironment, onListening: @escaping @Sendable (SMTPListener, Int) async -> Void) {
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
        // Serve until the service group shuts down.
        try? await gracefulShutdown()
        for s in servers { try? await s.close() }
        let open = connections.withLock { Array($0.values) }
        for c in open { c.pipeline.fireUserInboundEventTriggered(SMTPShutdownEvent()) }
        for c in open { _ = try? await c.closeFuture.get() }
        env.delivery.flushRefusals()
    }

    private func bind(_ l: SMTPListener) async throws -> any Channel {
        let env = self.env
        let limiter = self.limiter
        let registry = self
        let mode: SMTPSessionConfig.Mode = l.kind == .mx ? .mx : .submission
        let implicit = l.kind == .submissions
        do {
            return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                .childChannelInitializer { channel in
                    let ip = channel.remoteAddress?.ipAddress ?? "unknown"
                    guard limiter.acquire(ip) else {
                        channel.writeAndFlush(ByteBuffer(bytes: SMTPReply.tooManyConnections.encoded()))
                            .whenComplete { _ in channel.close(promise: nil) }
                        return channel.eventLoop.makeSucceededVoidFuture()
                    }
                    registry.track(channel)
                    channel.closeFuture.whenComplete { _ in
                        limiter.release(ip)
                        registry.untrack(channel)
                    }
                    let loopback = Self.isLoopback(channel.remoteAddress) && Self.isLoopback(channel.localAddress)
                    var config = SMTPSessionConfig(
                        hostname: env.hostname, mode: mode, tlsAvailable: env.tls != nil, implicitTLS: implicit,
                        plaintextAuthAllowed: env.plaintextAuthOnLoopback && loopback, limits: env.limits)
                    config.trustedClient = env.trustedNetworks.contains { $0.contains(ip) }
                    return channel.eventLoop.makeCompletedFuture {
                        if implicit, let tls = env.tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            SMTPChannelHandler(
                                session: SMTPSession(config: config, policy: env.policy), env: env, clientIP: ip, implicitTLS: implicit))
                    }
                }
                .bind(host: l.host, port: l.port)
                .get()
        } catch {
            throw ListenerError(description: "cannot listen for \(l.kind.rawValue) on \(l.host):\(l.port): \(error)")
        }
    }

    private func track(_ c: any Channel) { connections.withLock { $0[ObjectIdentifier(c)] = c } }
    private func untrack(_ c: any Channel) { _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(c)) } }

    static func isLoopback(_ a: SocketAddress?) -> Bool { isLoopbackAddress(a?.ipAddress) }
}

struct ListenerError: Error, CustomStringConvertible {
    var description: String
}
