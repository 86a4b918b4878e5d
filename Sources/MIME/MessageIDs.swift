/// Message-IDs in Message-ID, In-Reply-To and References fields, as THREAD=REFERENCES links
/// them (RFC 5256 §3, REFERENCES step 1).
///
///     msg-id    = [CFWS] "<" id-left "@" id-right ">" [CFWS]      ; RFC 5322 §3.6.4
///     references = "References:" 1*msg-id CRLF
///
/// Best effort, as the RFC asks of broken fields: every `<...>` with an "@" inside and no
/// whitespace counts; text between them (phrases of old In-Reply-To fields, comments) is skipped.
public enum MessageIDs {
    /// The valid IDs in `value`, in order, without the angle brackets.
    public static func all(in value: [UInt8]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < value.count {
            guard value[i] == ASCII.less else {
                i += 1
                continue
            }
            var j = i + 1
            var at = false
            var valid = true
            while j < value.count, value[j] != ASCII.greater, value[j] != ASCII.less {
                if value[j] == ASCII.at { at = true }
                if value[j] <= ASCII.space { valid = false }
                j += 1
            }
            guard j < value.count, value[j] == ASCII.greater else {
                i = j
                continue
            }
            if valid && at && j > i + 1 { out.append(String(decoding: value[(i + 1)..<j], as: UTF8.self)) }
            i = j + 1
        }
        return out
    }

    /// The first valid ID in `value` (a Message-ID or In-Reply-To field).
    public static func first(in value: [UInt8]) -> String? {
        all(in: value).first
    }
}

extension MessageIDs {
    /// What THREAD=REFERENCES links a message to, reading only its header: the References IDs,
    /// or when there are none, the first valid In-Reply-To ID (RFC 5256 §3, REFERENCES 1.A).
    public static func threadReferences(message bytes: [UInt8]) -> [String] {
        threadIDs(message: bytes).references
    }

    /// The message's own Message-ID (nil when missing or invalid) and ``threadReferences(message:)``.
    public static func threadIDs<Bytes: MIMEBytes>(message bytes: Bytes) -> (messageID: String?, references: [String]) {
        threadIDs(bytes, header: MIMEParser.splitHeader(bytes, 0..<bytes.count).header)
    }

    /// The same, of a header parsed already (`header`: its range in `bytes`).
    public static func threadIDs<Bytes: MIMEBytes>(_ bytes: Bytes, header: Range<Int>) -> (
        messageID: String?, references: [String]
    ) {
        let fields = MIMEParser.headerFields(bytes, header)
        let messageID = MIMEParser.firstValue(bytes, fields, "message-id").flatMap { first(in: $0) }
        let references = MIMEParser.firstValue(bytes, fields, "references").map { all(in: $0) } ?? []
        if !references.isEmpty { return (messageID, references) }
        let inReplyTo = MIMEParser.firstValue(bytes, fields, "in-reply-to").flatMap { first(in: $0) }
        return (messageID, inReplyTo.map { [$0] } ?? [])
    }
}
