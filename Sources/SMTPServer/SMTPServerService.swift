import Delivery
import Foundation
import LoginKit
import NIOCore
import NIOSSL
import SMTP
import ServerKit
import ServiceLifecycle

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
    private let group: ListenerGroup

    public init(listeners: [SMTPListener], env: SMTPEnvironment, onListening: @escaping @Sendable (SMTPListener, Int) async -> Void) {
        self.listeners = listeners
        self.env = env
        self.onListening = onListening
        self.group = ListenerGroup(
            maxConnections: env.limits.maxConnections, maxPerIP: env.limits.maxConnectionsPerIP,
            exceptions: env.connectionLimitExceptions + env.trustedNetworks, backlog: 256,
            refusal: SMTPReply.tooManyConnections.encoded(), shutdownEvent: SMTPShutdownEvent(), stats: env.stats, protocolName: "smtp")
    }

    public func run() async throws {
        let (env, listeners) = (self.env, self.listeners)
        try await group.serve(
            listeners.map { ListenerGroup.Listener(host: $0.host, port: $0.port, name: $0.kind.rawValue) },
            onListening: { await onListening(listeners[$0], $1) }
        ) { channel, index, client in
            let kind = listeners[index].kind
            let implicit = kind == .submissions
            var config = SMTPSessionConfig(
                hostname: env.hostname, mode: kind == .mx ? .mx : .submission, tlsAvailable: env.tls != nil, implicitTLS: implicit,
                plaintextAuthAllowed: env.plaintextAuthOnLoopback && client.loopback, limits: env.limits)
            config.trustedClient = env.trustedNetworks.contains { $0.contains(client.ip) }
            if implicit, let tls = env.tls {
                try ServerTLS.add(tls, to: channel)
            }
            try channel.pipeline.syncOperations.addHandler(
                SMTPChannelHandler(
                    session: SMTPSession(config: config, policy: env.policy), env: env, clientIP: client.ip, implicitTLS: implicit,
                    screen: kind == .mx && !(env.inbound?.settings.dnsbl.isEmpty ?? true), listener: kind.rawValue))
        }
        env.delivery.flushRefusals()
    }
}
