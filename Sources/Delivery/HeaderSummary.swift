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
        // Only the fields kept here are decoded: a signed message's header section has a
        // dozen more (DKIM-Signature, ARC-*, Received…), and making a String of each was most
        // of what this cost on the path to 250.
        var current: Field?
        var value: [UInt8] = []
        var lineStart = 0
        var i = 0
        func flush() {
            if let field = current { keep(field, String(decoding: value, as: UTF8.self).trimmingASCIISpaces()) }
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
                    if current != nil { value.append(contentsOf: line) }  // folded continuation
                } else {
                    flush()
                    if let colon = line.firstIndex(of: UInt8(ascii: ":")), let field = Field(name: line[..<colon]) {
                        if field == .received {
                            receivedCount += 1
                        } else {
                            current = field
                            value = Array(line[(colon + 1)...])
                        }
                    }
                }
                lineStart = i + 1
                if atEnd { break }
            }
            i += 1
        }
        flush()
    }

    /// The fields this reads.
    private enum Field {
        case messageID, subject, from, references, received, deliveredTo

        init?(name: ArraySlice<UInt8>) {
            func named(_ n: StaticString) -> Bool { name.hasASCIIPrefix(lowercased: n) }
            switch name.count {
            case 10 where named("message-id"): self = .messageID
            case 7 where named("subject"): self = .subject
            case 4 where named("from"): self = .from
            case 10 where named("references"): self = .references
            case 8 where named("received"): self = .received
            case 12 where named("delivered-to"): self = .deliveredTo
            default: return nil
            }
        }
    }

    private mutating func keep(_ field: Field, _ value: String) {
        switch field {
        case .messageID where messageID == nil:
            messageID = value.hasPrefix("<") && value.hasSuffix(">") ? String(value.dropFirst().dropLast()) : value
        case .subject where subject == nil: subject = value
        case .from where from == nil: from = value
        case .references where references == nil: references = value
        case .deliveredTo: deliveredTo.append(value.lowercased())
        default: break
        }
    }
}
