import Foundation

/// Parses one server response framed by ``IMAPFramer`` (its line, literals inline, and the
/// final CRLF). Strict where a migration depends on the answer (tags, status, FETCH items,
/// LIST), generic for responses it does not read. Throws ``IMAPParseError`` for anything that
/// is not RFC 9051 §9's grammar.
public enum IMAPResponseParser {
    /// Nested parentheses in a value skipped generically (BODYSTRUCTURE, ENVELOPE).
    public static let maxDepth = 32

    public static func parse(_ frame: [UInt8]) throws -> IMAPResponse {
        var p = IMAPParser(frame, limits: IMAPLimits())
        return try p.response()
    }

    /// The personal namespace of a `* NAMESPACE` response's rest (RFC 2342):
    /// `(("INBOX." ".")) NIL NIL` → (`INBOX.`, `.`); nil for NIL or what does not parse.
    public static func personalNamespace(_ rest: [UInt8]) -> (prefix: [UInt8], delimiter: UInt8?)? {
        var p = IMAPParser(rest, limits: IMAPLimits())
        guard p.skip(0x28), p.skip(0x28), let prefix = try? p.string(), p.skip(0x20) else { return nil }
        if p.skipKeyword("NIL") { return (prefix, nil) }
        guard let d = try? p.quoted(), d.count == 1 else { return nil }
        return (prefix, d[0])
    }
}

/// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
/// (RFC 9051 §9), without the quotes: `17-Jul-1996 02:44:25 -0700`.
public enum IMAPDateTime {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        // " 7-Jul-1996 02:44:25 -0700" or "17-Jul-1996 …": 26 octets, or 25 with a 1-digit day.
        var s = b
        if s.count == 25 { s.insert(0x20, at: 0) }
        guard s.count == 26, s[2] == 0x2D, s[6] == 0x2D, s[11] == 0x20, s[14] == 0x3A, s[17] == 0x3A, s[20] == 0x20,
            s[21] == 0x2B || s[21] == 0x2D
        else { return nil }
        func digits(_ r: Range<Int>, allowSpace: Bool = false) -> Int? {
            var n = 0
            for (k, c) in s[r].enumerated() {
                if c == 0x20, allowSpace, k == 0 { continue }
                guard c >= 0x30, c <= 0x39 else { return nil }
                n = n * 10 + Int(c - 0x30)
            }
            return n
        }
        guard let day = digits(0..<2, allowSpace: true), (1...31).contains(day),
            let month = months.firstIndex(of: String(decoding: s[3..<6], as: UTF8.self)),
            let year = digits(7..<11), let hour = digits(12..<14), hour < 24, let minute = digits(15..<17), minute < 60,
            let second = digits(18..<20), second < 61, let zh = digits(22..<24), let zm = digits(24..<26), zm < 60
        else { return nil }
        var c = DateComponents()
        (c.year, c.month, c.day, c.hour, c.minute, c.second) = (year, month + 1, day, hour, minute, second)
        let offset = (zh * 3600 + zm * 60) * (s[21] == 0x2D ? -1 : 1)
        guard let zone = TimeZone(secondsFromGMT: offset) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard let date = calendar.date(from: c), calendar.component(.day, from: date) == day else { return nil }
        return date
    }

    /// The form INTERNALDATE and APPEND use, in UTC.
    public static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return
            "\(two(c.day))-\(months[(c.month ?? 1) - 1])-\(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}

extension IMAPParser {
    /// response = continue-req / response-data / response-tagged / response-fatal
    mutating func response() throws -> IMAPResponse {
        if skip(0x2B) {
            // continue-req = "+" SP (resp-text / base64) CRLF; servers also send a bare "+".
            guard skip(0x20) || atEnd else { throw fail("expected a space after +") }
            return .continuation(try restText())
        }
        if skip(0x2A) {
            try sp()
            return .untagged(try untagged())
        }
        // tag = 1*<any ASTRING-CHAR except "+">
        let start = i
        while let c = peek, (Self.isAtomChar(c) || c == 0x5D), c != 0x2B { i += 1 }
        guard i > start else { throw fail("expected a tag, * or +") }
        let tag = String(decoding: bytes[start..<i], as: UTF8.self)
        try sp()
        let status = try statusResponse()
        guard [.ok, .no, .bad].contains(status.condition) else {
            throw fail("a tagged response is OK, NO or BAD, not \(status.condition.rawValue)")
        }
        return .tagged(tag: tag, status)
    }

