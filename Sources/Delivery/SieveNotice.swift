import Foundation
import MailCore
import Sieve

/// The messages an account's rules send in its name: vacation replies (RFC 5230 §5, RFC 3834)
/// and the notice a `reject` becomes once the message was accepted (RFC 5429 §2.1).
enum SieveNotice {
    /// The reply to `original` for a vacation action that may be sent.
    static func vacation(_ v: SieveVacation, account: String, original: [UInt8], queueID: String, now: Date) -> [UInt8]
    {
        let headers = HeaderSummary(original)
        // RFC 5230 §5.5: without :subject, "Auto: " and the original subject.
        let subject = v.subject.map(SieveDelivery.headerText) ?? "Auto: " + (headers.subject ?? "")
        var out = "From: \(v.from.map(SieveDelivery.headerText) ?? "<\(account)>")\r\n"
        out += "To: <\(v.recipient)>\r\n"
        out += "Subject: \(subject)\r\n"
        out += "Date: \(RFC5322Date.string(now))\r\n"
        out += "Message-ID: <\(queueID).vacation@\(LocalDelivery.domain(of: account))>\r\n"
        if let id = headers.messageID {
            // RFC 5230 §5.8: In-Reply-To and References name the message answered.
            out += "In-Reply-To: <\(id)>\r\n"
            out += "References: \(headers.references.map { $0 + " " } ?? "")<\(id)>\r\n"
        }
        out += "Auto-Submitted: auto-replied (vacation)\r\n"
        out += "Precedence: bulk\r\n"
        out += "MIME-Version: 1.0\r\n"
        if v.mime {
            // :mime: the reason is a MIME entity, its own header fields first.
            return Array((out + crlf(v.reason)).utf8)
        }
        out += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        out += crlf(v.reason)
        if !out.hasSuffix("\r\n") { out += "\r\n" }
        return Array(out.utf8)
    }

    /// The notice for a `reject` after `250`: a message to the sender saying why, with the
    /// original header section attached (the MDN shape RFC 5429 §2.1.1 asks for).
    static func rejection(
        reason: String, account: String, sender: String, original: [UInt8], queueID: String, now: Date
    ) -> [UInt8] {
        let headers = HeaderSummary(original)
        let domain = LocalDelivery.domain(of: account)
        let boundary = "=_mailroom_reject_\(queueID)"
        var out = "From: Mail Delivery System <MAILER-DAEMON@\(domain)>\r\n"
        out += "To: <\(sender)>\r\n"
        out += "Subject: Rejected: \(headers.subject ?? "your message")\r\n"
        out += "Date: \(RFC5322Date.string(now))\r\n"
        out += "Message-ID: <\(queueID).reject@\(domain)>\r\n"
        if let id = headers.messageID { out += "In-Reply-To: <\(id)>\r\n" }
        out += "Auto-Submitted: auto-replied (rejected)\r\n"
        out += "MIME-Version: 1.0\r\n"
        out +=
            "Content-Type: multipart/report; report-type=disposition-notification;\r\n\tboundary=\"\(boundary)\"\r\n\r\n"
        out += "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        out += "Your message to <\(account)> was rejected by the recipient's mail rules:\r\n\r\n"
        out += crlf(reason) + "\r\n"
        out += "\r\n--\(boundary)\r\nContent-Type: message/disposition-notification\r\n\r\n"
        out += "Reporting-UA: \(domain); Mailroom\r\n"
        out += "Final-Recipient: rfc822; \(account)\r\n"
        if let id = headers.messageID { out += "Original-Message-ID: <\(id)>\r\n" }
        out += "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n"
        out += "\r\n--\(boundary)\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        var bytes = Array(out.utf8)
        bytes += headerSection(of: original)
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    /// One line for an SMTP reply: printable ASCII only (others as "?", line breaks as
    /// spaces), at most 200 characters.
    static func oneLine(_ s: String) -> String {
        let line = s.unicodeScalars.map { c -> Character in
            if c == "\r" || c == "\n" || c == "\t" { return " " }
            return (0x20..<0x7F).contains(c.value) ? Character(c) : "?"
        }
        return String(String(line).prefix(200))
    }

    /// Line breaks as CRLF, whatever the script wrote.
    static func crlf(_ s: String) -> String {
        s.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// The header section of a message, up to and including the blank line.
    static func headerSection(of message: [UInt8]) -> [UInt8] {
        let crlfcrlf: [UInt8] = [13, 10, 13, 10]
        var i = 0
        while i + 4 <= message.count {
            if Array(message[i..<i + 4]) == crlfcrlf { return Array(message[..<(i + 4)]) }
            i += 1
        }
        return message + [13, 10]
    }
}
