/// Builds the `MIMEPart` tree of a message. Internal: `ParsedMessage(parsing:)` is the API.
///
/// The parser never fails. Each entity is split into header and body, its Content-* fields
/// are read, and multiparts and message/rfc822 parts recurse, bounded by `MIME.Limits`.
/// Every range it records is a sub-range of the range it was given, so all ranges stay inside
/// the input.
///
/// Generic over where the bytes are: an array in memory, or a stored message file read in
/// windows (``MIMEBytes``), so a message of tens of megabytes is parsed without holding it.
struct MIMEParser<Bytes: MIMEBytes> {
    let bytes: Bytes
    /// Entities created so far, checked against `MIME.Limits.maxParts`.
    var partCount = 0

    init(_ bytes: Bytes) { self.bytes = bytes }

    /// The default Content-Type of an entity: text/plain, or message/rfc822 in a digest
    /// (RFC 2046 §5.1.5).
    enum DefaultType {
        case text
        case message
    }

    /// Parses the entity in `range`.
    ///
    ///     entity-headers := [ content CRLF ] [ encoding CRLF ] [ id CRLF ] [ description CRLF ]
    ///                       *( MIME-extension-field CRLF )                 ; RFC 2045 §3
    mutating func entity(_ range: Range<Int>, depth: Int, defaultType: DefaultType) -> MIMEPart {
        partCount += 1
        let (header, bodyStart) = Self.splitHeader(bytes, range)
        let body = bodyStart..<range.upperBound
        var part = MIMEPart(headerRange: header, bodyRange: body)
        var sawContentType = false
        for field in Self.headerFields(bytes, header) {
            // Every field we need is "Content-…": check the common prefix once.
            let name = field.name
            guard name.count > 8, ASCII.equalsLowercased(bytes, name.lowerBound..<name.lowerBound + 8, "content-") else {
                continue
            }
            let rest = name.lowerBound + 8..<name.upperBound
            if ASCII.equalsLowercased(bytes, rest, "type") {
                guard !sawContentType else { continue }  // the first one counts
                sawContentType = true
                if let (type, subtype, parameters) = Self.parseContentType(Self.unfolded(bytes, field.value)) {
                    part.type = type
                    part.subtype = subtype
                    part.parameters = parameters
                } else {
                    sawContentType = false  // unusable: RFC 2045 §5.2 default applies
                }
            } else if ASCII.equalsLowercased(bytes, rest, "transfer-encoding") {
                var c = FieldCursor(Self.unfolded(bytes, field.value))
                c.skipCFWS()
                let token = c.token()
                if !token.isEmpty { part.encoding = ASCII.string(token).lowercased() }
            } else if ASCII.equalsLowercased(bytes, rest, "id") {
                part.id = Self.stringValue(bytes, field.value)
            } else if ASCII.equalsLowercased(bytes, rest, "description") {
                part.description = Self.stringValue(bytes, field.value)
            } else if ASCII.equalsLowercased(bytes, rest, "md5") {
                part.md5 = Self.stringValue(bytes, field.value)
            } else if ASCII.equalsLowercased(bytes, rest, "disposition") {
                if part.disposition == nil { part.disposition = Self.parseDisposition(Self.unfolded(bytes, field.value)) }
            } else if ASCII.equalsLowercased(bytes, rest, "language") {
                if part.language == nil { part.language = Self.parseLanguages(Self.unfolded(bytes, field.value)) }
            } else if ASCII.equalsLowercased(bytes, rest, "location") {
                part.location = Self.stringValue(bytes, field.value)
            }
        }
        if !sawContentType {
            switch defaultType {
            case .text: part.parameters = [MIMEParameter(name: "charset", value: "us-ascii")]
            case .message: (part.type, part.subtype) = ("message", "rfc822")
            }
        }

        let canNest = depth < MIME.Limits.maxDepth && partCount < MIME.Limits.maxParts
        if part.type == "multipart" {
            if canNest, let boundary = part.parameter("boundary"), !boundary.isEmpty {
                let childDefault: DefaultType = part.subtype == "digest" ? .message : .text
                part.children = multipartChildren(body, boundary: Array(boundary.utf8), depth: depth + 1, defaultType: childDefault)
            }
            if part.children.isEmpty {
                // IMAP needs at least one body in a multipart (RFC 3501 §9 body-type-mpart), so
                // a multipart we cannot split is shown as the text it is.
                (part.type, part.subtype) = ("text", "plain")
            }
        } else if part.type == "message" && (part.subtype == "rfc822" || part.subtype == "global") {
            // RFC 2046 §5.2.1: only 7bit, 8bit or binary; an encoded one is not parsed inside.
            let identity = ["7bit", "8bit", "binary"].contains(part.encoding ?? "7bit")
            if canNest && identity {
                part.message = entity(body, depth: depth + 1, defaultType: .text)
            } else {
                // BODYSTRUCTURE of a message/rfc822 must carry an envelope and a body; an opaque
                // one is reported as what it is to us, an attachment.
                (part.type, part.subtype) = ("application", "octet-stream")
            }
        }
        if part.type == "text" || part.message != nil {
            part.bodyLines = Self.countLines(bytes, body)
        }
        return part
    }

    /// An unstructured field value as a String: unfolded, trimmed, raw (no RFC 2047 decoding).
    static func stringValue(_ bytes: Bytes, _ range: Range<Int>) -> String {
        ASCII.string(unfolded(bytes, range))
    }
}
