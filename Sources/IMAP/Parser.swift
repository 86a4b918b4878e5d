import Foundation
import MailCore

/// Why a command could not be parsed: answered `tag BAD text` (or untagged when the tag itself
/// is unreadable).
public struct IMAPParseError: Error, Hashable, Sendable {
    public var tag: String?
    public var text: String
    public init(tag: String?, _ text: String) {
        self.tag = tag
        self.text = text
    }
}

/// A cursor over one complete command (its line and any literals, as framed by
/// ``IMAPFramer``), with the primitives of RFC 9051 §9's grammar.
struct IMAPParser {
    let bytes: [UInt8]
    var i: Int
    var tag: String?
    let limits: IMAPLimits
    var depth = 0

    init(_ bytes: [UInt8], limits: IMAPLimits) {
        // The framer hands over the command with its final CRLF; the grammar works without it.
        var end = bytes.count
        if end >= 2, bytes[end - 2] == 0x0D, bytes[end - 1] == 0x0A { end -= 2 } else if end >= 1, bytes[end - 1] == 0x0A { end -= 1 }
        self.bytes = Array(bytes[..<end])
        self.i = 0
        self.limits = limits
    }

    func fail(_ text: String) -> IMAPParseError { IMAPParseError(tag: tag, text) }

    var atEnd: Bool { i >= bytes.count }
    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func expect(_ c: UInt8, _ what: String) throws {
        guard peek == c else { throw fail("expected \(what)") }
        i += 1
    }

    mutating func sp() throws { try expect(0x20, "a space") }

    mutating func skip(_ c: UInt8) -> Bool {
        if peek == c {
            i += 1
            return true
        }
        return false
    }

    mutating func end() throws {
        guard atEnd else { throw fail("unexpected text at the end of the command") }
    }

    /// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
    static func isAtomChar(_ c: UInt8) -> Bool {
        c > 0x20 && c < 0x7F && c != 0x28 && c != 0x29 && c != 0x7B && c != 0x25 && c != 0x2A && c != 0x22 && c != 0x5C && c != 0x5D
    }

    /// atom = 1*ATOM-CHAR
    mutating func atom(_ what: String = "an atom") throws -> String {
        let start = i
        while let c = peek, Self.isAtomChar(c) { i += 1 }
        guard i > start else { throw fail("expected \(what)") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// The next atom, uppercased (keywords of the grammar are case-insensitive).
    mutating func keyword() throws -> String { try atom("a keyword").uppercased() }

    /// Consumes `word` (case-insensitively) if it comes next, as a whole atom.
    mutating func skipKeyword(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count else { return false }
        for (k, c) in w.enumerated() where bytes[i + k].asciiUppercased != c { return false }
        if i + w.count < bytes.count, Self.isAtomChar(bytes[i + w.count]), bytes[i + w.count] != 0x5B { return false }
        i += w.count
        return true
    }

    /// number = 1*DIGIT (32 bits); number64 for MODSEQ.
    mutating func number() throws -> UInt32 {
        let n = try number64()
        guard n <= UInt32.max else { throw fail("number too large") }
        return UInt32(n)
    }

    mutating func number64() throws -> UInt64 {
        let start = i
        var n: UInt64 = 0
        while let c = peek, c >= 0x30, c <= 0x39 {
            guard i - start < 19 else { throw fail("number too large") }
            n = n * 10 + UInt64(c - 0x30)
            i += 1
        }
        guard i > start else { throw fail("expected a number") }
        return n
    }

    mutating func nzNumber() throws -> UInt32 {
        let n = try number()
        guard n > 0 else { throw fail("0 is not a valid number here") }
        return n
    }

    /// string = quoted / literal
    mutating func string() throws -> [UInt8] {
        switch peek {
        case 0x22: return try quoted()
        case 0x7B: return try literal()
        case 0x7E where i + 1 < bytes.count && bytes[i + 1] == 0x7B:
            i += 1
            return try literal()
        default: throw fail("expected a string")
        }
    }

    /// quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials / UTF8-2..4
    mutating func quoted() throws -> [UInt8] {
        try expect(0x22, "\"")
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("unterminated quoted string") }
            i += 1
            switch c {
            case 0x22: return out
            case 0x5C:
                guard let n = peek, n == 0x22 || n == 0x5C else { throw fail("a backslash in a quoted string must quote \" or \\") }
                out.append(n)
                i += 1
            case 0x0D, 0x0A, 0x00: throw fail("CR, LF and NUL cannot be in a quoted string")
            default: out.append(c)
            }
        }
    }

    /// literal = "{" number64 ["+"] "}" CRLF *CHAR8 (RFC 7888 adds "+" for non-synchronizing)
    mutating func literal() throws -> [UInt8] {
        try expect(0x7B, "{")
        let n = try number64()
        _ = skip(0x2B) || skip(0x2D)
        try expect(0x7D, "}")
        _ = skip(0x0D)
        guard skip(0x0A) else { throw fail("a literal's size must end the line") }
        guard n <= UInt64(bytes.count - i) else { throw fail("literal shorter than announced") }
        defer { i += Int(n) }
        return Array(bytes[i..<(i + Int(n))])
    }

