import Delivery
import Directory
import Logging
import LoginKit
import MailCore
import ManageSieve
import NIOSSL
import Offload
import ServerKit

/// What every ManageSieve connection shares: the directory and the scripts' store, TLS, limits,
/// and the login limiter shared with SMTP and IMAP (a guesser cannot switch protocols for more
/// tries).
public struct ManageSieveEnvironment: Sendable {
    public var hostname: String
    public var directory: DirectoryService
    public var delivery: LocalDelivery
    /// Read when each connection starts and at STARTTLS; nil offers no TLS.
    public var tlsBox: TLSContextBox?
    public var tls: NIOSSLContext? { tlsBox?.current }
    public var limits = ManageSieveLimits()
    public var plaintextAuthOnLoopback: Bool
    public var authLimiter: AuthLimiter
    public var authFailureDelay: Duration
    public var maxConnections = 200
    public var maxConnectionsPerIP = 20
    public var connectionLimitExceptions: [IPNetwork] = IPNetwork.loopback
    public var logger: Logger
    public var stats = Stats()
    /// Where sessions run their commands, each connection on a lane of its own.
    public var pool: BlockingPool = .shared

    public init(
        hostname: String, directory: DirectoryService, delivery: LocalDelivery, tlsBox: TLSContextBox?,
        plaintextAuthOnLoopback: Bool, authLimiter: AuthLimiter, authFailureDelay: Duration, logger: Logger
    ) {
        self.hostname = hostname
        self.directory = directory
        self.delivery = delivery
        self.tlsBox = tlsBox
        self.plaintextAuthOnLoopback = plaintextAuthOnLoopback
        self.authLimiter = authLimiter
        self.authFailureDelay = authFailureDelay
        self.logger = logger
    }
}
