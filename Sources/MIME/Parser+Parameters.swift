/// A read position in one unfolded structured field value.
struct FieldCursor {
    let bytes: [UInt8]
    var pos = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { pos >= bytes.count }
    var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    /// Skips CFWS: whitespace and (nested) comments.
    ///
    ///     comment = "(" *([FWS] ccontent) [FWS] ")"        ; RFC 5322 §3.2.2
    ///     ccontent = ctext / quoted-pair / comment
    ///
    /// An unclosed comment runs to the end of the value.
    /// One comment, from its "(" to the matching ")": its text with quoted-pairs undone,
    /// nested comments kept as written, white space runs as one space, trimmed.
    ///
    ///     comment = "(" *([FWS] ccontent) [FWS] ")"       ; RFC 5322 §3.2.2
    ///     ccontent = ctext / quoted-pair / comment
    mutating func comment() -> [UInt8] {
        var text: [UInt8] = []
        var depth = 0
        while pos < bytes.count {
            let c = bytes[pos]
            pos += 1
            if c == ASCII.backslash {
                if pos < bytes.count {
                    text.append(bytes[pos])
                    pos += 1
                }
                continue
            }
            if c == ASCII.openParen {
                depth += 1
                if depth == 1 { continue }
            } else if c == ASCII.closeParen {
                depth -= 1
                if depth == 0 { break }
            }
            if ASCII.isWhitespace(c) {
                if let last = text.last, last != ASCII.space { text.append(ASCII.space) }
            } else {
                text.append(c)
            }
        }
        while text.last == ASCII.space { text.removeLast() }
        return text
    }

    mutating func skipCFWS() {
        while pos < bytes.count {
            let b = bytes[pos]
            if ASCII.isWhitespace(b) {
                pos += 1
            } else if b == ASCII.openParen {
                var depth = 0
                while pos < bytes.count {
                    let c = bytes[pos]
                    if c == ASCII.backslash {
                        pos += 1
                    } else if c == ASCII.openParen {
                        depth += 1
                    } else if c == ASCII.closeParen {
                        depth -= 1
                        if depth == 0 {
                            pos += 1
                            break
                        }
                    }
                    pos += 1
                }
                // A quoted-pair's backslash as the last byte steps past the end.
                pos = min(pos, bytes.count)
            } else {
                return
            }
        }
    }

    /// RFC 2045 §5.1 token characters, widened to 8-bit bytes so sloppy input still parses.
    ///
    ///     token    = 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>
    ///     tspecials = "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" / <"> / "/" / "[" / "]" / "?" / "="
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0...32, 127: false
        case 40, 41, 60, 62, 64, 44, 59, 58, 92, 34, 47, 91, 93, 63, 61: false
        default: true
        }
    }

    mutating func token() -> ArraySlice<UInt8> {
        let start = pos
        while pos < bytes.count && Self.isTokenByte(bytes[pos]) { pos += 1 }
        return bytes[start..<pos]
    }

    /// `quoted-string` without its quotes, quoted-pairs unescaped; the cursor is on the `"`.
    /// An unclosed quote runs to the end of the value.
    mutating func quotedString() -> [UInt8] {
        var out: [UInt8] = []
        pos += 1
        while pos < bytes.count {
            let b = bytes[pos]
            pos += 1
            if b == ASCII.quote { break }
            if b == ASCII.backslash && pos < bytes.count {
                out.append(bytes[pos])
                pos += 1
            } else {
                out.append(b)
            }
        }
        return out
    }
}

extension MIMEParser {
    /// Parses a Content-Type value. Nil when the type is unusable, so the default applies.
    ///
    ///     content := type "/" subtype *(";" parameter)      ; RFC 2045 §5.1
    static func parseContentType(_ value: [UInt8]) -> (type: String, subtype: String, parameters: [MIMEParameter])? {
        var c = FieldCursor(value)
        c.skipCFWS()
        let type = c.token()
        c.skipCFWS()
        guard !type.isEmpty, c.current == ASCII.slash else { return nil }
        c.pos += 1
        c.skipCFWS()
        let subtype = c.token()
        guard !subtype.isEmpty else { return nil }
        return (ASCII.string(type).lowercased(), ASCII.string(subtype).lowercased(), parameters(&c))
    }

    /// Parses a Content-Disposition value.
    ///
    ///     disposition := "Content-Disposition" ":" disposition-type *(";" disposition-parm)  ; RFC 2183 §2
    static func parseDisposition(_ value: [UInt8]) -> MIMEDisposition? {
        var c = FieldCursor(value)
        c.skipCFWS()
        let type = c.token()
        guard !type.isEmpty else { return nil }
        return MIMEDisposition(type: ASCII.string(type).lowercased(), parameters: parameters(&c))
    }

    /// Content-Language: a comma-separated list of language tags (RFC 3282 §2).
    static func parseLanguages(_ value: [UInt8]) -> [String]? {
        var c = FieldCursor(value)
        var tags: [String] = []
        while !c.atEnd && tags.count < MIME.Limits.maxParameters {
            c.skipCFWS()
            let tag = c.token()
            if !tag.isEmpty { tags.append(ASCII.string(tag)) }
            if !c.atEnd && tag.isEmpty { c.pos += 1 }  // a stray special: step over it
        }
        return tags.isEmpty ? nil : tags
    }

