import Foundation

/// Macro expansion of SPF domain-specs and explanation strings (RFC 7208 §7).
///
/// ```swift
/// let context = SPFMacro.Context(sender: "strong-bad@email.example.com", domain: "email.example.com",
///                                ip: SPFAddress("192.0.2.3")!, helo: "mx.example.org")
/// try SPFMacro.expand("%{ir}.%{v}._spf.%{d2}", context)  // "3.2.0.192.in-addr._spf.example.com"
/// ```
///
/// Expansion itself does no I/O: `%{p}` takes ``Context/validatedName``, which ``SPFVerifier``
/// looks up (counting it against the DNS limits) before expanding a string that uses it.
public enum SPFMacro {
    /// The values the macro letters stand for (§7.3).
    public struct Context: Sendable {
        /// `s`: the full `<sender>`, `local-part@domain` (§4.3: "postmaster" when the local-part is empty).
        public var sender: String
        /// `d`: the domain being checked (changes with include and redirect).
        public var domain: String
        /// `i`, `c`, `v`: the client address (IPv4 if it was IPv4-mapped).
        public var ip: SPFAddress
        /// `h`: the HELO/EHLO domain.
        public var helo: String
        /// `p`: the validated domain name of `ip` (§7.3); "unknown" when nil.
        public var validatedName: String?
        /// `r`: the receiving host's domain (explanations only).
        public var receiver: String
        /// `t`: the current time (explanations only).
        public var now: Date

        public init(
            sender: String, domain: String, ip: SPFAddress, helo: String, validatedName: String? = nil,
            receiver: String = "unknown", now: Date = Date()
        ) {
            self.sender = sender
            self.domain = domain
            self.ip = ip
            self.helo = helo
            self.validatedName = validatedName
            self.receiver = receiver
            self.now = now
        }

        /// `l`: the local-part of `sender`.
        var localPart: String {
            guard let at = sender.lastIndex(of: "@") else { return "postmaster" }
            return String(sender[..<at])
        }

        /// `o`: the domain of `sender`.
        var senderDomain: String {
            guard let at = sender.lastIndex(of: "@") else { return sender }
            return String(sender[sender.index(after: at)...])
        }
    }

    /// Expands a domain-spec (`explanation` false: the result is cut to 253 characters by
    /// dropping labels on the left, §7.3) or an explanation string (`explanation` true: spaces
    /// and the letters `c`, `r`, `t` are allowed, nothing is cut).
    public static func expand(_ text: String, _ context: Context, explanation: Bool = false) throws(SPFSyntaxError)
        -> String
    {
        var out = ""
        for token in try tokens(text, explanation: explanation) {
            switch token {
            case .literal(let s): out += s
            case .macro(let macro): out += macro.expand(context)
            }
        }
        return explanation ? out : truncated(out)
    }

    /// Drops labels from the left until the name is at most 253 characters (§7.3).
    static func truncated(_ name: String) -> String {
        var name = Substring(name)
        while name.utf8.count > SPFLimits.maxDomainLength, let dot = name.firstIndex(of: ".") {
            name = name[name.index(after: dot)...]
        }
        return String(name)
    }

    /// True if expanding `text` needs the `p` macro (and so a PTR lookup).
    static func usesValidatedName(_ text: String) -> Bool {
        guard let tokens = try? tokens(text, explanation: true) else { return false }
        return tokens.contains { if case .macro(let m) = $0 { m.letter == "p" } else { false } }
    }

    struct Macro: Hashable {
        var letter: Character  // lower case
        var escaped: Bool  // written in upper case: URL-escape the result (§7.3)
        var keep: Int?  // transformer digits: this many right-hand parts
        var reverse: Bool
        var delimiters: [Character]

        func expand(_ c: Context) -> String {
            let value: String =
                switch letter {
                case "s": c.sender
                case "l": c.localPart
                case "o": c.senderDomain
                case "d": c.domain
                case "i": c.ip.macroForm
                case "p": c.validatedName ?? "unknown"
                case "v": c.ip.isIPv6 ? "ip6" : "in-addr"
                case "h": c.helo
                case "c": c.ip.description
                case "r": c.receiver
                case "t": String(Int(c.now.timeIntervalSince1970))
                default: preconditionFailure("macro letter \(letter) passed the tokenizer")
                }
            var result = value
            if keep != nil || reverse || !delimiters.isEmpty {
                let split = delimiters.isEmpty ? ["."] : delimiters
                var parts = value.split(omittingEmptySubsequences: false, whereSeparator: split.contains)
                if reverse { parts.reverse() }
                if let keep, keep < parts.count { parts = Array(parts.suffix(keep)) }
                result = parts.joined(separator: ".")
            }
            return escaped ? Self.urlEscaped(result) : result
        }

