import NIOCore
import NIOPosix
import NIOSSL
import SMTP
import Synchronization

/// One outbound SMTP connection for the delivery queue: connect (greeting, EHLO, STARTTLS),
/// optionally AUTH, then any number of transactions, then QUIT.
///
/// ```swift
/// let connection = try await SMTPClientConnection.connect(
///     host: "192.0.2.25", port: 25, heloName: "mail.example.net", tls: .opportunistic, serverName: "mx.example.org")
/// let result = try await connection.send(envelope)   // again while `isUsable`
/// await connection.quit()
/// ```
///
/// One operation at a time: a call made while another is in flight fails with
/// `protocolError("connection busy …")`.
public final class SMTPClientConnection: Sendable {
    /// The server's 220 greeting.
    public let greeting: SMTPReply
    /// EHLO keywords upper-cased → their parameters ("" when none), after STARTTLS if used.
    public let extensions: [String: String]
    /// The TLS version, e.g. "TLSv1.3" (swift-nio-ssl does not expose the cipher), nil when
    /// the connection is plaintext.
    public let tlsDescription: String?

    private let channel: any Channel
    private let handler: NIOLoopBound<SMTPClientHandler>
    private let shared: SMTPConnectionShared

    private init(channel: any Channel, info: SMTPConnectionInfo, shared: SMTPConnectionShared) {
        self.channel = channel
        self.greeting = info.greeting
        self.extensions = info.extensions
        self.tlsDescription = info.tlsDescription
        self.handler = info.handler
        self.shared = shared
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Connects, reads the greeting, says EHLO (HELO if EHLO is refused with 5xx) and starts
    /// TLS as `tls` says. Returns when transactions can start.
    public static func connect(
        host: String, port: Int, heloName: String, tls: SMTPTLSPolicy, tlsConfiguration: TLSConfiguration? = nil,
        serverName: String?, timeouts: SMTPClientTimeouts = .init(), limits: SMTPClientLimits = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(SMTPClientError) -> SMTPClientConnection {
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw .connectFailed("\(host) is not an IP address literal; resolve it first")
        }
        let configuration = SMTPClientSession.Configuration(
            heloName: heloName, tlsPolicy: tls, peerIsLoopback: isLoopback(address), limits: limits)
        let eventLoop = group.next()
        let ready = eventLoop.makePromise(of: SMTPConnectionInfo.self)
        let shared = SMTPConnectionShared()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(SMTPClientHandler.timeAmount(timeouts.connect))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = SMTPClientHandler(
                        session: SMTPClientSession(configuration: configuration), timeouts: timeouts,
                        tlsConfiguration: tlsConfiguration, serverName: serverName, shared: shared, ready: ready)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(to: address).get()
        } catch {
            let failure = SMTPClientError.connectFailed("\(host) port \(port): \(error)")
            ready.fail(failure)
            throw failure
        }
        let info = try await wait(ready.futureResult)
        return SMTPClientConnection(channel: channel, info: info, shared: shared)
    }

    /// AUTH PLAIN (RFC 4954). Refused (`tlsUnavailable`) on a plaintext connection unless
    /// the peer is loopback.
    public func authenticate(user: String, password: String) async throws(SMTPClientError) {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let handler = self.handler
        channel.eventLoop.execute { handler.value.authenticate(user: user, password: password, promise) }
        try await Self.wait(promise.futureResult)
    }

    /// One transaction. Reuse the connection for the next while `isUsable`.
    public func send(_ envelope: OutboundEnvelope) async throws(SMTPClientError) -> TransactionResult {
        let promise = channel.eventLoop.makePromise(of: TransactionResult.self)
        let handler = self.handler
        channel.eventLoop.execute { handler.value.startTransaction(envelope, promise) }
        return try await Self.wait(promise.futureResult)
    }

    /// Open and between transactions.
    public var isUsable: Bool { shared.usable.load(ordering: .relaxed) && channel.isActive }

    /// QUIT, wait (bounded by `timeouts.quit`) for the reply, close.
    public func quit() async {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let handler = self.handler
        channel.eventLoop.execute { handler.value.quit(promise) }
        try? await promise.futureResult.get()
        channel.close(promise: nil)
        try? await channel.closeFuture.get()
    }

    private static func wait<T: Sendable>(_ future: EventLoopFuture<T>) async throws(SMTPClientError) -> T {
        do {
            return try await future.get()
        } catch let error as SMTPClientError {
            throw error
        } catch {
            throw .protocolError("\(error)")
        }
    }

    private static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4: address.ipAddress?.hasPrefix("127.") ?? false
        case .v6: address.ipAddress == "::1"
        default: false
        }
    }
}
