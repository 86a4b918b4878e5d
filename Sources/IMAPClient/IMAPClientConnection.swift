import Foundation
import IMAP
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// How the connection to the other server is secured.
public enum IMAPClientSecurity: String, Sendable, Hashable, Codable {
    /// TLS from the first byte (imaps, port 993).
    case tls
    /// Plaintext, then STARTTLS before anything else (refused if the server does not offer it).
    case starttls
    /// No TLS at all: only to a loopback address.
    case plain
}

public struct IMAPClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var security: IMAPClientSecurity
    /// Made once per run (loading the CA bundle is slow); nil only for `.plain`.
    public var sslContext: NIOSSLContext?
    /// The longest wait for the next bytes from the server, and for connecting.
    public var timeoutSeconds: Int64
    /// The largest literal (message) read; a larger one ends the connection.
    public var maxLiteralSize: Int

    public init(
        host: String, port: Int, security: IMAPClientSecurity, sslContext: NIOSSLContext?, timeoutSeconds: Int64 = 120,
        maxLiteralSize: Int = 256 * 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.sslContext = sslContext
        self.timeoutSeconds = timeoutSeconds
        self.maxLiteralSize = maxLiteralSize
    }

    /// Whether `host` is 127.0.0.0/8, ::1 or localhost: the only hosts `.plain` may reach.
    public var hostIsLoopback: Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }
}

/// Why talking to the other server failed, said so that an administrator can act on it.
public enum IMAPClientError: Error, CustomStringConvertible, Sendable, Hashable {
    case connectFailed(String)
    /// The server answered NO or BAD to a command.
    case refused(command: String, text: String)
    /// The login was refused (wrong password, or no such user).
    case loginFailed(String)
    case closed(String)
    case timedOut(seconds: Int64)
    /// The server sent what IMAP does not allow, or more than our limits.
    case protocolError(String)
    case tlsUnavailable(String)

    public var description: String {
        switch self {
        case .connectFailed(let s): "cannot connect: \(s)"
        case .refused(let c, let t): "\(c) refused: \(t)"
        case .loginFailed(let t): "login refused: \(t)"
        case .closed(let s): "connection closed by the server\(s.isEmpty ? "" : ": " + s)"
        case .timedOut(let s): "no answer from the server for \(s) s"
        case .protocolError(let s): "protocol error: \(s)"
        case .tlsUnavailable(let s): s
        }
    }
}

/// The selected folder, as EXAMINE reported it.
public struct IMAPFolderStatus: Sendable, Hashable {
    public var exists: UInt32 = 0
    public var uidValidity: UInt32?
    public var uidNext: UInt32?
}

/// One message read with UID FETCH.
public struct IMAPFetchedMessage: Sendable {
    public var uid: UInt32
    public var flags: [String]
    public var internalDate: Date?
    public var size: UInt64
    /// nil when only UID and size were asked for.
    public var data: [UInt8]?
}

/// A client connection to another IMAP server, for reading all of an account's mail:
/// LOGIN / AUTHENTICATE PLAIN, CAPABILITY, LIST, EXAMINE, UID FETCH, LOGOUT. One command at a
/// time; every read is bounded by the configuration's timeout and the framer's limits.
///
/// ```swift
/// try await IMAPClientConnection.with(configuration) { imap in
///     try await imap.login(user: "alice", password: secret)
///     for entry in try await imap.list() { … }
/// }
/// ```
public final class IMAPClientConnection {
    public private(set) var capabilities: [String] = []
    public private(set) var tlsActive: Bool

    private let channel: any Channel
    private let configuration: IMAPClientConfiguration
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var framer: IMAPFramer
    private var tagCounter = 0
    private let timer: IdleTimeout

    private init(
        channel: any Channel, configuration: IMAPClientConfiguration,
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        timer: IdleTimeout
    ) {
        self.channel = channel
        self.configuration = configuration
        self.inbound = inbound
        self.outbound = outbound
        self.timer = timer
        self.tlsActive = configuration.security == .tls
        var limits = IMAPLimits()
        limits.maxLiteralSize = configuration.maxLiteralSize
        limits.maxAppendSize = configuration.maxLiteralSize
        self.framer = IMAPFramer(limits: limits)
    }

