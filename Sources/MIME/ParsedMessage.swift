import Foundation

/// A message parsed into its MIME structure, with what IMAP FETCH and SEARCH need from it.
///
///     let m = ParsedMessage(parsing: bytes)
///     C: a FETCH 1 (ENVELOPE BODYSTRUCTURE)
///     S: * 1 FETCH (ENVELOPE <m.envelope()> BODYSTRUCTURE <m.bodyStructure(extensible: true)>)
///
/// Parsing never fails: broken headers, missing boundaries, bare LF, NUL and 8-bit bytes all
/// give some structure, and every range in it lies inside `bytes`.
public struct ParsedMessage: Sendable, Codable {
    /// The bytes that were parsed; every range in `root` indexes into them.
    public let bytes: [UInt8]
    /// The top-level entity: the message header and its body.
    public var root: MIMEPart

    public init(parsing bytes: [UInt8]) {
        self.bytes = bytes
        var parser = MIMEParser(bytes)
        root = parser.entity(0..<bytes.count, depth: 0, defaultType: .text)
    }

    /// The part with an RFC 3501 §6.4.5 section number, or nil if there is none.
    ///
    /// `[]` is the whole message. In a multipart, `[n]` is the n-th child; in a single-part
    /// message `[1]` is the message itself (its body is part 1). After a message/rfc822 part,
    /// further numbers address the encapsulated message's parts the same way, so for a
    /// message/rfc822 part 2 with a single-part body, `[2, 1]` is that body's entity.
    public func part(at path: [Int]) -> MIMEPart? { root.descendant(at: path) }

    /// The IMAP ENVELOPE of the message: the bytes to send after "ENVELOPE ".
    public func envelope() -> [UInt8] {
        Envelope.render(bytes, header: root.headerRange)
    }

    /// The ENVELOPE of an encapsulated message (the `message` of a message/rfc822 part) or of
    /// any part's header.
    public func envelope(of part: MIMEPart) -> [UInt8] {
        Envelope.render(bytes, header: part.headerRange)
    }

    /// BODYSTRUCTURE (`extensible: true`) or BODY (`extensible: false`): the bytes to send.
    public func bodyStructure(extensible: Bool) -> [UInt8] {
        bodyStructure(of: root, extensible: extensible)
    }

    /// BODYSTRUCTURE or BODY of one part, as in `FETCH BODYSTRUCTURE` of a message/rfc822 part.
    public func bodyStructure(of part: MIMEPart, extensible: Bool) -> [UInt8] {
        var renderer = BodyStructure(bytes: bytes, extensible: extensible)
        renderer.render(part)
        return renderer.out
    }

    /// The top-level header fields, in order: names as written, values unfolded and raw.
    public var headerFields: [(name: String, value: String)] {
        MIMEParser.headerFields(bytes, root.headerRange).map {
            (ASCII.string(bytes[$0.name]), ASCII.string(MIMEParser.unfolded(bytes, $0.value)))
        }
    }

    /// The Date: field parsed (RFC 5322 §3.3 and obsolete forms), for SEARCH SENTBEFORE etc.
    public var sentDate: Date? { sentDateAndZone?.date }

    /// The Date: field's instant and the zone it was written in (minutes east of UTC).
    public var sentDateAndZone: (date: Date, zoneMinutes: Int)? {
        let fields = MIMEParser.headerFields(bytes, root.headerRange)
        return MIMEParser.firstValue(bytes, fields, "date").flatMap(DateParser.parseWithZone)
    }

    /// The Message-ID without its angle brackets (RFC 5322 §3.6.4 `msg-id`).
    public var messageID: String? {
        let fields = MIMEParser.headerFields(bytes, root.headerRange)
        guard let v = MIMEParser.firstValue(bytes, fields, "message-id") else { return nil }
        var id = v[...]
        if let open = id.firstIndex(of: ASCII.less) {
            id = id[(open + 1)...]
            if let close = id.firstIndex(of: ASCII.greater) { id = id[..<close] }
        }
        let s = ASCII.string(id).trimmingCharacters(in: .whitespaces)
        return s.isEmpty ? nil : s
    }
}
