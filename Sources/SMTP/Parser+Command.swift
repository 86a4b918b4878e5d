import Foundation
import MailCore

/// Parses one command line (without its CRLF). Throws ``SMTPError`` with the reply to give.
public enum SMTPCommandParser {
    public static func parse(_ line: [UInt8]) throws(SMTPError) -> SMTPCommand {
        // Bytes, not Characters, up to the verb: a UTF-8 sequence never holds a byte below 0x80,
        // and a verb is ASCII (a non-ASCII one is an unknown command either way).
        guard let text = String(validating: line, as: UTF8.self) else {
            throw SMTPError(500, "5.5.2", "command is not valid UTF-8")
        }
        guard !line.contains(where: { $0 < 0x20 && $0 != UInt8(ascii: "\t") }) else {
            throw SMTPError(500, "5.5.2", "command contains control characters")
        }
        let verbEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        let verb = String(decoding: line[..<verbEnd].map(\.asciiUppercased), as: UTF8.self)
        let rest = String(Substring(text.utf8.dropFirst(verbEnd + 1)))  // after the space: a scalar boundary
        switch verb {
        case "EHLO", "HELO":
            // ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
            let name = rest.trimmingASCIISpaces()
            guard !name.isEmpty, !name.utf8.contains(UInt8(ascii: " ")) else {
                throw SMTPError(501, "5.5.4", "\(verb) needs your host name")
            }
            return verb == "EHLO" ? .ehlo(name) : .helo(name)
        case "MAIL":
            // mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
            let (path, params) = try splitPath(rest, prefix: "from:", verb: "MAIL FROM")
            let mailbox: SMTPMailbox?
            if path == "<>" {
                mailbox = nil
            } else {
                mailbox = try parsePath(path)
            }
            return .mail(mailbox, try parseMailParameters(params))
        case "RCPT":
            // rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters] CRLF
            let (path, params) = try splitPath(rest, prefix: "to:", verb: "RCPT TO")
            guard params.isEmpty else { throw SMTPError(555, "5.5.4", "RCPT TO parameters are not supported") }
            if path.utf8.count == 12 && path.utf8.hasASCIIPrefix(lowercased: "<postmaster>") { return .rcpt(nil) }
            return .rcpt(try parsePath(path))
        case "DATA": return try noArgument(.data, rest, verb)
        case "RSET": return try noArgument(.rset, rest, verb)
        case "QUIT": return try noArgument(.quit, rest, verb)
        case "STARTTLS": return try noArgument(.starttls, rest, verb)
        case "NOOP": return .noop
        case "HELP": return .help
        case "VRFY": return .vrfy(rest)
        case "EXPN": return .expn(rest)
        case "BDAT":
            // bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF   (RFC 3030 §2)
            let parts = rest.split(separator: " ", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let size = Int(parts[0]), size >= 0, parts[0].allSatisfy(\.isNumber) else {
                throw SMTPError(501, "5.5.4", "BDAT needs a chunk size")
            }
            if parts.count == 2 && parts[1].uppercased() != "LAST" { throw SMTPError(501, "5.5.4", "BDAT takes only LAST after the size") }
            return .bdat(size: size, last: parts.count == 2)
        case "AUTH":
            // auth-command = "AUTH" SP sasl-mech [SP initial-response] (RFC 4954 §4)
            let parts = rest.split(separator: " ", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), !parts[0].isEmpty else { throw SMTPError(501, "5.5.4", "AUTH needs a mechanism") }
            return .auth(mechanism: parts[0].uppercased(), initialResponse: parts.count == 2 ? String(parts[1]) : nil)
        default:
            throw SMTPError(.unknownCommand)
        }
    }

    private static func noArgument(_ c: SMTPCommand, _ rest: String, _ verb: String) throws(SMTPError) -> SMTPCommand {
        guard rest.trimmingASCIISpaces().isEmpty else { throw SMTPError(501, "5.5.4", "\(verb) takes no argument") }
        return c
    }

    /// Splits `FROM:<path> params`. Tolerates a space after the colon, as many clients send.
    private static func splitPath(_ rest: String, prefix: StaticString, verb: String) throws(SMTPError) -> (String, String) {
        guard rest.utf8.hasASCIIPrefix(lowercased: prefix) else { throw SMTPError(501, "5.5.4", "syntax: \(verb):<address>") }
        var s = Substring(rest.utf8.dropFirst(prefix.utf8CodeUnitCount))
        while s.first == " " { s = s.dropFirst() }
        guard s.first == "<" else { throw SMTPError(501, "5.5.4", "syntax: \(verb):<address> (the address must be in angle brackets)") }
        // The path ends at the first '>' outside a quoted string. The marks are ASCII, so the
        // scan is of bytes (a UTF-8 sequence never holds one), not of Characters.
        var inQuotes = false
        var escaped = false
        var end: Substring.Index?
        for i in s.utf8.indices {
            let c = s.utf8[i]
            if escaped { escaped = false; continue }
            if c == UInt8(ascii: "\\") && inQuotes { escaped = true; continue }
            if c == UInt8(ascii: "\"") { inQuotes.toggle() }
            if c == UInt8(ascii: ">") && !inQuotes { end = i; break }
        }
        guard let end else { throw SMTPError(501, "5.5.4", "syntax: the address is missing its closing '>'") }
        // Cut at the byte: a Character could join a combining mark to the '>' and take it along.
        let path = String(decoding: s.utf8[...end], as: UTF8.self)
        let params = String(decoding: s.utf8[s.utf8.index(after: end)...], as: UTF8.self).trimmingASCIISpaces()
        return (path, params)
    }

    /// An address as a person types it (`alice@example.org`, without the brackets), checked
    /// as MAIL FROM and RCPT TO would check it.
    public static func mailbox(_ address: String) throws(SMTPError) -> SMTPMailbox {
        try parsePath("<\(address)>")
    }

    /// ```
    /// Path           = "<" [ A-d-l ":" ] Mailbox ">"
    /// A-d-l          = At-domain *( "," At-domain )   ; source route: parsed and ignored (§4.1.2)
    /// Local-part     = Dot-string / Quoted-string
    /// ```
    static func parsePath(_ path: String) throws(SMTPError) -> SMTPMailbox {
        guard path.hasPrefix("<"), path.hasSuffix(">"), path.utf8.count >= 2 else {
            throw SMTPError(501, "5.1.3", "syntax: the address must be in angle brackets")
        }
        var inner = String(path.dropFirst().dropLast())
        guard inner.utf8.count <= 256 else { throw SMTPError(501, "5.1.3", "address too long") }
        if inner.hasPrefix("@") {
            // Source route: RFC 5321 §3.6.1 says to ignore it and use the mailbox.
            guard let colon = inner.firstIndex(of: ":") else { throw SMTPError(501, "5.1.3", "bad source route") }
            inner = String(inner[inner.index(after: colon)...])
        }
        // An '@' that a combining mark joins to the domain's first letter does not divide them.
        guard let at = lastAtOutsideQuotes(inner), String.Index(inner.utf8.index(after: at), within: inner) != nil else {
            throw SMTPError(501, "5.1.3", "address needs an @domain")
        }
        let localRaw = String(decoding: inner.utf8[..<at], as: UTF8.self)  // cut at the byte, as found
        let domain = String(decoding: inner.utf8[inner.utf8.index(after: at)...], as: UTF8.self)
        guard !localRaw.isEmpty, localRaw.utf8.count <= 64 + 2 else { throw SMTPError(501, "5.1.3", "bad local part") }
        guard !domain.isEmpty, domain.utf8.count <= 255 else { throw SMTPError(501, "5.1.3", "bad domain") }
        if domain.hasPrefix("[") {
            guard domain.hasSuffix("]"), domain.count > 2 else { throw SMTPError(501, "5.1.3", "bad address literal") }
        } else {
            guard !domain.contains(where: { $0 == " " || $0 == "\"" || $0 == "<" || $0 == ">" || $0 == "," || $0 == "@" }) else {
                throw SMTPError(501, "5.1.3", "bad domain")
            }
        }
        if localRaw.hasPrefix("\"") {
            guard localRaw.count >= 2, localRaw.hasSuffix("\"") else { throw SMTPError(501, "5.1.3", "unterminated quoted local part") }
            var content = ""
            var escaped = false
            for c in localRaw.dropFirst().dropLast() {
                if escaped {
                    content.append(c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    throw SMTPError(501, "5.1.3", "bad quoted local part")
                } else {
                    content.append(c)
                }
            }
            guard !escaped, !content.isEmpty else { throw SMTPError(501, "5.1.3", "bad quoted local part") }
            return SMTPMailbox(localPart: content, domain: domain, isQuoted: true)
        }
        guard isDotString(localRaw) else { throw SMTPError(501, "5.1.3", "bad local part") }
        return SMTPMailbox(localPart: localRaw, domain: domain, isQuoted: false)
    }

    private static func lastAtOutsideQuotes(_ s: String) -> String.Index? {
        var inQuotes = false
        var escaped = false
        var last: String.Index?
        for i in s.utf8.indices {  // bytes: the marks are ASCII
            let c = s.utf8[i]
            if escaped { escaped = false; continue }
            if c == UInt8(ascii: "\\") && inQuotes { escaped = true; continue }
            if c == UInt8(ascii: "\"") { inQuotes.toggle(); continue }
            if c == UInt8(ascii: "@") && !inQuotes { last = i }
        }
        return last
    }

    /// Dot-string = Atom *("." Atom), with UTF-8 allowed in atoms (RFC 6531 §3.3).
    static func isDotString(_ s: String) -> Bool {
        guard !s.hasPrefix("."), !s.hasSuffix("."),
            !zip(s.utf8, s.utf8.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == $0 })
        else { return false }
        return s.unicodeScalars.allSatisfy { c in
            if c == "." || c.value >= 0x80 { return c.value != 0x85 && c.value != 0x2028 && c.value != 0x2029 }
            switch c {
            case "a"..."z", "A"..."Z", "0"..."9": return true
            default: return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(c)
            }
        }
    }

    static func parseMailParameters(_ text: String) throws(SMTPError) -> MailParameters {
        var p = MailParameters()
        for item in text.split(separator: " ") {
            // esmtp-param = esmtp-keyword ["=" esmtp-value]; esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let first = kv.first, !first.isEmpty, first.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw SMTPError(501, "5.5.4", "malformed MAIL FROM parameter")
            }
            let key = first.uppercased()
            let value = kv.count == 2 ? String(kv[1]) : nil
            switch key {
            case "SIZE":
                guard let v = value, let n = Int(v), n >= 0 else { throw SMTPError(501, "5.5.4", "SIZE needs a number") }
                p.size = n
            case "BODY":
                guard let v = value, let b = MailParameters.Body(rawValue: v.uppercased()) else {
                    throw SMTPError(501, "5.5.4", "BODY must be 7BIT, 8BITMIME or BINARYMIME")
                }
                p.body = b
            case "SMTPUTF8":
                guard value == nil else { throw SMTPError(501, "5.5.4", "SMTPUTF8 takes no value") }
                p.smtpUTF8 = true
            case "AUTH":
                p.auth = value
            default:
                throw SMTPError(555, "5.5.4", "unsupported MAIL FROM parameter \(key)")
            }
        }
        return p
    }
}
