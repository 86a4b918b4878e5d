import MailCore

/// The `Authentication-Results` header field (RFC 8601): one per message, written by the server
/// that checked it, named by its authserv-id (our `hostname`).
///
///     Authentication-Results: mx.example.org;
///     	spf=pass smtp.mailfrom=ann@example.net;
///     	dkim=pass header.d=example.net header.s=mail2026 header.b=Hx3WUv1w;
///     	dmarc=pass (p=reject) header.from=example.net
public struct AuthenticationResults: Hashable, Sendable {
    /// One method's result: `dkim=pass (comment) header.d=example.net`.
    public struct Entry: Hashable, Sendable {
        public var method: String
        public var result: String
        public var comment: String?
        public var properties: [(name: String, value: String)]

        public init(method: String, result: String, comment: String? = nil, properties: [(name: String, value: String)] = []) {
            self.method = method
            self.result = result
            self.comment = comment
            self.properties = properties
        }

        public static func == (a: Entry, b: Entry) -> Bool {
            a.method == b.method && a.result == b.result && a.comment == b.comment
                && a.properties.map(\.name) == b.properties.map(\.name) && a.properties.map(\.value) == b.properties.map(\.value)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(method)
            hasher.combine(result)
        }

        /// Appends `method=result (comment) name=value…` to the field being written.
        func write(to s: inout String) {
            s += method
            s += "="
            s += result
            if let comment {
                s += " ("
                s += AuthenticationResults.commentText(comment)
                s += ")"
            }
            for p in properties {
                s += " "
                s += p.name
                s += "="
                s += AuthenticationResults.value(p.value)
            }
        }
    }

    public var authservID: String
    public var entries: [Entry]

    public init(authservID: String, entries: [Entry]) {
        self.authservID = authservID
        self.entries = entries
    }

    /// The whole field, folded one method per line, ending in CRLF. With no entries it says
    /// `none` (RFC 8601 §2.2).
    public var field: String {
        var s = "Authentication-Results: "
        s.reserveCapacity(64 + 96 * entries.count)
        s += authservID
        s += ";"
        if entries.isEmpty { s += " none" }
        for (i, entry) in entries.enumerated() {
            s += "\r\n\t"
            entry.write(to: &s)
            if i < entries.count - 1 { s += ";" }
        }
        return s + "\r\n"
    }

    /// A property value: a token as it is, anything else as a quoted-string (RFC 8601 §2.2,
    /// RFC 2045 `value`); an address's `@` is allowed bare (RFC 8601 `pvalue`).
    static func value(_ s: String) -> String {
        if !s.isEmpty && s.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !isSpecial($0) }) { return s }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for u in s.unicodeScalars where u.value >= 0x20 && u.value != 0x7F {
            if u == "\"" || u == "\\" { quoted.append("\\") }
            quoted.append(u)
        }
        quoted.append("\"")
        return String(quoted)
    }

    /// tspecials (RFC 2045 §5.1) but `@`, and white space: what makes a value a quoted-string.
    private static func isSpecial(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "["), UInt8(ascii: "]"),
            UInt8(ascii: "?"), UInt8(ascii: "="), UInt8(ascii: " "), UInt8(ascii: "\t"):
            true
        default: false
        }
    }

    /// Comment text without parentheses, backslashes or control characters, at most 200 characters.
    static func commentText(_ s: String) -> String {
        func allowed(_ byte: UInt8) -> Bool {
            byte >= 0x20 && byte < 0x7F
                && byte != UInt8(ascii: "(") && byte != UInt8(ascii: ")") && byte != UInt8(ascii: "\\")
        }
        // Almost every comment is a reason we wrote, short and clean: kept as it is, uncopied.
        if s.utf8.count <= 200 && s.utf8.allSatisfy(allowed) { return s }
        // Otherwise most are ASCII: filter their bytes.
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(min(s.utf8.count, 200))
            for byte in s.utf8 where allowed(byte) {
                guard bytes.count < 200 else { break }
                bytes.append(byte)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var text = String.UnicodeScalarView()
        var count = 0
        for u in s.unicodeScalars where u.value >= 0x20 && u.value != 0x7F && u != "(" && u != ")" && u != "\\" {
            guard count < 200 else { break }
            text.append(u)
            count += 1
        }
        return String(text)
    }

    /// The message without the `Authentication-Results` fields that carry `authservID`: a
    /// sender could have written them to look checked by us (RFC 8601 §5). Other servers'
    /// fields stay. Only the header section is read; the body is returned as it was.
    public static func removingOurs(from message: [UInt8], authservID: String) -> [UInt8] {
        // Most messages carry no such field: find that out without parsing the header.
        guard mentionsResults(message[..<headerSectionEnd(message)]) else { return message }
        let parsed = DKIMMessage(message)
        let ours = authservID.lowercased()
        guard parsed.headerFields.contains(where: { isOurs($0, ours) }) else { return message }
        var out: [UInt8] = []
        out.reserveCapacity(message.count)
        // Fields as DKIMMessage read them (a bare LF there becomes CRLF; SMTP refuses bare LFs
        // anyway), then the empty line and body exactly as they were.
        for field in parsed.headerFields where !isOurs(field, ours) { out += field.raw }
        out += message[Self.headerSectionEnd(message)...]
        return out
    }

    /// Whether a line of the header section starts with `Authentication-Results:` (any case).
    static func mentionsResults(_ header: ArraySlice<UInt8>) -> Bool {
        let name = Array("authentication-results".utf8)
        var lineStart = true
        var i = header.startIndex
        while i < header.endIndex {
            if lineStart, header.endIndex - i > name.count, header[i].asciiLowercased == name[0],
                zip(header[i..<(i + name.count)], name).allSatisfy({ $0.asciiLowercased == $1 })
            {
                return true
            }
            lineStart = header[i] == .lf
            i += 1
        }
        return false
    }

    static func isOurs(_ field: DKIMHeaderField, _ authservID: String) -> Bool {
        guard field.isNamed("authentication-results") else { return false }
        // authserv-id is the first token of the value, after optional CFWS, before ";" or CFWS.
        var value = String(decoding: field.value, as: UTF8.self)
        value = stripComments(value)
        // Split on scalars: as a Character, a folding "\r\n" is neither "\r" nor "\n", so a
        // field with the id on a continuation line would not be recognised (and would stay).
        let id = value.unicodeScalars.split(whereSeparator: { $0 == ";" || $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).first
            .map { String(String.UnicodeScalarView($0)) } ?? ""
        return id.lowercased() == authservID
    }

    static func stripComments(_ s: String) -> String {
        var depth = 0
        var out = ""
        for c in s {
            if c == "(" { depth += 1 } else if c == ")", depth > 0 { depth -= 1 } else if depth == 0 { out.append(c) }
        }
        return out
    }

    /// The offset of the empty line that ends the header section (its CRLF or LF included in
    /// the body side), or the end of the message.
    static func headerSectionEnd(_ m: [UInt8]) -> Int {
        var i = 0
        var lineStart = 0
        while i < m.count {
            if m[i] == .lf {
                let line = m[lineStart..<i]
                if line.isEmpty || line == [.cr] { return lineStart }
                lineStart = i + 1
            }
            i += 1
        }
        return m.count
    }
}
