import LoginKit
import Delivery
import EmailAuth
import Filtering
import Directory
import Foundation
import Logging
import NIOCore
import NIOSSL
import Offload
import SMTP
import ServerKit
import Storage
import MailCore

/// What every SMTP connection shares: the directory, delivery, TLS, limits and limiters.
public struct SMTPEnvironment: Sendable {
    public var hostname: String
    public var directory: DirectoryService
    public var delivery: LocalDelivery
    /// The TLS context for new connections and STARTTLS, read when each starts (so a renewed
    /// certificate applies without a restart); nil offers no TLS.
    public var tlsBox: TLSContextBox?
    public var tls: NIOSSLContext? { tlsBox?.current }
    /// Limits and trusted networks, replaced in place on reload (SIGHUP): every copy of this
    /// environment reads the same box. The connection counts are fixed when the listeners bind.
    public let tunables: Reloadable<SMTPTunables>
    public var limits: SMTPLimits {
        get { tunables.current.limits }
        nonmutating set { tunables.update { $0.limits = newValue } }
    }
    /// Let loopback clients AUTH without TLS (Dovecot's convention).
    public var plaintextAuthOnLoopback: Bool
    public var authLimiter: AuthLimiter
    /// Delay before answering a failed login.
    public var authFailureDelay: Duration
    public var logger: Logger
    /// What the listeners count for `/metrics` (connections, messages, logins).
    public var stats = Stats()
    /// Clients that may relay without AUTH (none by default, not even loopback).
    public var trustedNetworks: [IPNetwork] {
        get { tunables.current.trustedNetworks }
        nonmutating set { tunables.update { $0.trustedNetworks = newValue } }
    }
    /// Clients not held to the per-address connection limit (loopback by default; the config's
    /// `connection_limit_exceptions`).
    public var connectionLimitExceptions: [IPNetwork] = IPNetwork.loopback
    /// SPF, DKIM and DMARC on mail from unauthenticated clients; nil checks nothing.
    var inbound: InboundChecks?

    public init(
        hostname: String, directory: DirectoryService, delivery: LocalDelivery, tls: NIOSSLContext?, limits: SMTPLimits,
        plaintextAuthOnLoopback: Bool, authLimiter: AuthLimiter, authFailureDelay: Duration, logger: Logger
    ) {
        self.hostname = hostname
        self.directory = directory
        self.delivery = delivery
        self.tlsBox = tls.map { TLSContextBox($0) }
        self.tunables = Reloadable(SMTPTunables(limits: limits, trustedNetworks: []))
        self.plaintextAuthOnLoopback = plaintextAuthOnLoopback
        self.authLimiter = authLimiter
        self.authFailureDelay = authFailureDelay
        self.logger = logger
    }

    /// Turns on the inbound checks, looking names up through `dns` (the server's resolver).
    /// They count into `stats` as it is now: set that first.
    public mutating func checkInbound(_ settings: InboundSettings, dns: any AuthDNS) {
        inbound = InboundChecks(hostname: hostname, settings: settings, dns: dns, stats: stats)
    }

    /// Starts the client's reverse DNS check when it connects to the MX, as SPF starts at MAIL
    /// FROM: its lookups (a PTR and the names' addresses) are done while the client greets and
    /// sends the envelope, not after the message, when its 250 waits for them.
    func startReverseCheck(ip: String, on executor: (any TaskExecutor)? = nil) -> Task<ReverseDNS.Result, Never>? {
        guard let inbound, !trustedNetworks.contains(where: { $0.contains(ip) }) else { return nil }
        return Task(executorPreference: executor) { await inbound.checkReverseDNS(ip: ip) }
    }

    /// Starts SPF for a transaction from an unauthenticated client, to run while the client
    /// sends its recipients and data.
    func startSenderCheck(
        _ sender: SMTPMailbox?, helo: String, connection: ConnectionInfo, authenticated: Bool, on executor: (any TaskExecutor)? = nil
    ) -> Task<SPFOutcome?, Never>? {
        guard !authenticated, let inbound else { return nil }
        let ip = connection.clientIP
        return Task(executorPreference: executor) { await inbound.checkSender(ip: ip, sender: sender, helo: helo) }
    }

    var policy: DirectoryPolicy { DirectoryPolicy(directory: directory, delivery: delivery, hostname: hostname) }

    /// A plain-password login (PLAIN, LOGIN), checked off the event loops.
    func authenticate(user: String, password: String, ip: String) async -> AuthResult {
        if authLimiter.isBanned(ip) { return banned(login: user, ip: ip) }
        let dir = directory
        let account = try? await BlockingPool.shared.run { dir.authenticate(address: user, password: password) }
        return await conclude(login: user, account: account?.address.description, ip: ip)
    }

