import Foundation
import IMAP
import NIOCore
import NIOSSL
import Offload
import ServerKit
import ServiceLifecycle

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
    private let group: ListenerGroup

    public init(listeners: [IMAPListener], env: IMAPEnvironment, onListening: @escaping @Sendable (IMAPListener, Int) async -> Void) {
        self.listeners = listeners
        self.env = env
        self.onListening = onListening
        self.group = ListenerGroup(
            maxConnections: env.limits.maxConnections, maxPerIP: env.limits.maxConnectionsPerIP,
            exceptions: env.connectionLimitExceptions, backlog: 1024,
            refusal: Array("* BYE Too many connections from your address\r\n".utf8), shutdownEvent: IMAPShutdownEvent(),
            stats: env.stats, protocolName: "imap")
    }

    public func run() async throws {
        let (env, listeners) = (self.env, self.listeners)
        try await group.serve(
            listeners.map { ListenerGroup.Listener(host: $0.host, port: $0.port, name: $0.implicitTLS ? "imaps" : "imap") },
            onListening: { await onListening(listeners[$0], $1) }
        ) { channel, index, client in
            let implicitTLS = listeners[index].implicitTLS
            let session = IMAPSession(env: env, clientIP: client.ip, tlsActive: implicitTLS, loopback: client.loopback)
            // Every connection keeps a receive buffer between reads, and most are idle.
            try channel.syncOptions?.setOption(.recvAllocator, value: smallReceiveBuffers)
            // What a session may have written that the client has not read yet before it stops
            // (a FETCH pauses, file literals wait): a client that stops reading costs this much
            // memory, and no thread.
            try channel.syncOptions?.setOption(.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: 64 * 1024, high: 512 * 1024))
            if implicitTLS, let tls = env.tls {
                try ServerTLS.add(tls, to: channel)
            }
            try channel.pipeline.syncOperations.addHandler(IMAPChannelHandler(session: session, env: env, lane: env.pool.lane()))
        }
    }
}
