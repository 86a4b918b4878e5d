/// Decoded text of a message for IMAP SEARCH (RFC 3501 §6.4.4): header values with RFC 2047
/// words decoded, and the transfer- and charset-decoded text of its text parts.
public struct SearchFields: Hashable, Sendable, Codable {
    /// Every Subject field, decoded, joined by a space. The same for the four address fields.
    public var subject = ""
    public var from = ""
    public var to = ""
    public var cc = ""
    public var bcc = ""
    /// All top-level header fields, "Name: decoded value\n" each (SEARCH HEADER, TEXT).
    public var headers = ""
    /// The decoded text of every text/* part, message/rfc822 contents included, joined by "\n".
    /// Attachments of other types contribute nothing.
    public var body = ""

    public init() {}
}

extension SearchFields {
    /// The fields of a message wherever its bytes are. A text part's body is read up to
    /// `partLimit` octets (the index keeps a capped text anyway: a message in a file is then
    /// indexed in bounded memory).
    public init<Bytes: MIMEBytes>(bytes: Bytes, root: MIMEPart, partLimit: Int = .max) {
        var s = SearchFields()
        for field in MIMEParser.headerFields(bytes, root.headerRange) {
            let name = ASCII.string(bytes.copyBytes(field.name))
            let raw = MIMEParser.unfolded(bytes, field.value)
            let value = EncodedWord.decode(ASCII.string(raw))
            s.headers += name + ": " + value + "\n"
            switch name.lowercased() {
            case "subject": Self.join(&s.subject, value)
            case "from": Self.join(&s.from, ParsedMessage.addressText(value, raw))
            case "to": Self.join(&s.to, ParsedMessage.addressText(value, raw))
            case "cc": Self.join(&s.cc, ParsedMessage.addressText(value, raw))
            case "bcc": Self.join(&s.bcc, ParsedMessage.addressText(value, raw))
            default: break
            }
        }
        var texts: [String] = []
        Self.collectText(root, bytes, partLimit, into: &texts)
        s.body = texts.joined(separator: "\n")
        self = s
    }

    private static func join(_ field: inout String, _ value: String) {
        field += field.isEmpty ? value : " " + value
    }

    /// Depth-first over the tree (bounded by the parser's depth limit).
    private static func collectText<Bytes: MIMEBytes>(_ part: MIMEPart, _ bytes: Bytes, _ partLimit: Int, into texts: inout [String]) {
        if part.isMultipart {
            for child in part.children { collectText(child, bytes, partLimit, into: &texts) }
        } else if let message = part.message {
            collectText(message, bytes, partLimit, into: &texts)
        } else if part.type == "text" {
            let body = part.bodyRange
            let range = body.count <= partLimit ? body : body.lowerBound..<body.lowerBound + partLimit
            let raw = bytes.copyBytes(range)
            let decoded = TransferEncoding.decode(raw, 0..<raw.count, encoding: part.encoding)
            texts.append(Charset.decode(decoded, charset: part.parameter("charset")))
        }
    }
}

extension MessageOutline {
    /// Decoded header and body text for SEARCH, each text part read up to `partLimit` octets.
    public func searchFields(partLimit: Int) -> SearchFields { SearchFields(bytes: bytes, root: root, partLimit: partLimit) }
}

extension ParsedMessage {
    /// Decoded header and body text for SEARCH.
    public func searchFields() -> SearchFields { SearchFields(bytes: bytes, root: root) }

    /// An address field as written (decoded), then as ENVELOPE shows it: each address as
    /// `Name <mailbox@host>` with comments and routes gone, groups as `group:`. SEARCH FROM
    /// then finds `user@host` in `<user (x) @ (y) host>` and the name in `user@host (Name)`.
    static func addressText(_ decoded: String, _ raw: [UInt8]) -> String {
        let addresses = AddressParser.parse(raw)
        var shown: [String] = []
        for a in addresses {
            guard let mailbox = a.mailbox else { continue }  // a group's end
            guard let host = a.host else {
                shown.append(ASCII.string(mailbox) + ":")
                continue
            }
            let spec = ASCII.string(mailbox) + "@" + ASCII.string(host)
            if let name = a.name { shown.append(EncodedWord.decode(ASCII.string(name)) + " <" + spec + ">") } else { shown.append(spec) }
        }
        // Most fields are written as shown already: the index then holds them once.
        let rendered = shown.joined(separator: ", ")
        return rendered.isEmpty || rendered == decoded ? decoded : decoded + "\n" + rendered
    }
}