    /// astring = 1*ASTRING-CHAR / string
    mutating func astring() throws -> [UInt8] {
        if peek == 0x22 || peek == 0x7B { return try string() }
        let start = i
        while let c = peek, Self.isAtomChar(c) || c == 0x5D { i += 1 }
        guard i > start else { throw fail("expected a string or atom") }
        return Array(bytes[start..<i])
    }

    mutating func astringText() throws -> String { String(decoding: try astring(), as: UTF8.self) }

    /// nstring = string / nil
    mutating func nstring() throws -> [UInt8]? {
        if skipKeyword("NIL") { return nil }
        return try string()
    }

    /// mailbox = "INBOX" / astring
    mutating func mailbox() throws -> MailboxName { MailboxName(try astring()) }

    /// list-mailbox = 1*list-char / string; list-char = ATOM-CHAR / list-wildcards / resp-specials
    mutating func listMailbox() throws -> MailboxName {
        if peek == 0x22 || peek == 0x7B { return MailboxName(try string()) }
        let start = i
        while let c = peek, Self.isAtomChar(c) || c == 0x25 || c == 0x2A || c == 0x5D { i += 1 }
        guard i > start else { throw fail("expected a mailbox pattern") }
        return MailboxName(Array(bytes[start..<i]))
    }

    /// flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension
    mutating func flag() throws -> String {
        if skip(0x5C) {
            let name = try atom("a flag name")
            for system in ["Answered", "Flagged", "Deleted", "Seen", "Draft"] where system.caseInsensitiveCompare(name) == .orderedSame {
                return "\\" + system
            }
            throw fail("\\\(name) is not a flag that can be set")
        }
        return try atom("a flag")
    }

    /// flag-list = "(" [flag *(SP flag)] ")"
    mutating func flagList() throws -> [String] {
        try expect(0x28, "(")
        var flags: [String] = []
        while !skip(0x29) {
            if !flags.isEmpty { try sp() }
            flags.append(try flag())
        }
        return flags
    }

    /// sequence-set = (seq-number / seq-range) ["," sequence-set] / "$"
    mutating func sequenceSet() throws -> SequenceSet {
        if skip(0x24) { return .lastResult }
        var ranges: [SequenceRange] = []
        repeat {
            let a = try seqNumber()
            if skip(0x3A) {
                ranges.append(SequenceRange(a, try seqNumber()))
            } else {
                ranges.append(SequenceRange(a, a))
            }
        } while skip(0x2C)
        return .ranges(ranges)
    }

    mutating func seqNumber() throws -> SequenceNumber {
        if skip(0x2A) { return .star }
        return .number(try nzNumber())
    }

    static let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]

    /// date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-" date-year
    mutating func date() throws -> Date {
        let quotedDate = skip(0x22)
        let day = try number()
        try expect(0x2D, "-")
        let month = try monthName()
        try expect(0x2D, "-")
        let year = try number()
        if quotedDate { try expect(0x22, "\"") }
        guard let d = Self.makeDate(year: Int(year), month: month, day: Int(day), seconds: 0, zoneSeconds: 0) else { throw fail("invalid date") }
        return d
    }

    mutating func monthName() throws -> Int {
        guard i + 3 <= bytes.count else { throw fail("expected a month") }
        let m = String(decoding: bytes[i..<(i + 3)].map(\.asciiUppercased), as: UTF8.self)
        guard let n = Self.months.firstIndex(of: m) else { throw fail("expected a month like Jan") }
        i += 3
        return n + 1
    }

    /// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    mutating func dateTime() throws -> Date {
        try expect(0x22, "\"")
        _ = skip(0x20)
        let day = try number()
        try expect(0x2D, "-")
        let month = try monthName()
        try expect(0x2D, "-")
        let year = try number()
        try sp()
        let h = try number()
        try expect(0x3A, ":")
        let m = try number()
        try expect(0x3A, ":")
        let s = try number()
        try sp()
        let sign: Int
        if skip(0x2B) { sign = 1 } else if skip(0x2D) { sign = -1 } else { throw fail("expected a zone like +0100") }
        let zone = try number()
        try expect(0x22, "\"")
        guard h < 24, m < 60, s < 61, zone < 2400,
            let d = Self.makeDate(
                year: Int(year), month: month, day: Int(day), seconds: Int(h) * 3600 + Int(m) * 60 + Int(s),
                zoneSeconds: sign * (Int(zone / 100) * 3600 + Int(zone % 100) * 60))
        else { throw fail("invalid date-time") }
        return d
    }

    static func makeDate(year: Int, month: Int, day: Int, seconds: Int, zoneSeconds: Int) -> Date? {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var c = DateComponents()
        c.year = year
        c.month = month
        c.day = day
        c.timeZone = TimeZone(identifier: "UTC")
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        guard let d = cal.date(from: c), cal.component(.day, from: d) == day else { return nil }
        return d.addingTimeInterval(TimeInterval(seconds - zoneSeconds))
    }

    mutating func nest() throws {
        depth += 1
        guard depth <= limits.maxSearchDepth else { throw fail("too deeply nested (the limit is \(limits.maxSearchDepth))") }
    }
}
