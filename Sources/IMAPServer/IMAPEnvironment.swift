import Delivery
import Directory
import Foundation
import IMAP
import Logging
import LoginKit
import MailCore
import NIOSSL
import Offload
import ServerKit
import Storage
import Synchronization

/// What every IMAP connection shares: the directory, the mail store, TLS, limits, limiters.
public struct IMAPEnvironment: Sendable {
    public var hostname: String
    public var directory: DirectoryService
    public var delivery: LocalDelivery
    /// The TLS context for new connections and STARTTLS, read when each starts (so a renewed
    /// certificate applies without a restart); nil offers no TLS.
    public var tlsBox: TLSContextBox?
    public var tls: NIOSSLContext? { tlsBox?.current }
    /// Replaced in place on reload (SIGHUP), for every copy of this environment; the connection
    /// counts are fixed when the listeners bind.
    public let liveLimits: Reloadable<IMAPLimits>
    public var limits: IMAPLimits {
        get { liveLimits.current }
        nonmutating set { liveLimits.replace(newValue) }
    }
    /// Let loopback clients log in without TLS (as for SMTP).
    public var plaintextAuthOnLoopback: Bool
    /// Shared with SMTP: a password guesser cannot switch protocols to get more tries.
    public var authLimiter: AuthLimiter
    public var authFailureDelay: Duration
    /// Logged-in connections per user.
    public var userConnections: ConnectionLimiter
    /// Clients not held to the per-address connection limit (loopback by default; the config's
    /// `connection_limit_exceptions`).
    public var connectionLimitExceptions: [IPNetwork] = IPNetwork.loopback
    public var logger: Logger
    /// What the listeners count for `/metrics` (connections, commands, logins).
    public var stats = Stats()
    /// Where sessions run their commands, each connection on a lane of its own.
    public var pool: BlockingPool = .shared
    /// UIDs of large mailboxes as of their last MODSEQ, so SELECT need not read them again.
    let uidLists = UIDListCache()
    /// What SORT compares of each message, computed once for all sessions.
    let sortKeys = SortKeyCache()
    /// Sessions alive in memory; once their connections closed, this must fall back to zero.
    let liveSessions = LiveCount()

    public init(
        hostname: String, directory: DirectoryService, delivery: LocalDelivery, tls: NIOSSLContext?, limits: IMAPLimits,
        plaintextAuthOnLoopback: Bool, authLimiter: AuthLimiter, authFailureDelay: Duration, logger: Logger
    ) {
        self.hostname = hostname
        self.directory = directory
        self.delivery = delivery
        self.tlsBox = tls.map { TLSContextBox($0) }
        self.liveLimits = Reloadable(limits)
        self.plaintextAuthOnLoopback = plaintextAuthOnLoopback
        self.authLimiter = authLimiter
        self.authFailureDelay = authFailureDelay
        self.userConnections = ConnectionLimiter(maxTotal: Int.max, maxPerIP: limits.maxConnectionsPerUser)
        self.logger = logger
    }

    var store: any MailboxStore { delivery.store }
}