    /// The end of a SCRAM exchange, already verified in the session.
    func finishAuthentication(user: String?, success: Bool, ip: String) async -> AuthResult {
        if authLimiter.isBanned(ip) { return banned(login: user ?? "", ip: ip) }
        let account = success ? user.flatMap { try? EmailAddress($0) }.flatMap { directory.snapshot.account($0) } : nil
        return await conclude(login: user ?? "?", account: account?.address.description, ip: ip)
    }

    private func banned(login: String, ip: String) -> AuthResult {
        stats.add(MetricCatalog.authFailures, ["protocol": "smtp", "reason": "banned"])
        journal { $0.recordLoginFailure(login: login, protocol: "smtp", ip: ip, reason: .banned) }
        return .tempFailure
    }

    /// Writes to the login journal off the event loops, without holding up the reply.
    private func journal(_ write: @escaping @Sendable (DirectoryService) -> Void) {
        let dir = directory
        BlockingPool.shared.submit { write(dir) }
    }

    /// Bans and failure delays, the same for every mechanism.
    private func conclude(login: String, account: String?, ip: String) async -> AuthResult {
        if let account {
            authLimiter.recordSuccess(ip)
            journal { dir in
                if let record = (try? EmailAddress(account)).flatMap({ dir.snapshot.account($0) }) {
                    dir.recordLoginSuccess(record, protocol: "smtp", ip: ip)
                }
            }
            return .success(account)
        }
        authLimiter.recordFailure(ip)
        journal { $0.recordLoginFailure(login: login, protocol: "smtp", ip: ip) }
        stats.add(MetricCatalog.authFailures, ["protocol": "smtp", "reason": "credentials"])
        logger.notice("SMTP login failed", metadata: ["client": "\(ip)", "user": "\(login)"])
        try? await Task.sleep(for: authFailureDelay)
        return authLimiter.isBanned(ip) ? .tempFailure : .failure
    }

    /// Whether a connection from `ip` is looked up in the DNS blocklists before its greeting:
    /// only when lists are configured and the client is not trusted. Asked on the event loop,
    /// so a connection with nothing to check is greeted without leaving it.
    func screens(ip: String) -> Bool {
        guard let inbound, !inbound.settings.dnsbl.isEmpty else { return false }
        return !trustedNetworks.contains(where: { $0.contains(ip) })
    }

    /// The connection-time checks (DNS blocklists) for a client on the MX; nil lets it in.
    func connectionRefusal(ip: String) async -> SMTPReply? {
        guard screens(ip: ip), let inbound else { return nil }
        guard let (reply, zone) = await inbound.blocklistRefusal(ip: ip) else { return nil }
        delivery.recordRefusal(
            DeliveryEvent(
                at: Date(), queueID: "-", messageID: nil, event: .rejected, sender: "", recipient: nil, clientIP: ip, helo: nil, tls: nil,
                authUser: nil, detail: "connection refused: listed by \(zone)", reply: "\(reply.code) \(reply.enhanced ?? "") \(reply.lines.joined(separator: " "))"))
        return reply
    }

    func deliver(
        _ envelope: SMTPEnvelope, _ data: [UInt8], connection: ConnectionInfo, senderCheck: Task<SPFOutcome?, Never>? = nil
    ) async -> SMTPReply {
        let queueID = LocalDelivery.newQueueID()
        var data = data
        var traceHeaders = Self.receivedHeader(envelope, connection: connection, host: hostname, queueID: queueID)
        let verdict = await judge(envelope, data, connection: connection, queueID: queueID, spf: await senderCheck?.value)
        if let judged = verdict {
            if let refusal = judged.refusal {
                delivery.recordRefusal(
                    DeliveryEvent(
                        at: Date(), queueID: queueID, messageID: HeaderSummary(data).messageID, event: .rejected,
                        sender: envelope.sender?.description ?? "", recipient: envelope.recipients.map(\.address).joined(separator: ", "),
                        clientIP: connection.clientIP, helo: envelope.helo, tls: connection.tls, authUser: nil, detail: judged.story,
                        reply: "\(refusal.code) \(refusal.enhanced ?? "") \(refusal.lines.joined(separator: " "))"))
                return refusal
            }
            data = judged.data
            // Newest trace field on top: our results, then our Received (RFC 8601 §4).
            traceHeaders = judged.header + traceHeaders
        }
        let message = Self.inboundMessage(envelope, data, traceHeaders: traceHeaders, connection: connection, verdict: verdict)
        do {
            let id = try await delivery.deliver(message, queueID: queueID)
            return SMTPReply(250, "2.0.0", "OK queued as \(id)")
        } catch let refusal as DeliveryRefusal {
            return SMTPReply(refusal.code, refusal.enhanced, refusal.text)
        } catch {
            logger.error("could not store a message", metadata: ["queue_id": "\(queueID)", "error": "\(error)"])
            return .storageFailure
        }
    }

