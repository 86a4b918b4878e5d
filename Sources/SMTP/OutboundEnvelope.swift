/// One message to relay over an outbound SMTP connection.
///
/// ```
/// C: MAIL FROM:<sender> SIZE=<data.count> [BODY=8BITMIME] [SMTPUTF8]
/// C: RCPT TO:<recipient>            (one per recipient)
/// C: DATA
/// C: <data, dot-stuffed> CRLF . CRLF
/// ```
public struct OutboundEnvelope: Hashable, Sendable {
    /// The reverse-path; "" is the null reverse-path `<>` (bounces, RFC 5321 §4.5.5).
    public var sender: String
    public var recipients: [String]
    /// The whole message with CRLF line ends, not dot-stuffed.
    public var data: [UInt8]
    /// Addresses or headers are UTF-8 (RFC 6531): refused by servers without SMTPUTF8.
    public var requiresSMTPUTF8: Bool
    /// The data has octets above 127: sent with BODY=8BITMIME when the server offers it.
    public var has8BitData: Bool

    public init(
        sender: String, recipients: [String], data: [UInt8], requiresSMTPUTF8: Bool = false, has8BitData: Bool? = nil
    ) {
        self.sender = sender
        self.recipients = recipients
        self.data = data
        self.requiresSMTPUTF8 = requiresSMTPUTF8
        self.has8BitData = has8BitData ?? data.contains { $0 >= 0x80 }
    }
}

/// The server's answers to one transaction.
public struct TransactionResult: Hashable, Sendable {
    public var mailReply: SMTPReply
    /// One per envelope recipient, in order. When MAIL was refused, each is the MAIL reply
    /// (the RCPT replies then say nothing about the recipient). When the server closed with
    /// 421 part-way, recipients it had not answered get that 421.
    public var recipientReplies: [SMTPReply]
    /// The reply to the end of data, or to DATA itself when that was refused. nil when MAIL
    /// failed or no recipient was accepted.
    public var dataReply: SMTPReply?

    public init(mailReply: SMTPReply, recipientReplies: [SMTPReply], dataReply: SMTPReply?) {
        self.mailReply = mailReply
        self.recipientReplies = recipientReplies
        self.dataReply = dataReply
    }

    /// Recipients whose message the server took: accepted at RCPT and the data accepted.
    public var deliveredIndices: [Int] {
        guard let dataReply, dataReply.code / 100 == 2 else { return [] }
        return recipientReplies.indices.filter { recipientReplies[$0].code / 100 == 2 }
    }
}

/// When to use STARTTLS (RFC 3207) on an outbound connection.
public enum SMTPTLSPolicy: Hashable, Sendable {
    /// Never.
    case none
    /// When the server offers it, without certificate verification (Postfix "may"). A refused
    /// STARTTLS continues in plaintext; a failed handshake fails the connection.
    case opportunistic
    /// STARTTLS must succeed, else the connection fails with a temporary error (Postfix
    /// "encrypt"). Certificates are verified only if the TLS configuration says so.
    case required
    /// As `required`, and the certificate must chain to a trusted CA and name the host
    /// connected to, or its IP address (Postfix "verify").
    case verify

    /// The connection fails rather than go on without TLS.
    public var requiresTLS: Bool { self == .required || self == .verify }
}

/// Time allowed for each stage (RFC 5321 §4.5.3.2). Every one can be overridden.
public struct SMTPClientTimeouts: Hashable, Sendable {
    /// TCP connect.
    public var connect: Duration = .seconds(30)
    /// The 220 greeting: 5 minutes.
    public var greeting: Duration = .seconds(300)
    /// EHLO, HELO, STARTTLS (with the handshake), AUTH, RSET.
    public var command: Duration = .seconds(300)
    /// MAIL: 5 minutes.
    public var mail: Duration = .seconds(300)
    /// Each RCPT: 5 minutes.
    public var rcpt: Duration = .seconds(300)
    /// The 354 to DATA: 2 minutes.
    public var dataInit: Duration = .seconds(120)
    /// Writing the message data: 3 minutes. The data goes out in one write, so this bounds
    /// the whole write rather than each TCP send.
    public var dataBlock: Duration = .seconds(180)
    /// The reply to the final ".": 10 minutes.
    public var dataEnd: Duration = .seconds(600)
    /// The 221 to QUIT (not in RFC 5321; kept short as nothing depends on it).
    public var quit: Duration = .seconds(30)

    public init() {}

    public init(all duration: Duration) {
        connect = duration
        greeting = duration
        command = duration
        mail = duration
        rcpt = duration
        dataInit = duration
        dataBlock = duration
        dataEnd = duration
        quit = duration
    }

    public func duration(for stage: SMTPClientSession.Stage) -> Duration {
        switch stage {
        case .greeting: greeting
        case .ehlo, .helo, .starttls, .tlsHandshake, .auth, .rset: command
        case .mail: mail
        case .rcpt: rcpt
        case .dataInit: dataInit
        case .dataBlock: dataBlock
        case .dataEnd: dataEnd
        case .quit: quit
        }
    }
}