    /// `*(";" parameter)`, tolerant: missing semicolons, unquoted values with specials (as in
    /// `boundary=----=_Part_1`), unclosed quotes and parameters without values are accepted or
    /// skipped. RFC 2231 sections and charsets are merged by `mergeRFC2231`.
    ///
    ///     parameter := attribute "=" value                   ; RFC 2045 §5.1
    ///     value := token / quoted-string
    static func parameters(_ c: inout FieldCursor) -> [MIMEParameter] {
        var raw: [(attribute: String, value: [UInt8])] = []
        while !c.atEnd && raw.count < MIME.Limits.maxParameters * 4 {
            c.skipCFWS()
            guard let b = c.current else { break }
            if b == ASCII.semicolon {
                c.pos += 1
                continue
            }
            let attribute = c.token()
            guard !attribute.isEmpty else {
                c.pos += 1  // a byte that cannot start a parameter: skip it, keep going
                continue
            }
            c.skipCFWS()
            guard c.current == ASCII.equals else { continue }
            c.pos += 1
            c.skipCFWS()
            var value: [UInt8]
            if c.current == ASCII.quote {
                value = c.quotedString()
            } else {
                let start = c.pos
                while let v = c.current, v != ASCII.semicolon, !ASCII.isWhitespace(v) { c.pos += 1 }
                value = Array(c.bytes[start..<c.pos])
            }
            raw.append((ASCII.string(attribute).lowercased(), value))
        }
        return mergeRFC2231(raw)
    }

    /// Merges RFC 2231 parameter sections and decodes extended values.
    ///
    ///     extended-parameter := (extended-initial-name "=" extended-initial-value) /
    ///                           (extended-other-names "=" extended-other-values)    ; RFC 2231 §7
    ///     extended-initial-value := [charset] "'" [language] "'" extended-other-values
    ///     extended-other-values := *(ext-octet / attribute-char)
    ///     ext-octet := "%" 2(DIGIT / "A" / "B" / "C" / "D" / "E" / "F")
    ///
    /// When both `name` and `name*` are present the extended form wins (RFC 2231 §4 lets
    /// senders give both for old readers).
    static func mergeRFC2231(_ raw: [(attribute: String, value: [UInt8])]) -> [MIMEParameter] {
        typealias Pending = RFC2231Pending
        var order: [String] = []
        var pending: [String: Pending] = [:]
        for (attribute, value) in raw {
            var name = attribute
            var section: Int?
            var extended = false
            if let star = attribute.firstIndex(of: "*") {
                name = String(attribute[..<star])
                var rest = attribute[attribute.index(after: star)...]
                if rest.hasSuffix("*") {
                    extended = true
                    rest = rest.dropLast()
                }
                if rest.isEmpty {
                    section = 0
                    extended = true  // `name*=` is the single-section extended form
                } else if let n = Int(rest), n >= 0, n < MIME.Limits.maxParameterSections {
                    section = n
                } else {
                    name = attribute  // not RFC 2231 after all: keep the attribute as given
                    extended = false
                }
            }
            if name.isEmpty { continue }
            if pending[name] == nil {
                if order.count >= MIME.Limits.maxParameters { continue }
                order.append(name)
                pending[name] = Pending()
            }
            if let section {
                if pending[name]!.sections[section] == nil { pending[name]!.sections[section] = (value, extended) }
            } else if pending[name]!.plain == nil {
                pending[name]!.plain = value
            }
        }
        return order.compactMap { name -> MIMEParameter? in
            guard let p = pending[name] else { return nil }
            if p.sections.isEmpty { return MIMEParameter(name: name, value: ASCII.string(p.plain ?? [])) }
            var bytes: [UInt8] = []
            var charset: String?
            var language: String?
            for n in p.sections.keys.sorted() {
                guard let (value, extended) = p.sections[n] else { continue }
                var v = value[...]
                if n == 0 && extended {
                    // charset'language'value; tolerate a missing prefix.
                    let parts = v.split(separator: ASCII.apostrophe, maxSplits: 2, omittingEmptySubsequences: false)
                    if parts.count == 3 {
                        charset = ASCII.string(parts[0]).lowercased()
                        language = parts[1].isEmpty ? nil : ASCII.string(parts[1])
                        v = parts[2]
                    }
                }
                bytes += extended ? percentDecoded(v) : Array(v)
            }
            let value = Charset.decode(bytes, charset: charset)
            return MIMEParameter(name: name, value: value, charset: charset, language: language)
        }
    }

    /// `%XX` sequences decoded; a `%` without two hex digits is kept as is.
    static func percentDecoded(_ v: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(v.count)
        var i = v.startIndex
        while i < v.endIndex {
            if v[i] == ASCII.percent, i + 2 < v.endIndex,
                let h = ASCII.hexValue(v[i + 1]), let l = ASCII.hexValue(v[i + 2])
            {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(v[i])
                i += 1
            }
        }
        return out
    }
}

/// One parameter's parts while RFC 2231 sections are merged (outside the generic parser: a
/// type cannot be nested in a generic function).
struct RFC2231Pending {
    var plain: [UInt8]?
    var sections: [Int: (value: [UInt8], extended: Bool)] = [:]
}
