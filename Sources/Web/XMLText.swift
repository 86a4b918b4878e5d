/// Text made safe for XML character data and attribute values (XML 1.0 §2.4, §2.3).
func xmlEscaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for ch in text.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        // Control characters other than tab and line ends cannot appear in XML 1.0 at all.
        case _ where ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r": out += "\u{FFFD}"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out
}

struct XMLReaderError: Error, Equatable, CustomStringConvertible {
    var description: String
}

/// Reads the small XML documents clients send (an autodiscover request): elements, attributes,
/// text with the predefined and numeric character references, CDATA, comments and processing
/// instructions, well-formed or refused. A document type declaration is refused: without a DTD
/// no entity can be declared, so nothing expands (no "billion laughs", no external entity).
struct XMLReader {
    /// An element of a small XML document as ``XMLReader`` reads it: its local name (without a
    /// namespace prefix), its text and its child elements. Attributes are checked, not kept.
    struct Element: Sendable, Equatable {
        var name: String
        var text = ""
        var children: [Element] = []

        func child(_ name: String) -> Element? { children.first { $0.name == name } }
    }

    static let maxDepth = 16
    private let bytes: [UInt8]
    private var i = 0

    static func parse(_ bytes: [UInt8]) throws(XMLReaderError) -> XMLReader.Element {
        var r = XMLReader(bytes: bytes)
        if r.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { r.i = 3 }
        try r.skipMisc()
        if r.at("<!DOCTYPE") { throw XMLReaderError(description: "a document type declaration is not accepted") }
        let root = try r.element(depth: 0)
        try r.skipMisc()
        guard r.i == r.bytes.count else { throw XMLReaderError(description: "content after the root element") }
        return root
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func at(_ s: String) -> Bool { bytes[i...].starts(with: s.utf8) }

    private mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    /// Moves past `end`, or throws when the document ends first.
    private mutating func skip(past end: String) throws(XMLReaderError) {
        let e = Array(end.utf8)
        while i < bytes.count {
            if bytes[i...].starts(with: e) {
                i += e.count
                return
            }
            i += 1
        }
        throw XMLReaderError(description: "unterminated \(end)")
    }

    /// Whitespace, comments and processing instructions (the XML declaration among them).
    private mutating func skipMisc() throws(XMLReaderError) {
        while true {
            skipSpace()
            if at("<?") { try skip(past: "?>") } else if at("<!--") { try skip(past: "-->") } else { return }
        }
    }

    private mutating func name() throws(XMLReaderError) -> String {
        let start = i
        while i < bytes.count, !" \t\r\n/>=<&\"'".utf8.contains(bytes[i]) { i += 1 }
        guard i > start else { throw XMLReaderError(description: "a name is missing at byte \(start)") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private static func localName(_ qualified: String) -> String {
        qualified.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? qualified
    }

    private mutating func element(depth: Int) throws(XMLReaderError) -> XMLReader.Element {
        guard depth < Self.maxDepth else {
            throw XMLReaderError(description: "elements nested deeper than \(Self.maxDepth)")
        }
        guard at("<") else { throw XMLReaderError(description: "an element was expected at byte \(i)") }
        i += 1
        let qualified = try name()
        var element = XMLReader.Element(name: Self.localName(qualified))
        // Attributes: name = "value" or 'value'.
        while true {
            skipSpace()
            if at("/>") {
                i += 2
                return element
            }
            if at(">") {
                i += 1
                break
            }
            _ = try name()
            skipSpace()
            guard at("=") else { throw XMLReaderError(description: "an attribute without a value at byte \(i)") }
            i += 1
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else {
                throw XMLReaderError(description: "an attribute value without quotes at byte \(i)")
            }
            let quote = bytes[i]
            i += 1
            while i < bytes.count, bytes[i] != quote {
                guard bytes[i] != UInt8(ascii: "<") else {
                    throw XMLReaderError(description: "'<' in an attribute value")
                }
                i += 1
            }
            guard i < bytes.count else { throw XMLReaderError(description: "unterminated attribute value") }
            i += 1
        }
        // Content, up to the matching end tag.
        var text: [UInt8] = []
        while true {
            guard i < bytes.count else { throw XMLReaderError(description: "<\(qualified)> is not closed") }
            if at("</") {
                i += 2
                let end = try name()
                skipSpace()
                guard end == qualified, at(">") else {
                    throw XMLReaderError(description: "</\(end)> does not close <\(qualified)>")
                }
                i += 1
                element.text = String(decoding: text, as: UTF8.self)
                return element
            } else if at("<!--") {
                try skip(past: "-->")
            } else if at("<![CDATA[") {
                i += 9
                let start = i
                try skip(past: "]]>")
                text += bytes[start..<(i - 3)]
            } else if at("<?") {
                try skip(past: "?>")
            } else if at("<!") {
                throw XMLReaderError(description: "a declaration inside an element")
            } else if at("<") {
                element.children.append(try self.element(depth: depth + 1))
            } else if at("&") {
                text += Array(try reference().utf8)
            } else {
                text.append(bytes[i])
                i += 1
            }
        }
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#N;` `&#xH;` (XML 1.0 §4.1, §4.6).
    private mutating func reference() throws(XMLReaderError) -> String {
        let start = i
        while i < bytes.count, bytes[i] != UInt8(ascii: ";"), i - start < 12 { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: ";") else {
            throw XMLReaderError(description: "an unterminated reference at byte \(start)")
        }
        let body = String(decoding: bytes[(start + 1)..<i], as: UTF8.self)
        i += 1
        switch body {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default:
            let value: UInt32?
            if body.hasPrefix("#x") {
                value = UInt32(body.dropFirst(2), radix: 16)
            } else if body.hasPrefix("#") {
                value = UInt32(body.dropFirst(), radix: 10)
            } else {
                value = nil
            }
            guard let value, value != 0, let scalar = Unicode.Scalar(value) else {
                throw XMLReaderError(description: "an unknown reference &\(body);")
            }
            return String(scalar)
        }
    }
}