        /// Every byte outside RFC 3986 `unreserved` as %XX.
        static func urlEscaped(_ s: String) -> String {
            var out = ""
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                    UInt8(ascii: "~"):
                    out.append(Character(Unicode.Scalar(b)))
                default:
                    out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
                }
            }
            return out
        }
    }

    enum Token: Hashable {
        case literal(String)
        case macro(Macro)
    }

    // macro-string  = *( macro-expand / macro-literal )                                  (§7.1)
    // macro-expand  = ( "%{" macro-letter transformers *delimiter "}" ) / "%%" / "%_" / "%-"
    // macro-literal = %x21-24 / %x26-7E
    // macro-letter  = "s" / "l" / "o" / "d" / "i" / "p" / "h" / "c" / "r" / "t" / "v"
    // transformers  = *DIGIT [ "r" ]
    // delimiter     = "." / "-" / "+" / "," / "/" / "_" / "="
    // explain-string = *( macro-string / SP )                                           (§6.2)
    static func tokens(_ text: String, explanation: Bool) throws(SPFSyntaxError) -> [Token] {
        var tokens: [Token] = []
        var literal = ""
        let chars = Array(text)
        var i = 0
        func flush() {
            if !literal.isEmpty { tokens.append(.literal(literal)) }
            literal = ""
        }
        while i < chars.count {
            let ch = chars[i]
            guard ch == "%" else {
                guard let ascii = ch.asciiValue, (0x21...0x7E).contains(ascii) || (explanation && ascii == 0x20) else {
                    throw .invalidMacro(
                        text,
                        reason:
                            "\(ch.unicodeScalars.first.map { "U+" + String($0.value, radix: 16, uppercase: true) } ?? "?") is not allowed here"
                    )
                }
                literal.append(ch)
                i += 1
                continue
            }
            guard i + 1 < chars.count else {
                throw .invalidMacro(text, reason: "a lone % at the end; write %% for a percent sign")
            }
            switch chars[i + 1] {
            case "%": literal += "%"
            case "_": literal += " "
            case "-": literal += "%20"
            case "{":
                guard let close = chars[(i + 2)...].firstIndex(of: "}") else {
                    throw .invalidMacro(text, reason: "%{ is not closed by }")
                }
                flush()
                tokens.append(.macro(try macro(chars[(i + 2)..<close], in: text, explanation: explanation)))
                i = close + 1
                continue
            default:
                throw .invalidMacro(text, reason: "% must be followed by {, %, _ or -; write %% for a percent sign")
            }
            i += 2
        }
        flush()
        return tokens
    }

    private static func macro(_ body: ArraySlice<Character>, in text: String, explanation: Bool) throws(SPFSyntaxError)
        -> Macro
    {
        guard let first = body.first, first.isASCII, first.isLetter else {
            throw .invalidMacro(
                text, reason: "a macro needs a letter: %{s}, %{l}, %{o}, %{d}, %{i}, %{p}, %{v} or %{h}")
        }
        let letter = Character(first.lowercased())
        let allowed: Set<Character> =
            explanation
            ? ["s", "l", "o", "d", "i", "p", "v", "h", "c", "r", "t"] : ["s", "l", "o", "d", "i", "p", "v", "h"]
        guard allowed.contains(letter) else {
            throw .invalidMacro(
                text,
                reason: explanation || !"crt".contains(letter)
                    ? "%{\(first)} is not a macro letter" : "%{\(first)} is only allowed in explanation text")
        }
        var rest = body.dropFirst()
        var digits = ""
        while let c = rest.first, c.isASCII, c.isNumber {
            digits.append(c)
            rest = rest.dropFirst()
        }
        var keep: Int?
        if !digits.isEmpty {
            // Any number of parts beyond 128 keeps them all (a name has at most 127 labels).
            let n = digits.count > 4 ? 9999 : Int(digits)!
            guard n > 0 else { throw .invalidMacro(text, reason: "the digit transformer must not be zero") }
            keep = min(n, 128)
        }
        var reverse = false
        if rest.first == "r" || rest.first == "R" {
            reverse = true
            rest = rest.dropFirst()
        }
        for c in rest where !".-+,/_=".contains(c) {
            throw .invalidMacro(text, reason: "\(c) is not a delimiter (. - + , / _ =)")
        }
        return Macro(letter: letter, escaped: first.isUppercase, keep: keep, reverse: reverse, delimiters: Array(rest))
    }
}
