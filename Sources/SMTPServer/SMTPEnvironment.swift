import LoginKit
import Delivery
import Directory
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SMTP
import Storage
import MailCore

/// What every SMTP connection shares: the directory, delivery, TLS, limits and limiters.
public struct SMTPEnvironment: Sendable {
    public var hostname: String
    public var directory: DirectoryService
    public var delivery: LocalDelivery
    public var tls: NIOSSLContext?
    public var limits: SMTPLimits
    /// Let loopback clients AUTH without TLS (Dovecot's convention).
    public var plaintextAuthOnLoopback: Bool
    public var authLimiter: AuthLimiter
    /// Delay before answering a failed login.
    public var authFailureDelay: Duration
    public var logger: Logger
    /// Clients that may relay without AUTH (none by default, not even loopback).
    public var trustedNetworks: [IPNetwork] = []
    /// Clients not held to the per-address connection limit (loopback by default; the config's
    /// `connection_limit_exceptions`).
    public var connectionLimitExceptions: [IPNetwork] = IPNetwork.loopback

    public init(
        hostname: String, directory: DirectoryService, delivery: LocalDelivery, tls: NIOSSLContext?, limits: SMTPLimits,
        plaintextAuthOnLoopback: Bool, authLimiter: AuthLimiter, authFailureDelay: Duration, logger: Logger
    ) {
        self.hostname = hostname
        self.directory = directory
        self.delivery = delivery
        self.tls = tls
        self.limits = limits
        self.plaintextAuthOnLoopback = plaintextAuthOnLoopback
        self.authLimiter = authLimiter
        self.authFailureDelay = authFailureDelay
        self.logger = logger
    }

    var policy: DirectoryPolicy { DirectoryPolicy(directory: directory, delivery: delivery, hostname: hostname) }

    /// A plain-password login (PLAIN, LOGIN), checked off the event loops.
    func authenticate(user: String, password: String, ip: String) async -> AuthResult {
        if authLimiter.isBanned(ip) { return .tempFailure }
        let dir = directory
        let account = try? await NIOThreadPool.singleton.runIfActive { dir.authenticate(address: user, password: password) }
        return await conclude(login: user, account: account?.address.description, ip: ip)
    }

    /// The end of a SCRAM exchange, already verified in the session.
    func finishAuthentication(user: String?, success: Bool, ip: String) async -> AuthResult {
        if authLimiter.isBanned(ip) { return .tempFailure }
        let account = success ? user.flatMap { try? EmailAddress($0) }.flatMap { directory.snapshot.account($0) } : nil
        return await conclude(login: user ?? "?", account: account?.address.description, ip: ip)
    }

    /// Bans and failure delays, the same for every mechanism.
    private func conclude(login: String, account: String?, ip: String) async -> AuthResult {
        if let account {
            authLimiter.recordSuccess(ip)
            return .success(account)
        }
        authLimiter.recordFailure(ip)
        logger.notice("SMTP login failed", metadata: ["client": "\(ip)", "user": "\(login)"])
        try? await Task.sleep(for: authFailureDelay)
        return authLimiter.isBanned(ip) ? .tempFailure : .failure
    }

    func deliver(_ envelope: SMTPEnvelope, _ data: [UInt8], connection: ConnectionInfo) async -> SMTPReply {
        let queueID = LocalDelivery.newQueueID()
        let message = InboundMessage(
            sender: envelope.sender?.description, recipients: envelope.recipients.map(\.address), data: data,
            receivedHeader: Self.receivedHeader(envelope, connection: connection, host: hostname, queueID: queueID),
            clientIP: connection.clientIP, helo: envelope.helo, tls: connection.tls, authenticatedUser: envelope.authenticatedUser)
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
        String(s.unicodeScalars.filter { $0.value >= 0x21 && $0.value != 0x7F && $0 != "(" && $0 != ")" }.prefix(255).map(Character.init))
    }
}

/// Facts about one connection, for trace headers and the delivery log.
struct ConnectionInfo: Sendable {
    var clientIP: String
    var tls: String?
}