    /// resp-cond-state / resp-cond-bye / resp-cond-auth: condition [SP resp-text]
    mutating func statusResponse() throws -> IMAPStatusResponse {
        let word = try keyword()
        guard let condition = IMAPStatusResponse.Condition(rawValue: word) else {
            throw fail("expected OK, NO, BAD, BYE or PREAUTH")
        }
        return try respText(condition)
    }

    /// resp-text = ["[" resp-text-code "]" SP] [text]
    mutating func respText(_ condition: IMAPStatusResponse.Condition) throws -> IMAPStatusResponse {
        guard skip(0x20) else {
            try end()
            return IMAPStatusResponse(condition, text: "")
        }
        var code: IMAPResponseCode?
        if skip(0x5B) {
            code = try responseCode()
            try expect(0x5D, "] after the response code")
            _ = skip(0x20)
        }
        return IMAPStatusResponse(condition, code: code, text: try restText())
    }

    /// resp-text-code = … / "CAPABILITY" SP … / "UIDNEXT" SP nz-number / "UIDVALIDITY" SP nz-number
    /// / atom [SP 1*<any TEXT-CHAR except "]">]
    mutating func responseCode() throws -> IMAPResponseCode {
        let word = try atom("a response code").uppercased()
        switch word {
        case "CAPABILITY":
            try sp()
            return .capability(try capabilities())
        case "UIDVALIDITY":
            try sp()
            return .uidValidity(try nzNumber())
        case "UIDNEXT":
            try sp()
            return .uidNext(try nzNumber())
        default:
            guard skip(0x20) else { return .other(word, nil) }
            let start = i
            while let c = peek, c != 0x5D {
                guard c >= 0x20, c != 0x7F else { throw fail("a control character in a response code") }
                i += 1
            }
            return .other(word, String(decoding: bytes[start..<i], as: UTF8.self))
        }
    }

    /// capability-data = "CAPABILITY" *(SP capability); capability = ("AUTH=" auth-type) / atom
    mutating func capabilities() throws -> [String] {
        var list = [try atom("a capability")]
        while skip(0x20) {
            if atEnd || peek == 0x5D { break }
            list.append(try atom("a capability"))
        }
        return list
    }

    /// The rest of the line as text: no CR, LF or NUL (a literal there is not text).
    mutating func restText() throws -> String {
        let rest = bytes[i...]
        guard !rest.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else {
            throw fail("CR, LF or NUL in response text")
        }
        i = bytes.count
        return String(decoding: rest, as: UTF8.self)
    }

    /// response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data
    /// / capability-data / enable-data) CRLF
    mutating func untagged() throws -> IMAPUntaggedResponse {
        if let c = peek, c >= 0x30, c <= 0x39 {
            let n = try number()
            try sp()
            let word = try keyword()
            switch word {
            case "EXISTS":
                try end()
                return .exists(n)
            case "RECENT":
                try end()
                return .recent(n)
            case "EXPUNGE":
                guard n > 0 else { throw fail("EXPUNGE of message 0") }
                try end()
                return .expunge(n)
            case "FETCH":
                guard n > 0 else { throw fail("FETCH of message 0") }
                try sp()
                let items = try fetchItems()
                try end()
                return .fetch(n, items)
            default:
                return .other("\(n) \(word)", try rest())
            }
        }
        let word = try keyword()
        if let condition = IMAPStatusResponse.Condition(rawValue: word) {
            return .status(try respText(condition))
        }
        switch word {
        case "CAPABILITY":
            try sp()
            let list = try capabilities()
            try end()
            return .capability(list)
        case "FLAGS":
            try sp()
            let f = try flagFetchList()
            try end()
            return .flags(f)
        case "LIST", "LSUB":
            guard word == "LIST" else { return .other(word, try rest()) }
            try sp()
            return .list(try listEntry())
        default:
            return .other(word, try rest())
        }
    }

    /// After a keyword: nothing, or SP and the bytes to the end.
    mutating func rest() throws -> [UInt8] {
        guard skip(0x20) else {
            try end()
            return []
        }
        defer { i = bytes.count }
        return Array(bytes[i...])
    }