    /// The inbound checks' verdict on a message from an unauthenticated client; nil when none
    /// apply (authenticated mail, or no checks configured).
    func judge(
        _ envelope: SMTPEnvelope, _ data: [UInt8], connection: ConnectionInfo, queueID: String, spf: SPFOutcome?,
        dryRun: Bool = false
    ) async -> InboundVerdict? {
        guard envelope.authenticatedUser == nil, let inbound else { return nil }
        let snapshot = directory.snapshot
        let recipients = envelope.recipients.map(\.address)
        return await inbound.judge(
            data, sender: envelope.sender, recipients: recipients,
            client: InboundChecks.Client(
                ip: connection.clientIP, helo: envelope.helo, queueID: queueID, reverseDNS: connection.reverseDNS),
            spf: spf,
            trusted: trustedNetworks.contains { $0.contains(connection.clientIP) },
            isOurs: { (try? DomainName($0)).map(snapshot.isLocal) ?? false }, junk: junkLookup(data, recipients: recipients),
            dryRun: dryRun)
    }

    /// The message as delivery gets it: the envelope, where it came from and what the checks
    /// decided (Junk, quarantine).
    static func inboundMessage(
        _ envelope: SMTPEnvelope, _ data: [UInt8], traceHeaders: String, connection: ConnectionInfo, verdict: InboundVerdict?
    ) -> InboundMessage {
        var message = InboundMessage(
            sender: envelope.sender?.description, recipients: envelope.recipients.map(\.address), data: data,
            receivedHeader: traceHeaders,
            clientIP: connection.clientIP, helo: envelope.helo, tls: connection.tls, authenticatedUser: envelope.authenticatedUser)
        message.checks = verdict?.story
        message.arc = verdict?.arc
        message.strictSenderPolicy = verdict?.strictSenderPolicy ?? false
        message.awaitsReply = true
        switch verdict?.decision {
        case .junk(let why)?: message.junkReason = why
        case .deliver?: message.junkAccounts = verdict?.junkAccounts ?? [:]
        case .quarantine(let why)?: message.quarantineReason = why
        default: break
        }
        return message
    }

    /// RFC 5321 §4.4 trace header, with RFC 3848 protocol names and the TLS details.
    static func receivedHeader(_ e: SMTPEnvelope, connection: ConnectionInfo, host: String, queueID: String) -> String {
        let proto = (e.esmtp ? "ESMTP" : "SMTP") + (e.tls ? "S" : "") + (e.authenticatedUser != nil ? "A" : "")
        var h = "Received: from \(sanitize(e.helo)) ([\(connection.clientIP)])\r\n\tby \(host) (Mailroom) with \(proto) id \(queueID)"
        if let tls = connection.tls { h += "\r\n\t(\(tls))" }
        if let user = e.authenticatedUser { h += "\r\n\t(authenticated as \(sanitize(user)))" }
        if e.recipients.count == 1 { h += "\r\n\tfor <\(sanitize(e.recipients[0].address))>" }
        return h + ";\r\n\t" + RFC5322Date.string(Date()) + "\r\n"
    }

    static func sanitize(_ s: String) -> String {
        func kept(_ v: UInt32) -> Bool { v >= 0x21 && v != 0x7F && v != 0x28 && v != 0x29 }  // not "(" or ")"
        // Almost every name and address is printable ASCII already: then it is kept as it is.
        if s.utf8.count <= 255 && s.utf8.allSatisfy({ $0 < 0x80 && kept(UInt32($0)) }) { return s }
        return String(s.unicodeScalars.filter { kept($0.value) }.prefix(255).map(Character.init))
    }
}

/// Facts about one connection, for trace headers and the delivery log.
struct ConnectionInfo: Sendable {
    var clientIP: String
    var tls: String?
    /// The client's reverse DNS check, started when it connected to the MX.
    var reverseDNS: Task<ReverseDNS.Result, Never>? = nil
}

/// What a reload may change for SMTP.
public struct SMTPTunables: Sendable {
    public var limits: SMTPLimits
    public var trustedNetworks: [IPNetwork]

    public init(limits: SMTPLimits, trustedNetworks: [IPNetwork]) {
        self.limits = limits
        self.trustedNetworks = trustedNetworks
    }
}
