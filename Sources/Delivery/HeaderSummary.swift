import MailCore

/// What delivery needs from a message's header section (RFC 5322 §2.2): a few fields,
/// unfolded. The full MIME parser belongs to IMAP; this reads only the header block.
public struct HeaderSummary: Sendable, Hashable {
    public var messageID: String?
    public var subject: String?
    /// The first `From:` field's value, unfolded.
    public var from: String?
    public var receivedCount = 0
    /// `Delivered-To:` values, lower-cased, for loop detection.
    public var deliveredTo: [String] = []
    /// The first `References:` field's value, unfolded (for replies, RFC 5322 §3.6.4).
    public var references: String?

    public init(_ message: [UInt8]) {
        var fields: [(String, String)] = []
        var current: (String, [UInt8])?
        var lineStart = 0
        var i = 0
        func flush() {
            if let (name, value) = current {
                fields.append((name, String(decoding: value, as: UTF8.self).trimmingASCIISpaces()))
            }
            current = nil
        }
        while i <= message.count {
            let atEnd = i == message.count
            if atEnd || message[i] == UInt8(ascii: "\n") {
                var end = i
                if end > lineStart && message[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = message[lineStart..<end]
                if line.isEmpty { break }  // end of the header section
                if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") {
                    current?.1.append(contentsOf: line)  // folded continuation
                } else {
                    flush()
                    if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
                        current = (name, Array(line[(colon + 1)...]))
                    }
                }
                lineStart = i + 1
                if atEnd { break }
            }
            i += 1
        }
        flush()
        for (name, value) in fields {
            switch name {
            case "message-id" where messageID == nil:
                let v = value.trimmingASCIISpaces()
                messageID = v.hasPrefix("<") && v.hasSuffix(">") ? String(v.dropFirst().dropLast()) : v
            case "subject" where subject == nil:
                subject = value
            case "from" where from == nil:
                from = value
            case "references" where references == nil:
                references = value
            case "received":
                receivedCount += 1
            case "delivered-to":
                deliveredTo.append(value.lowercased())
            default:
                break
            }
        }
    }
}