/// A count of live objects of one kind (a leak shows as a count that never falls).
final class LiveCount: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ n: Int) { count.add(n, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// The UID lists of recently selected large mailboxes, each valid for one HIGHESTMODSEQ: any
/// change to a mailbox (new mail, flags, expunge) raises it, so a stale list is never used.
final class UIDListCache: Sendable {
    private let entries = Mutex<[Int64: (modseq: Int64, uids: [Int64])]>([:])
    /// Small mailboxes are read fast enough; a bounded number of large ones is kept.
    let minimumSize = 1000
    let maxEntries = 256

    func uids(_ mailbox: Int64, modseq: Int64) -> [Int64]? {
        entries.withLock { e in e[mailbox].flatMap { $0.modseq == modseq ? $0.uids : nil } }
    }

    func store(_ mailbox: Int64, modseq: Int64, _ uids: [Int64]) {
        guard uids.count >= minimumSize else { return }
        entries.withLock { e in
            if e.count >= maxEntries { e.removeAll() }
            e[mailbox] = (modseq, uids)
        }
    }
}

/// Collects a command's responses and hands them to the connection in pieces, so a large
/// FETCH streams instead of piling up in memory.
///
/// On a connection (``init(chunk:sink:writable:)``) nothing here waits for the client: pieces
/// are handed to the channel as they fill, a literal kept in a file is left as a ``Part/file``
/// for the connection to read and send a chunk at a time while the client keeps up, and a long
/// command asks ``shouldPause`` between messages and, when told to, returns
/// ``IMAPSession/Next/more(_:)`` so that the session's thread goes back to the pool until the
/// connection has caught up. Without `writable` (tests, tools) files are read straight into the
/// sink and a command never pauses.
final class ResponseWriter {
    /// Output that waits behind a file literal: it goes out in order after the literal.
    enum Part: Sendable {
        case bytes([UInt8])
        case file(BlobFileBox, Range<Int>)
    }

    private(set) var buffer: [UInt8] = []
    /// What waits to be sent, in order, before ``buffer``: empty unless a file was deferred.
    private(set) var parts: [Part] = []
    private let sink: ([UInt8]) -> Void
    /// Whether the connection takes more now; nil: files are read inline, no pauses.
    private let writable: (() -> Bool)?
    let chunk: Int

    init(chunk: Int = 256 * 1024, sink: @escaping ([UInt8]) -> Void) {
        self.sink = sink
        self.chunk = chunk
        self.writable = nil
        buffer.reserveCapacity(4096)
    }

    /// A writer for a connection: `sink` hands bytes to the channel without waiting; `writable`
    /// says whether the channel's outbound buffer is below its high-water mark.
    init(chunk: Int = 256 * 1024, sink: @escaping ([UInt8]) -> Void, writable: @escaping () -> Bool) {
        self.sink = sink
        self.chunk = chunk
        self.writable = writable
        buffer.reserveCapacity(4096)
    }

    func write(_ bytes: [UInt8]) {
        buffer += bytes
        if buffer.count >= chunk { flush() }
    }

    func write(_ s: String) { write(Array(s.utf8)) }

    /// Builds a response straight in the buffer (for long runs of small lines).
    func write(_ build: (inout [UInt8]) -> Void) {
        build(&buffer)
        if buffer.count >= chunk { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        if parts.isEmpty {
            sink(buffer)
        } else {
            parts.append(.bytes(buffer))
        }
        // The sink copies what it is given: the buffer's memory is reused, not grown again.
        buffer.removeAll(keepingCapacity: true)
    }

    /// The octets of `range` of `file`, as the next output: read now (no connection), or left
    /// to the connection to read and send as the client takes them.
    func write(file: BlobFile, _ range: Range<Int>, chunk fileChunk: Int = 64 * 1024) {
        guard writable != nil else {
            flush()
            file.read(range, chunk: fileChunk) { write($0) }
            return
        }
        flush()
        parts.append(.file(BlobFileBox(file), range))
    }

    /// A command that can stop between messages should do so now (returning
    /// ``IMAPSession/Next/more(_:)``): a file waits to be sent, or the client is behind.
    var shouldPause: Bool {
        guard let writable else { return false }
        return !parts.isEmpty || !writable()
    }

    /// Hands over what has not been sent (the deferred parts, then the buffer) and starts empty.
    func take() -> (parts: [Part], rest: [UInt8]) {
        defer {
            parts = []
            buffer = []
        }
        return (parts, buffer)
    }
}

/// A message file handed from the session's thread to the connection, which reads it on the
/// session's lane only: one thread at a time, as ``BlobFile`` needs.
final class BlobFileBox: @unchecked Sendable {
    let file: BlobFile
    init(_ file: BlobFile) { self.file = file }
}