    /// flag-fetch list: "(" [flag-fetch *(SP flag-fetch)] ")"; flag-fetch = flag / "\Recent";
    /// flag-perm's "\*" is read too.
    mutating func flagFetchList() throws -> [String] {
        try expect(0x28, "(")
        var flags: [String] = []
        while !skip(0x29) {
            if !flags.isEmpty { try sp() }
            if skip(0x5C) {
                if skip(0x2A) {
                    flags.append("\\*")
                } else {
                    flags.append("\\" + (try atom("a flag name")))
                }
            } else {
                flags.append(try atom("a flag"))
            }
        }
        return flags
    }

    /// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
    /// [SP mbox-list-extended]
    mutating func listEntry() throws -> IMAPListEntry {
        let attributes = try flagFetchList()
        try sp()
        var delimiter: UInt8?
        if !skipKeyword("NIL") {
            let q = try quoted()
            guard q.count == 1 else { throw fail("a hierarchy delimiter is one character") }
            delimiter = q[0]
        }
        try sp()
        let name = try astring()
        var extended: [UInt8] = []
        if skip(0x20) {
            guard peek == 0x28 else { throw fail("expected mbox-list-extended") }
            let start = i
            try skipValue(depth: 0)
            extended = Array(bytes[start..<i])
        }
        try end()
        return IMAPListEntry(attributes: attributes, delimiter: delimiter, name: name, extended: extended)
    }

    /// msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP …) ")"
    mutating func fetchItems() throws -> [IMAPFetchItem] {
        try expect(0x28, "(")
        var items: [IMAPFetchItem] = []
        while !skip(0x29) {
            if !items.isEmpty { try sp() }
            items.append(try fetchItem())
            guard items.count <= 64 else { throw fail("too many FETCH items") }
        }
        return items
    }

    mutating func fetchItem() throws -> IMAPFetchItem {
        let name = try fetchItemName()
        try sp()
        switch name {
        case "UID": return .uid(try nzNumber())
        case "FLAGS": return .flags(try flagFetchList())
        case "INTERNALDATE":
            let text = String(decoding: try quoted(), as: UTF8.self)
            guard IMAPDateTime.parse(text) != nil else {
                throw fail("INTERNALDATE \(text.debugDescription) is not a date-time")
            }
            return .internalDate(text)
        case "RFC822.SIZE": return .rfc822Size(try number64())
        case "RFC822": return .body(section: "", origin: nil, data: try nstring())
        default:
            if name.hasPrefix("BODY["), let close = name.firstIndex(of: "]") {
                let section = String(name[name.index(name.startIndex, offsetBy: 5)..<close])
                let after = name[name.index(after: close)...]
                var origin: UInt32?
                if !after.isEmpty {
                    guard after.hasPrefix("<"), after.hasSuffix(">"), let n = UInt32(after.dropFirst().dropLast())
                    else {
                        throw fail("expected <origin> after BODY[…]")
                    }
                    origin = n
                }
                return .body(section: section, origin: origin, data: try nstring())
            }
            let start = i
            try skipValue(depth: 0)
            return .other(name, Array(bytes[start..<i]))
        }
    }

    /// A FETCH item's name, upper-cased: an atom, with a `[section]` that may hold spaces and an
    /// `<origin>`.
    mutating func fetchItemName() throws -> String {
        let start = i
        while let c = peek, Self.isAtomChar(c) { i += 1 }
        guard i > start else { throw fail("expected a FETCH item") }
        if bytes[i - 1] == 0x5B || bytes[start..<i].contains(0x5B) {
            // section = "[" [section-spec] "]": printable, no "]" inside.
            while let c = peek, c != 0x5D {
                guard c >= 0x20, c < 0x7F else { throw fail("a control character in a section") }
                i += 1
            }
            try expect(0x5D, "] after a section")
            if skip(0x3C) {
                _ = try number()
                try expect(0x3E, "> after an origin")
            }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self).uppercased()
    }

    /// Skips one value of any shape: a parenthesised list, a string, or an atom-like run.
    mutating func skipValue(depth: Int) throws {
        guard depth < IMAPResponseParser.maxDepth else { throw fail("values nested too deeply") }
        switch peek {
        case 0x28:
            i += 1
            var first = true
            while !skip(0x29) {
                if !first { try sp() }
                first = false
                try skipValue(depth: depth + 1)
            }
        case 0x22, 0x7B:
            _ = try string()
        case 0x7E where i + 1 < bytes.count && bytes[i + 1] == 0x7B:
            _ = try string()
        default:
            let start = i
            while let c = peek, c > 0x20, c < 0x7F, c != 0x28, c != 0x29, c != 0x22, c != 0x7B { i += 1 }
            guard i > start else { throw fail("expected a value") }
        }
    }
}