    /// Connects, reads the greeting, starts TLS as configured, learns the capabilities, runs
    /// `body`, then logs out and closes.
    public static func with<T>(
        _ configuration: IMAPClientConfiguration, _ body: (IMAPClientConnection) async throws -> T
    ) async throws -> T {
        if configuration.security == .plain, !configuration.hostIsLoopback {
            throw IMAPClientError.tlsUnavailable(
                "refusing to send passwords without TLS to \(configuration.host): use imaps:// or imap:// (STARTTLS)")
        }
        if configuration.security != .plain, configuration.sslContext == nil {
            preconditionFailure("TLS asked for without an SSL context")
        }
        let timer = IdleTimeout()
        let sni: String? = Self.isIPAddress(configuration.host) ? nil : configuration.host
        let asyncChannel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            asyncChannel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(configuration.timeoutSeconds))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if configuration.security == .tls, let context = configuration.sslContext {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: context, serverHostname: sni))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            IdleStateHandler(readTimeout: .seconds(configuration.timeoutSeconds)))
                        try channel.pipeline.syncOperations.addHandler(CloseOnIdle(timer: timer))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw IMAPClientError.connectFailed("\(configuration.host) port \(configuration.port): \(error)")
        }
        return try await asyncChannel.executeThenClose { inbound, outbound in
            let connection = IMAPClientConnection(
                channel: asyncChannel.channel, configuration: configuration, inbound: inbound.makeAsyncIterator(),
                outbound: outbound, timer: timer)
            try await connection.start(sni: sni)
            let result = try await body(connection)
            await connection.logout()
            return result
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: 0)) != nil
    }

    // MARK: - Session

    private func start(sni: String?) async throws {
        // greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF
        guard case .untagged(.status(let greeting)) = try await nextResponse() else {
            throw IMAPClientError.protocolError("the server's first line is not a greeting")
        }
        switch greeting.condition {
        case .ok, .preauth: break
        case .bye: throw IMAPClientError.closed(greeting.text)
        default: throw IMAPClientError.protocolError("greeting \(greeting.condition.rawValue) \(greeting.text)")
        }
        if case .capability(let list)? = greeting.code { capabilities = list }
        if capabilities.isEmpty { try await refreshCapabilities() }
        if configuration.security == .starttls {
            guard has("STARTTLS") else {
                throw IMAPClientError.tlsUnavailable(
                    "\(configuration.host) does not offer STARTTLS: use imaps:// if it has TLS on another port")
            }
            _ = try await command("STARTTLS")
            // Bytes after the OK came before TLS: a man in the middle injecting commands.
            guard !framer.hasPartialInput else {
                throw IMAPClientError.protocolError("data sent after the STARTTLS answer, before TLS started")
            }
            guard let context = configuration.sslContext else { preconditionFailure("STARTTLS without an SSL context") }
            let handler = try NIOSSLClientHandler(context: context, serverHostname: sni)
            try await channel.pipeline.addHandler(handler, position: .first).get()
            tlsActive = true
            capabilities = []
            try await refreshCapabilities()
        }
    }

    public func has(_ capability: String) -> Bool {
        capabilities.contains { $0.caseInsensitiveCompare(capability) == .orderedSame }
    }

    private func refreshCapabilities() async throws {
        var found: [String] = []
        let done = try await command("CAPABILITY") { u in
            if case .capability(let list) = u { found = list }
        }
        if case .capability(let list)? = done.code, found.isEmpty { found = list }
        capabilities = found
    }

    /// Logs in as `user`. When the server offers AUTH=PLAIN, AUTHENTICATE PLAIN (RFC 4616),
    /// with `authorizationIdentity` as the authzid when given (the account a master user
    /// `user` opens: `authzid NUL authcid NUL passwd`); otherwise LOGIN, where a master user
    /// logs in as `authzid*user` (Dovecot's `auth_master_user_separator`, `masterSeparator`).
    ///
    /// ```
    /// C: m1 AUTHENTICATE PLAIN YWxpY2UAbWlncmF0b3IAc2VjcmV0
    /// S: m1 OK Logged in
    /// ```
    public func login(
        user: String, password: String, authorizationIdentity: String? = nil, masterSeparator: String = "*"
    ) async throws {
        if has("LOGINDISABLED") {
            throw IMAPClientError.tlsUnavailable(
                "the server refuses logins on this connection (LOGINDISABLED): use TLS")
        }
        let user = has("AUTH=PLAIN") ? user : authorizationIdentity.map { $0 + masterSeparator + user } ?? user
        do {
            if has("AUTH=PLAIN") {
                let token = Data(((authorizationIdentity ?? "") + "\0" + user + "\0" + password).utf8)
                    .base64EncodedString()
                if has("SASL-IR") {
                    _ = try await command("AUTHENTICATE PLAIN \(token)", name: "AUTHENTICATE")
                } else {
                    _ = try await command("AUTHENTICATE PLAIN", name: "AUTHENTICATE", continuation: token)
                }
            } else {
                func printable(_ s: String) -> Bool { s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
                guard printable(user), printable(password) else {
                    throw IMAPClientError.loginFailed(
                        "the server offers no AUTH=PLAIN and the password is not plain ASCII")
                }
                var line = Array("LOGIN ".utf8)
                IMAPWire.string(Array(user.utf8), into: &line)
                line.append(0x20)
                IMAPWire.string(Array(password.utf8), into: &line)
                _ = try await command(line, name: "LOGIN")
            }
        } catch IMAPClientError.refused(_, let text) {
            throw IMAPClientError.loginFailed(text)
        }
        // Capabilities often change after login.
        try await refreshCapabilities()
    }

    /// Every folder: `LIST "" "*"`, with `RETURN (SPECIAL-USE)` when the server has it.
    public func list() async throws -> [IMAPListEntry] {
        var entries: [IMAPListEntry] = []
        let extended = has("SPECIAL-USE") && has("LIST-EXTENDED")
        _ = try await command(#"LIST "" "*""# + (extended ? " RETURN (SPECIAL-USE)" : ""), name: "LIST") { u in
            if case .list(let e) = u { entries.append(e) }
        }
        return entries
    }

    /// The personal namespace's prefix and delimiter (RFC 2342), e.g. `INBOX.` and `.` on
    /// Courier and Cyrus; nil when the server has no NAMESPACE.
    public func personalNamespace() async throws -> (prefix: [UInt8], delimiter: UInt8?)? {
        guard has("NAMESPACE") else { return nil }
        var found: (prefix: [UInt8], delimiter: UInt8?)?
        _ = try await command("NAMESPACE") { u in
            if case .other("NAMESPACE", let rest) = u { found = IMAPResponseParser.personalNamespace(rest) }
        }
        return found
    }

    /// EXAMINE (read-only: flags such as \Seen do not change on the other server).
    public func examine(_ name: [UInt8]) async throws -> IMAPFolderStatus {
        var status = IMAPFolderStatus()
        var line = Array("EXAMINE ".utf8)
        IMAPWire.astring(name, into: &line)
        let done = try await command(line, name: "EXAMINE") { u in
            switch u {
            case .exists(let n): status.exists = n
            case .status(let s):
                if case .uidValidity(let v)? = s.code { status.uidValidity = v }
                if case .uidNext(let v)? = s.code { status.uidNext = v }
            default: break
            }
        }
        if case .uidValidity(let v)? = done.code { status.uidValidity = v }
        return status
    }

    /// `UID FETCH set (UID RFC822.SIZE)`: the UIDs and sizes from `uid` on, without bodies.
    public func sizes(from uid: UInt32) async throws -> [(uid: UInt32, size: UInt64)] {
        var found: [(uid: UInt32, size: UInt64)] = []
        _ = try await command("UID FETCH \(uid):* (UID RFC822.SIZE)", name: "UID FETCH") { u in
            // "n:*" includes the highest UID even when it is below n (RFC 9051 §6.4.8).
            if case .fetch(_, let items) = u, let got = items.uid, got >= uid {
                found.append((got, items.rfc822Size ?? 0))
            }
        }
        return found.sorted { $0.uid < $1.uid }
    }

    /// `UID FETCH 1:uid (UID FLAGS RFC822.SIZE)` (`1:*` when `uid` is nil): every message up
    /// to `uid` with its flags and size, without bodies (what changed since the last run is
    /// found from them).
    /// A message the server sent without FLAGS has `flags` nil (nothing is known of them).
    public func flags(through uid: UInt32?) async throws -> [(uid: UInt32, flags: [String]?, size: UInt64)] {
        if uid == 0 { return [] }
        var found: [(uid: UInt32, flags: [String]?, size: UInt64)] = []
        let range = uid.map { "1:\($0)" } ?? "1:*"
        _ = try await command("UID FETCH \(range) (UID FLAGS RFC822.SIZE)", name: "UID FETCH") { u in
            if case .fetch(_, let items) = u, let got = items.uid, got <= uid ?? UInt32.max {
                found.append((got, items.flags, items.rfc822Size ?? 0))
            }
        }
        return found.sorted { $0.uid < $1.uid }
    }

    /// `UID FETCH set (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])`, calling `each` with
    /// every message as it arrives.
    public func fetchMessages(
        _ set: String, _ each: (IMAPFetchedMessage) async throws -> Void
    ) async throws {
        var messages: [IMAPFetchedMessage] = []
        _ = try await command("UID FETCH \(set) (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])", name: "UID FETCH") {
            u in
            guard case .fetch(_, let items) = u, let uid = items.uid, let data = items.wholeBody else { return }
            messages.append(
                IMAPFetchedMessage(
                    uid: uid, flags: items.flags ?? [], internalDate: items.internalDate.flatMap(IMAPDateTime.parse),
                    size: items.rfc822Size ?? UInt64(data.count), data: data))
        } each: {
            for m in messages { try await each(m) }
            messages.removeAll()
        }
    }

    /// LOGOUT, waiting for the answer at most the timeout; errors are ignored (the connection
    /// closes anyway).
    public func logout() async {
        _ = try? await command("LOGOUT")
    }

    // MARK: - Commands and responses

    private func command(
        _ line: String, name: String? = nil, continuation: String? = nil,
        untagged: (IMAPUntaggedResponse) throws -> Void = { _ in }, each: () async throws -> Void = {}
    ) async throws -> IMAPStatusResponse {
        try await command(
            Array(line.utf8), name: name ?? line, continuation: continuation, untagged: untagged, each: each)
    }

    /// Sends `tag line`, hands every untagged response to `untagged` (and calls `each` after
    /// each, so that a caller can process what it gathered without holding the whole answer),
    /// and returns the tagged OK; NO and BAD throw.
    private func command(
        _ line: [UInt8], name: String, continuation: String? = nil,
        untagged: (IMAPUntaggedResponse) throws -> Void = { _ in }, each: () async throws -> Void = {}
    ) async throws -> IMAPStatusResponse {
        tagCounter += 1
        let tag = "m\(tagCounter)"
        try await send(Array(tag.utf8) + [0x20] + line + [0x0D, 0x0A])
        var continued = false
        while true {
            switch try await nextResponse() {
            case .untagged(.status(let s)) where s.condition == .bye:
                if name == "LOGOUT" { continue }
                throw IMAPClientError.closed(s.text)
            case .untagged(let u):
                try untagged(u)
                try await each()
            case .continuation:
                guard let continuation, !continued else {
                    // A SASL challenge we cannot answer: cancel the exchange.
                    try await send(Array("*\r\n".utf8))
                    continue
                }
                continued = true
                try await send(Array((continuation + "\r\n").utf8))
            case .tagged(let t, let status) where t == tag:
                guard status.condition == .ok else { throw IMAPClientError.refused(command: name, text: status.text) }
                return status
            case .tagged(let t, _):
                throw IMAPClientError.protocolError("an answer tagged \(t.debugDescription), expected \(tag)")
            }
        }
    }

    private func send(_ bytes: [UInt8]) async throws {
        do {
            try await outbound.write(ByteBuffer(bytes: bytes))
        } catch {
            throw IMAPClientError.closed("\(error)")
        }
    }

    /// The next whole response, reading as much as it takes.
    private func nextResponse() async throws -> IMAPResponse {
        while true {
            switch framer.next() {
            case .command(let frame)?:
                do {
                    return try IMAPResponseParser.parse(frame)
                } catch let e as IMAPParseError {
                    throw IMAPClientError.protocolError(
                        "\(e.text) in \(String(decoding: frame.prefix(200), as: UTF8.self).debugDescription)")
                }
            case .continuationNeeded?:
                continue  // a literal from the server: its bytes follow without asking
            case .literalTooLarge(_, let size, let limit)?:
                throw IMAPClientError.protocolError("a literal of \(size) octets, more than the limit of \(limit)")
            case .fatal(let text)?:
                throw IMAPClientError.protocolError(text)
            case .literalBegin?, .literalData?:
                // Only a command line starting `tag APPEND` streams; no response looks like one.
                throw IMAPClientError.protocolError("a response framed as an APPEND command")
            case nil:
                let buffer: ByteBuffer?
                do {
                    buffer = try await inbound.next()
                } catch {
                    if timer.fired { throw IMAPClientError.timedOut(seconds: configuration.timeoutSeconds) }
                    throw IMAPClientError.closed("\(error)")
                }
                guard let buffer else {
                    if timer.fired { throw IMAPClientError.timedOut(seconds: configuration.timeoutSeconds) }
                    throw IMAPClientError.closed("")
                }
                framer.append(buffer.readableBytesView)
            }
        }
    }
}

/// Whether the read timeout closed the connection.
final class IdleTimeout: Sendable {
    private let flag = Atomic<Bool>(false)
    var fired: Bool { flag.load(ordering: .relaxed) }
    func fire() { flag.store(true, ordering: .relaxed) }
}

/// Closes the connection when nothing was read for the timeout.
final class CloseOnIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let timer: IdleTimeout
    init(timer: IdleTimeout) { self.timer = timer }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? IdleStateHandler.IdleStateEvent, e == .read {
            timer.fire()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
