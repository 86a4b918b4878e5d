import Delivery
import Foundation
import MailCore
import Storage

/// A delivery status notification (RFC 3464): a multipart/report telling the sender which
/// recipients failed (or are delayed) and why, with the original message's header attached.
struct DeliveryStatusNotice {
    struct Recipient {
        var address: String
        /// `failed` or `delayed` (RFC 3464 §2.3.3).
        var action: String
        /// Enhanced status code (RFC 3463), e.g. `5.1.1`.
        var status: String
        /// The remote server's reply, or what went wrong before there was one.
        var diagnostic: String
        /// The host that gave the reply.
        var remoteMTA: String?
        var lastAttempt: Date?
    }

    var reportingMTA: String
    var originalSender: String
    var queueID: String
    var arrival: Date
    var recipients: [Recipient]
    /// The original message (only its header section is attached).
    var original: [UInt8]
    var now: Date

    var isDelay: Bool { recipients.allSatisfy { $0.action == "delayed" } }

    /// The status code to report for a reply: its enhanced code when it has one, else the
    /// class digit of the basic code (RFC 3463 `X.0.0`).
    static func status(of reply: String) -> String {
        let words = reply.split(separator: " ", maxSplits: 2)
        if words.count > 1, let code = Int(words[0].prefix(3)) {
            let e = words[1].split(separator: ".")
            if e.count == 3, e.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }), e[0] == String(code / 100) { return String(words[1]) }
            if (400..<600).contains(code) { return "\(code / 100).0.0" }
        }
        return "4.0.0"
    }

    func rendered() -> [UInt8] {
        let boundary = "=_mailroom_\(queueID)_\(UInt32.random(in: 0...UInt32.max))"
        let subject = isDelay ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender"
        var out = ""
        out += "From: Mail Delivery System <MAILER-DAEMON@\(reportingMTA)>\r\n"
        out += "To: <\(originalSender)>\r\n"
        out += "Subject: \(subject)\r\n"
        out += "Date: \(RFC5322Date.string(now))\r\n"
        out += "Message-ID: <\(queueID).\(UInt32.random(in: 0...UInt32.max))@\(reportingMTA)>\r\n"
        out += "Auto-Submitted: auto-replied\r\n"
        out += "MIME-Version: 1.0\r\n"
        out += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"\(boundary)\"\r\n"
        out += "\r\nThis is a MIME-encapsulated delivery status notification.\r\n"

        out += "\r\n--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        out += humanText()

        out += "\r\n--\(boundary)\r\nContent-Type: message/delivery-status\r\n\r\n"
        out += "Reporting-MTA: dns; \(reportingMTA)\r\n"
        out += "X-Mailroom-Queue-ID: \(queueID)\r\n"
        out += "Arrival-Date: \(RFC5322Date.string(arrival))\r\n"
        for r in recipients {
            out += "\r\nFinal-Recipient: rfc822; \(r.address)\r\n"
            out += "Action: \(r.action)\r\n"
            out += "Status: \(r.status)\r\n"
            if let mta = r.remoteMTA { out += "Remote-MTA: dns; \(mta)\r\n" }
            out += "Diagnostic-Code: smtp; \(Self.oneLine(r.diagnostic))\r\n"
            if let at = r.lastAttempt { out += "Last-Attempt-Date: \(RFC5322Date.string(at))\r\n" }
            if r.action == "delayed" { out += "Will-Retry-Until: \(RFC5322Date.string(arrival.addingTimeInterval(5 * 86400)))\r\n" }
        }

        out += "\r\n--\(boundary)\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        var bytes = Array(out.utf8)
        bytes += Self.headerSection(of: original)
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    private func humanText() -> String {
        var t = "This is the mail system at \(reportingMTA).\r\n\r\n"
        if isDelay {
            t += "Your message could not be delivered yet to the recipients below. It stays in the\r\n"
            t += "queue and will be retried; you do not need to send it again.\r\n\r\n"
        } else {
            t += "Your message could not be delivered to the recipients below. It was not\r\n"
            t += "delivered to them and will not be retried.\r\n\r\n"
        }
        for r in recipients {
            t += "<\(r.address)>: "
            if let mta = r.remoteMTA { t += "host \(mta) said: " }
            t += Self.oneLine(r.diagnostic) + "\r\n"
        }
        return t
    }

    /// The header section, up to and including the blank line (or the whole message if it
    /// has no body), with bare LFs made CRLF.
    static func headerSection(of message: [UInt8]) -> [UInt8] {
        var end = message.count
        var i = 0
        while i + 1 < message.count {
            if message[i] == 0x0A && (message[i + 1] == 0x0A || (message[i + 1] == 0x0D && i + 2 < message.count && message[i + 2] == 0x0A)) {
                end = i + 1
                break
            }
            i += 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(end + 16)
        var previous: UInt8 = 0
        for b in message[..<end] {
            if b == 0x0A && previous != 0x0D { out.append(0x0D) }
            out.append(b)
            previous = b
        }
        if out.count < 2 || out.suffix(2) != [0x0D, 0x0A] { out += [0x0D, 0x0A] }
        return out
    }

    static func oneLine(_ s: String) -> String {
        String(s.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : Character($0) }.prefix(900))
    }

    /// Addresses the notice to the original sender from the null sender (into a local mailbox,
    /// or onto the queue), and adds the event that tells of it to the original message's
    /// trace. The caller commits the result together with the change that caused it.
    func prepare(delivery: LocalDelivery, messageID: String?, authUser: String?, what: String) async throws -> PreparedDelivery {
        let id = LocalDelivery.newQueueID()
        var prepared = try await delivery.prepare(
            InboundMessage(
                sender: nil, recipients: [originalSender], data: rendered(),
                receivedHeader: "Received: by \(reportingMTA) (Mailroom) id \(id);\r\n\t\(RFC5322Date.string(now))\r\n", clientIP: nil,
                helo: nil, tls: nil, authenticatedUser: authUser),
            queueID: id)
        prepared.events.append(
            DeliveryEvent(
                at: now, queueID: queueID, messageID: messageID, event: .notified, sender: originalSender, recipient: originalSender,
                clientIP: nil, helo: nil, tls: nil, authUser: authUser, detail: "\(what) sent to the sender as \(id)", reply: nil))
        return prepared
    }
}