// MARK: - Encoding

extension IMAPResponse {
    /// The response as a server writes it, with its CRLF (for tests and the fuzz target's
    /// round trips).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .tagged(let tag, let status):
            out += Array(tag.utf8) + [0x20]
            status.encode(into: &out)
        case .continuation(let text):
            out += Array("+ \(text)".utf8)
        case .untagged(let u):
            out += Array("* ".utf8)
            u.encode(into: &out)
        }
        out += [0x0D, 0x0A]
        return out
    }
}

extension IMAPStatusResponse {
    func encode(into out: inout [UInt8]) {
        out += Array(condition.rawValue.utf8)
        guard code != nil || !text.isEmpty else { return }
        out.append(0x20)
        if let code {
            out.append(0x5B)
            switch code {
            case .capability(let list): out += Array(("CAPABILITY " + list.joined(separator: " ")).utf8)
            case .uidValidity(let n): out += Array("UIDVALIDITY \(n)".utf8)
            case .uidNext(let n): out += Array("UIDNEXT \(n)".utf8)
            case .other(let atom, let text): out += Array((atom + (text.map { " " + $0 } ?? "")).utf8)
            }
            out.append(0x5D)
            if !text.isEmpty { out.append(0x20) }
        }
        out += Array(text.utf8)
    }
}

extension IMAPUntaggedResponse {
    func encode(into out: inout [UInt8]) {
        switch self {
        case .status(let s): s.encode(into: &out)
        case .capability(let list): out += Array(("CAPABILITY " + list.joined(separator: " ")).utf8)
        case .list(let e):
            out += Array("LIST (\(e.attributes.joined(separator: " "))) ".utf8)
            if let d = e.delimiter {
                out += d == 0x22 || d == 0x5C ? [0x22, 0x5C, d, 0x22] : [0x22, d, 0x22]
            } else {
                out += Array("NIL".utf8)
            }
            out.append(0x20)
            IMAPWire.astring(e.name, into: &out)
            if !e.extended.isEmpty { out += [0x20] + e.extended }
        case .flags(let f): out += Array("FLAGS (\(f.joined(separator: " ")))".utf8)
        case .exists(let n): out += Array("\(n) EXISTS".utf8)
        case .recent(let n): out += Array("\(n) RECENT".utf8)
        case .expunge(let n): out += Array("\(n) EXPUNGE".utf8)
        case .fetch(let n, let items):
            out += Array("\(n) FETCH (".utf8)
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(0x20) }
                item.encode(into: &out)
            }
            out.append(0x29)
        case .other(let word, let rest):
            out += Array(word.utf8)
            if !rest.isEmpty { out += [0x20] + rest }
        }
    }
}

extension IMAPFetchItem {
    func encode(into out: inout [UInt8]) {
        switch self {
        case .uid(let n): out += Array("UID \(n)".utf8)
        case .flags(let f): out += Array("FLAGS (\(f.joined(separator: " ")))".utf8)
        case .internalDate(let d): out += Array("INTERNALDATE \"\(d)\"".utf8)
        case .rfc822Size(let n): out += Array("RFC822.SIZE \(n)".utf8)
        case .body(let section, let origin, let data):
            out += Array("BODY[\(section)]\(origin.map { "<\($0)>" } ?? "") ".utf8)
            if let data {
                out += Array("{\(data.count)}\r\n".utf8) + data
            } else {
                out += Array("NIL".utf8)
            }
        case .other(let name, let value): out += Array("\(name) ".utf8) + value
        }
    }
}

/// How strings go on the wire: an atom when it can be one, quoted when printable, else a literal.
public enum IMAPWire {
    public static func astring(_ s: [UInt8], into out: inout [UInt8]) {
        if !s.isEmpty, s.allSatisfy({ IMAPParser.isAtomChar($0) || $0 == 0x5D }) {
            out += s
        } else {
            string(s, into: &out)
        }
    }

    public static func string(_ s: [UInt8], into out: inout [UInt8]) {
        if s.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            out.append(0x22)
            for c in s {
                if c == 0x22 || c == 0x5C { out.append(0x5C) }
                out.append(c)
            }
            out.append(0x22)
        } else {
            out += Array("{\(s.count)}\r\n".utf8) + s
        }
    }

    public static func astring(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        astring(Array(s.utf8), into: &out)
        return out
    }
}
