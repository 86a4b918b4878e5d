import Foundation
import MailCore
import Storage

/// A message to try (`mailroom trace --dry-run`): the SMTP transaction as a client would
/// make it, decided by the same code as real mail, with nothing delivered, stored, queued,
/// sent, counted or remembered.
public struct DryRunTransaction: Sendable, Hashable {
    /// The envelope sender; "" for the null sender (a bounce).
    public var sender: String
    public var recipients: [String]
    /// The message (RFC 5322 text); nil for a minimal one made from the envelope.
    public var message: String?
    /// Where it comes from; nil checks no SPF, reverse DNS or blocklist.
    public var clientIP: String?
    /// The client's EHLO name; nil uses the sender's domain.
    public var helo: String?
    /// Sent by this authenticated user (submission) rather than to the MX.
    public var authenticatedUser: String?

    public init(
        sender: String, recipients: [String], message: String? = nil, clientIP: String? = nil, helo: String? = nil,
        authenticatedUser: String? = nil
    ) {
        self.sender = sender
        self.recipients = recipients
        self.message = message
        self.clientIP = clientIP
        self.helo = helo
        self.authenticatedUser = authenticatedUser
    }

    /// The message as given with CRLF line ends, or a minimal one naming the envelope.
    public func messageData(hostname: String, now: Date = Date()) -> [UInt8] {
        if let message { return Array(SieveNotice.crlf(message).utf8) }
        var text = "From: <\(sender)>\r\nTo: \(recipients.map { "<\($0)>" }.joined(separator: ", "))\r\n"
        text += "Subject: dry run\r\nDate: \(RFC5322Date.string(now))\r\n"
        text += "Message-ID: <dry-run.\(UUID().uuidString.lowercased())@\(hostname)>\r\n\r\n(a dry run)\r\n"
        return Array(text.utf8)
    }
}

/// One decision of a dry run, told as `mailroom trace` tells the events of real mail
/// (`stored`, `queued`, `held`, `filtered`, `rejected`, …) plus the SMTP dialogue's own steps
/// (`connect`, `sender`, `rcpt`) and each remote recipient's `route`.
public struct DryRunStep: Sendable, Hashable {
    public var step: String
    public var recipient: String?
    public var detail: String?
    /// The SMTP reply the client would get, for a refusal.
    public var reply: String?

    public init(_ step: String, recipient: String? = nil, detail: String? = nil, reply: String? = nil) {
        self.step = step
        self.recipient = recipient
        self.detail = detail
        self.reply = reply
    }

    /// An event of the message's story, as a real delivery would record it.
    public init(_ event: DeliveryEvent) {
        self.init(event.event.rawValue, recipient: event.recipient, detail: event.detail, reply: event.reply)
    }
}
