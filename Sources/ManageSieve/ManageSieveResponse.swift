/// A line the server sends (RFC 5804 §1.3, §4):
///
///     response-oknobye = ("OK" / "NO" / "BYE") [SP "(" resp-code ")"] [SP string] CRLF
///
///     S: NO (NONEXISTENT) "There is no script named \"x\""
public enum ManageSieveResponse: Hashable, Sendable {
    case ok(code: String? = nil, String? = nil)
    case no(code: String? = nil, String)
    case bye(code: String? = nil, String)
    /// Data lines before the final response: strings and atoms separated by spaces.
    case data([ManageSieveWord])
    /// A SASL challenge (§2.1): a string on its own line.
    case challenge(String)

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        func final(_ word: String, _ code: String?, _ text: String?) {
            out += word.utf8
            if let code { out += " (\(code))".utf8 }
            if let text {
                out.append(0x20)
                out += Self.string(text)
            }
        }
        switch self {
        case .ok(let code, let text): final("OK", code, text)
        case .no(let code, let text): final("NO", code, text)
        case .bye(let code, let text): final("BYE", code, text)
        case .challenge(let s): out += Self.string(s)
        case .data(let words):
            for (i, w) in words.enumerated() {
                if i > 0 { out.append(0x20) }
                switch w {
                case .atom(let a): out += a.utf8
                case .number(let n): out += String(n).utf8
                case .string(let s): out += Self.string(s)
                }
            }
        }
        return out + [0x0D, 0x0A]
    }

    /// A quoted string when it can be one (short, no CR, LF or NUL), else a literal-s2c
    /// (`{n}` CRLF octets).
    public static func string(_ s: String) -> [UInt8] {
        let utf8 = Array(s.utf8)
        if utf8.count <= 1024, !utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            var out: [UInt8] = [0x22]
            for b in utf8 {
                if b == 0x22 || b == 0x5C { out.append(0x5C) }
                out.append(b)
            }
            return out + [0x22]
        }
        return Array("{\(utf8.count)}\r\n".utf8) + utf8
    }
}
