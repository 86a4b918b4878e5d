import Directory
import Hummingbird
import NIOCore

/// The request context of the admin API: who is calling (set by ``AuthMiddleware``) and from
/// where.
public struct AdminContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The authenticated caller; set for every `/api/v1` route.
    public var actor: AdminActor?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.actor = nil
    }

    /// CSV imports are the largest bodies: 100,000 accounts fit comfortably.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }

    /// The authenticated actor; routes behind ``AuthMiddleware`` always have one.
    func requireActor() throws -> AdminActor {
        guard let actor else { throw AdminError.unauthenticated }
        return actor
    }
}
