import ManageSieve
import NIOCore
import Offload
import ServerKit
import ServiceLifecycle

/// The ManageSieve listeners (`[listeners] managesieve`, RFC 5804, port 4190 with STARTTLS)
/// as one service: serves until graceful shutdown, then says `BYE` to every open connection.
public final class ManageSieveServerService: Service, Sendable {
    /// How `mailroom serve` names the listener.
    public static let displayName = "ManageSieve"

    let listeners: [ListenerGroup.Listener]
    let env: ManageSieveEnvironment
    let onListening: @Sendable (ListenerGroup.Listener, Int) async -> Void
    private let group: ListenerGroup

    public init(
        listeners: [(host: String, port: Int)], env: ManageSieveEnvironment,
        onListening: @escaping @Sendable (ListenerGroup.Listener, Int) async -> Void
    ) {
        self.listeners = listeners.map { ListenerGroup.Listener(host: $0.host, port: $0.port, name: "managesieve") }
        self.env = env
        self.onListening = onListening
        self.group = ListenerGroup(
            maxConnections: env.maxConnections, maxPerIP: env.maxConnectionsPerIP,
            exceptions: env.connectionLimitExceptions,
            backlog: 256, refusal: ManageSieveResponse.bye("Too many connections from your address").bytes,
            shutdownEvent: ManageSieveShutdownEvent(), stats: env.stats, protocolName: "managesieve")
    }

    public func run() async throws {
        let (env, listeners) = (self.env, self.listeners)
        try await group.serve(listeners, onListening: { await onListening(listeners[$0], $1) }) { channel, _, client in
            let session = ManageSieveSession(env: env, clientIP: client.ip, loopback: client.loopback)
            try channel.pipeline.syncOperations.addHandler(ManageSieveChannelHandler(session: session, lane: env.pool.lane()))
        }
    }
}
