import LoginKit
import MailCore
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// What a listener group tells the protocol about a connection it admitted.
public struct AdmittedConnection: Sendable {
    /// The client's address as text.
    public var ip: String
    /// Client and server address both loopback (a connection that may count as secure).
    public var loopback: Bool
}

/// The listening sockets of one protocol (SMTP's, IMAP's), served as one: binds them all,
/// admits connections within the total and per-address limits, serves until graceful shutdown,
/// then tells every open connection to finish and waits until each has closed.
public final class ListenerGroup: Sendable {
    public struct Listener: Sendable {
        public var host: String
        public var port: Int
        /// The config key it comes from (`imaps`, `submission`…), for error messages.
        public var name: String

        public init(host: String, port: Int, name: String) {
            self.host = host
            self.port = port
            self.name = name
        }
    }

    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let limiter: ConnectionLimiter
    private let exceptions: [IPNetwork]
    private let backlog: Int32
    private let refusal: [UInt8]
    private let shutdownEvent: any Sendable
    /// Connections counted per `protocolName` and listener name.
    private let stats: Stats
    private let protocolName: String

    /// `refusal` is written to a connection over the limits before it is closed; `shutdownEvent`
    /// is fired into every open connection's pipeline at shutdown (its handler says goodbye).
    /// Clients in `exceptions` count towards `maxConnections` only, not the per-address limit
    /// (Postfix's `smtpd_client_event_limit_exceptions`): an application server or a
    /// benchmark on the same host is not a flood.
    public init(
        maxConnections: Int, maxPerIP: Int, exceptions: [IPNetwork] = [], backlog: Int32, refusal: [UInt8], shutdownEvent: any Sendable,
        stats: Stats = Stats(), protocolName: String = ""
    ) {
        self.stats = stats
        self.protocolName = protocolName
        self.limiter = ConnectionLimiter(maxTotal: maxConnections, maxPerIP: maxPerIP)
        self.exceptions = exceptions
        self.backlog = backlog
        self.refusal = refusal
        self.shutdownEvent = shutdownEvent
    }

    /// Binds `listeners` (or none: a failure closes those already bound and is thrown), reports
    /// each one's port, and serves until graceful shutdown. `setUp` adds a protocol's handlers to
    /// an admitted connection; it runs on the connection's event loop.
    public func serve(
        _ listeners: [Listener],
        onListening: (_ index: Int, _ port: Int) async -> Void,
        setUp: @escaping @Sendable (_ channel: any Channel, _ index: Int, _ client: AdmittedConnection) throws -> Void
    ) async throws {
        var servers: [any Channel] = []
        do {
            for (index, l) in listeners.enumerated() {
                let channels = try await bind(l, index: index, setUp: setUp)
                servers += channels
                await onListening(index, channels.first?.localAddress?.port ?? l.port)
            }
        } catch {
            for s in servers { try? await s.close() }
            throw error
        }
        try? await gracefulShutdown()
        for s in servers { try? await s.close() }
        let open = connections.withLock { Array($0.values) }
        for c in open { c.pipeline.fireUserInboundEventTriggered(shutdownEvent) }
        for c in open { _ = try? await c.closeFuture.get() }
    }

    /// Binds a listening socket per event loop, all on the same port (SO_REUSEPORT): the kernel
    /// spreads new connections over them, and each loop keeps the connections it accepted.
    /// With one server channel, every connection was accepted on one loop and handed to the
    /// other: three wake-ups between the two loops before its greeting (a one-message SMTP
    /// connection went from 8.8 to 6.7 context switches in the server).
    ///
    /// SO_REUSEPORT would also let a second server of the same user bind the port and take half
    /// the connections; a plain socket bound first makes that fail as it always did.
    private func bind(
        _ l: Listener, index: Int, setUp: @escaping @Sendable (any Channel, Int, AdmittedConnection) throws -> Void
    ) async throws -> [any Channel] {
        var channels: [any Channel] = []
        do {
            if l.port != 0 { try ListeningSocket(host: l.host, port: l.port, sharedPort: false).close() }
            var port = l.port
            for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
                let socket = try ListeningSocket(host: l.host, port: port, sharedPort: true)
                port = socket.port
                let channel = try await accept(l, index: index, on: loop, from: socket.descriptor, setUp: setUp)
                channels.append(channel)
                // After the channel's own listen(), with its default backlog.
                try socket.listen(backlog: backlog)
            }
            return channels
        } catch {
            for c in channels { try? await c.close() }
            throw ListenerError(description: "cannot listen for \(l.name) on \(l.host):\(l.port): \(error)")
        }
    }

    private func accept(
        _ l: Listener, index: Int, on loop: any EventLoop, from descriptor: CInt,
        setUp: @escaping @Sendable (any Channel, Int, AdmittedConnection) throws -> Void
    ) async throws -> any Channel {
        let (limiter, exceptions) = (self.limiter, self.exceptions)
        let refusal = self.refusal
        let (stats, labels): (Stats, KeyValuePairs<String, String>) = (self.stats, ["protocol": protocolName, "listener": l.name])
        return try await ServerBootstrap(group: loop)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [self] channel in
                let ip = channel.remoteAddress?.ipAddress ?? "unknown"
                guard limiter.acquire(ip, exempt: exceptions.contains { $0.contains(ip) }) else {
                    stats.add(MetricCatalog.connectionsRefused, labels)
                    channel.writeAndFlush(ByteBuffer(bytes: refusal)).whenComplete { _ in channel.close(promise: nil) }
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                track(channel)
                stats.add(MetricCatalog.connections, labels)
                stats.add(MetricCatalog.connectionsOpen, labels)
                channel.closeFuture.whenComplete { [self] _ in
                    limiter.release(ip)
                    untrack(channel)
                    stats.add(MetricCatalog.connectionsOpen, labels, -1)
                }
                let loopback = isLoopbackAddress(ip) && isLoopbackAddress(channel.localAddress?.ipAddress)
                let client = AdmittedConnection(ip: ip, loopback: loopback)
                return channel.eventLoop.makeCompletedFuture { try setUp(channel, index, client) }
            }
            .withBoundSocket(descriptor)
            .get()
    }

    private func track(_ c: any Channel) { connections.withLock { $0[ObjectIdentifier(c)] = c } }
    private func untrack(_ c: any Channel) { _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(c)) } }
}

public struct ListenerError: Error, CustomStringConvertible {
    public var description: String
}
