import NIOSSL
import Synchronization

/// The TLS context the listeners hand to each new connection, replaceable while they run: a
/// renewed certificate goes in with ``replace(_:)`` and applies to every TLS handshake started
/// afterwards (implicit TLS or STARTTLS); connections already in TLS keep the context they
/// began with.
public final class TLSContextBox: Sendable {
    private let context: Mutex<NIOSSLContext>

    public init(_ context: NIOSSLContext) { self.context = Mutex(context) }

    public var current: NIOSSLContext { context.withLock { $0 } }

    public func replace(_ new: NIOSSLContext) { context.withLock { $0 = new } }
}
