/// A parameter of a Content-Type or Content-Disposition field (RFC 2045 §5.1, RFC 2183 §2).
///
/// RFC 2231 sections (`name*0*`, `name*1` …) are merged and their charset decoded, so `value`
/// is always the whole Unicode value; `charset`/`language` say it came from an extended form.
public struct MIMEParameter: Hashable, Sendable, Codable {
    /// The attribute, lowercased, without RFC 2231 `*` or section number: `filename`.
    public var name: String
    /// The value, unquoted and (for RFC 2231 values) percent- and charset-decoded.
    public var value: String
    /// The RFC 2231 charset, lowercased, when the parameter used the extended syntax.
    public var charset: String?
    /// The RFC 2231 language tag, when one was given.
    public var language: String?

    public init(name: String, value: String, charset: String? = nil, language: String? = nil) {
        self.name = name
        self.value = value
        self.charset = charset
        self.language = language
    }
}

/// A Content-Disposition field (RFC 2183): `attachment; filename="a.pdf"`.
public struct MIMEDisposition: Hashable, Sendable, Codable {
    /// The disposition type, lowercased: `inline`, `attachment`, …
    public var type: String
    public var parameters: [MIMEParameter]

    public init(type: String, parameters: [MIMEParameter] = []) {
        self.type = type
        self.parameters = parameters
    }
}

/// One MIME entity of a parsed message, with byte ranges into the bytes that were parsed.
///
/// The ranges always lie inside the parsed bytes; the parser guarantees that for any input.
public struct MIMEPart: Hashable, Sendable, Codable {
    /// The header section, including the empty line that ends it when there is one.
    public var headerRange: Range<Int>
    /// The body: after the empty line, up to (not including) the line ending that precedes the
    /// next boundary delimiter (RFC 2046 §5.1.1: that CRLF belongs to the delimiter).
    public var bodyRange: Range<Int>
    /// Media type, lowercased: `text`. Defaults to `text` (`message` inside multipart/digest).
    public var type: String
    /// Media subtype, lowercased: `plain`.
    public var subtype: String
    /// Content-Type parameters in the order given. Defaults to `charset=us-ascii` for a part
    /// without Content-Type (RFC 2045 §5.2).
    public var parameters: [MIMEParameter]
    /// Content-ID, raw (with its `<>`).
    public var id: String?
    /// Content-Description, raw (RFC 2047 words not decoded, as IMAP sends it).
    public var description: String?
    /// Content-Transfer-Encoding, lowercased; `7bit` when absent (RFC 2045 §6.1).
    public var encoding: String?
    /// Content-MD5 (RFC 1864), raw.
    public var md5: String?
    /// Content-Disposition (RFC 2183).
    public var disposition: MIMEDisposition?
    /// Content-Language tags (RFC 3282).
    public var language: [String]?
    /// Content-Location (RFC 2557), unfolded.
    public var location: String?
    /// Lines in the body: LF count, plus one for a last line without a line ending.
    public var bodyLines: Int
    /// The parts of a multipart, in order; empty for every other type.
    public var children: [MIMEPart]
    /// Boxed so the struct can contain itself: at most one element.
    private var encapsulated: [MIMEPart]

    /// For message/rfc822 and message/global: the encapsulated message's top entity.
    public var message: MIMEPart? {
        get { encapsulated.first }
        set { encapsulated = newValue.map { [$0] } ?? [] }
    }

    public init(
        headerRange: Range<Int>, bodyRange: Range<Int>, type: String = "text", subtype: String = "plain",
        parameters: [MIMEParameter] = [], id: String? = nil, description: String? = nil, encoding: String? = "7bit",
        md5: String? = nil, disposition: MIMEDisposition? = nil, language: [String]? = nil, location: String? = nil,
        bodyLines: Int = 0, children: [MIMEPart] = [], message: MIMEPart? = nil
    ) {
        self.headerRange = headerRange
        self.bodyRange = bodyRange
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
        self.id = id
        self.description = description
        self.encoding = encoding
        self.md5 = md5
        self.disposition = disposition
        self.language = language
        self.location = location
        self.bodyLines = bodyLines
        self.children = children
        self.encapsulated = message.map { [$0] } ?? []
    }

    /// True for multipart/* parts that were split into children.
    public var isMultipart: Bool { !children.isEmpty }

    /// The value of a Content-Type parameter (name compared case-insensitively).
    public func parameter(_ name: String) -> String? {
        let name = name.lowercased()
        return parameters.first { $0.name == name }?.value
    }

    /// Body size in octets, as BODYSTRUCTURE reports it.
    public var size: Int { bodyRange.count }
}
