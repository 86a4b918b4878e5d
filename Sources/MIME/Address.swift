/// One entry of an IMAP address list (RFC 3501 §9 `address`), as raw header bytes.
///
///     address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
///
/// Group syntax is an entry with NIL host: a mailbox (the group name) starts a group, NIL
/// mailbox ends it (RFC 3501 §7.4.2).
struct Address: Hashable, Sendable {
    var name: [UInt8]?
    var adl: [UInt8]?
    var mailbox: [UInt8]?
    var host: [UInt8]?

    /// Placeholders for a mailbox without local part or domain. A NIL host would announce a
    /// group to the client, so (like Dovecot) these fill the gap instead.
    static let missingMailbox = Array("MISSING_MAILBOX".utf8)
    static let missingDomain = Array("MISSING_DOMAIN".utf8)

    static func groupStart(_ name: [UInt8]) -> Address { Address(mailbox: name) }
    static let groupEnd = Address()
}

/// A lexical token of an address header (RFC 5322 §3.2).
private enum AddressToken {
    /// An atom (dots included, so dot-atoms and obs-phrase "Q." are one token), quoted-string
    /// or domain-literal: `raw` as written, `text` unquoted for display names.
    case word(raw: ArraySlice<UInt8>, text: [UInt8])
    /// One of `< > @ , ; :`.
    case special(UInt8)
}

/// Parses RFC 5322 address lists into IMAP address entries, best effort.
enum AddressParser {
    ///     address-list = (address *("," address)) / obs-addr-list      ; RFC 5322 §3.4
    ///     address      = mailbox / group
    ///     mailbox      = name-addr / addr-spec
    ///     name-addr    = [display-name] angle-addr
    ///     angle-addr   = [CFWS] "<" [obs-route] addr-spec ">" [CFWS]
    ///     group        = display-name ":" [group-list] ";" [CFWS]
    ///     obs-route    = obs-domain-list ":"
    ///
    /// Comments are dropped, except one right after an addr-spec, which names it as the old
    /// form `user@host (Real Name)` does (Dovecot and Cyrus show it in ENVELOPE); quoted display
    /// names are unquoted; RFC 2047 words are left as they are. Garbage between addresses is
    /// skipped; an unclosed group is closed at the end.
    static func parse(_ value: [UInt8]) -> [Address] {
        let (tokens, commentAfter) = tokenize(value)
        var out: [Address] = []
        var inGroup = false
        var i = 0
        while i < tokens.count && out.count < MIME.Limits.maxAddresses {
            var phrase: [(raw: ArraySlice<UInt8>, text: [UInt8])] = []
            while i < tokens.count, case .word(let raw, let text) = tokens[i] {
                phrase.append((raw, text))
                i += 1
            }
            guard i < tokens.count, case .special(let s) = tokens[i] else {
                if !phrase.isEmpty { out.append(mailbox(local: phrase.map(\.raw), domain: nil, name: nil)) }
                break
            }
            i += 1
            switch s {
            case ASCII.less:
                // angle-addr: [obs-route] local-part "@" domain ">"
                var adl: [UInt8]?
                var local: [ArraySlice<UInt8>] = []
                var domain: [ArraySlice<UInt8>]?
                var routeEnd = i
                while routeEnd < tokens.count, !isSpecial(tokens[routeEnd], ASCII.colon), !isSpecial(tokens[routeEnd], ASCII.greater) {
                    routeEnd += 1
                }
                if i < tokens.count, isSpecial(tokens[i], ASCII.at), routeEnd < tokens.count, isSpecial(tokens[routeEnd], ASCII.colon) {
                    adl = tokens[i..<routeEnd].flatMap(rawBytes)
                    i = routeEnd + 1
                }
                while i < tokens.count, !isSpecial(tokens[i], ASCII.greater) {
                    if isSpecial(tokens[i], ASCII.at) {
                        if domain == nil { domain = [] }
                    } else if case .word(let raw, _) = tokens[i] {
                        if domain != nil { domain!.append(raw) } else { local.append(raw) }
                    }
                    i += 1
                }
                i += 1  // ">"
                var address = mailbox(local: local, domain: domain, name: displayName(phrase))
                address.adl = adl
                out.append(address)
                // Anything up to the next separator is garbage after the address.
                while i < tokens.count, !isSpecial(tokens[i], ASCII.comma), !isSpecial(tokens[i], ASCII.semicolon) { i += 1 }
            case ASCII.at:
                // addr-spec: the phrase was the local part; the domain is the words that follow.
                var domain: [ArraySlice<UInt8>] = []
                while i < tokens.count, case .word(let raw, _) = tokens[i] {
                    domain.append(raw)
                    i += 1
                }
                let comment = commentAfter[i - 1].flatMap { $0.isEmpty ? nil : $0 }
                out.append(mailbox(local: phrase.map(\.raw), domain: domain, name: comment))
            case ASCII.colon where !inGroup:
                inGroup = true
                out.append(.groupStart(displayName(phrase) ?? []))
            case ASCII.semicolon:
                if !phrase.isEmpty { out.append(mailbox(local: phrase.map(\.raw), domain: nil, name: nil)) }
                if inGroup {
                    out.append(.groupEnd)
                    inGroup = false
                }
            default:
                // "," (or a stray special): a phrase before it was a bare local part.
                if !phrase.isEmpty { out.append(mailbox(local: phrase.map(\.raw), domain: nil, name: nil)) }
            }
        }
        if inGroup { out.append(.groupEnd) }
        return out
    }

    private static func isSpecial(_ t: AddressToken, _ b: UInt8) -> Bool {
        if case .special(b) = t { return true }
        return false
    }

    private static func rawBytes(_ t: AddressToken) -> [UInt8] {
        switch t {
        case .word(let raw, _): Array(raw)
        case .special(let b): [b]
        }
    }

    private static func mailbox(local: [ArraySlice<UInt8>], domain: [ArraySlice<UInt8>]?, name: [UInt8]?) -> Address {
        let l = local.flatMap { $0 }
        let d = domain?.flatMap { $0 } ?? []
        return Address(name: name, mailbox: l.isEmpty ? Address.missingMailbox : l, host: d.isEmpty ? Address.missingDomain : d)
    }

    /// display-name = phrase: words joined by one space; nil when empty.
    private static func displayName(_ phrase: [(raw: ArraySlice<UInt8>, text: [UInt8])]) -> [UInt8]? {
        guard !phrase.isEmpty else { return nil }
        var out: [UInt8] = []
        for (n, w) in phrase.enumerated() {
            if n > 0 { out.append(ASCII.space) }
            out += w.text
        }
        return out.isEmpty ? nil : out
    }

    /// Splits an unfolded address header into words and specials, dropping CFWS; the text of
    /// the first comment after each token is kept by that token's index.
    private static func tokenize(_ v: [UInt8]) -> (tokens: [AddressToken], commentAfter: [Int: [UInt8]]) {
        var tokens: [AddressToken] = []
        var commentAfter: [Int: [UInt8]] = [:]
        var c = FieldCursor(v)
        while true {
            while let b = c.current, ASCII.isWhitespace(b) || b == ASCII.openParen {
                if b == ASCII.openParen {
                    let text = c.comment()
                    if !tokens.isEmpty && commentAfter[tokens.count - 1] == nil { commentAfter[tokens.count - 1] = text }
                } else {
                    c.pos += 1
                }
            }
            guard let b = c.current else { break }
            switch b {
            case ASCII.less, ASCII.greater, ASCII.at, ASCII.comma, ASCII.semicolon, ASCII.colon:
                tokens.append(.special(b))
                c.pos += 1
            case ASCII.quote:
                let start = c.pos
                let text = c.quotedString()
                tokens.append(.word(raw: v[start..<c.pos], text: text))
            case ASCII.openBracket:
                // domain-literal = [CFWS] "[" *([FWS] dtext) [FWS] "]" [CFWS]
                let start = c.pos
                while c.pos < v.count && v[c.pos] != ASCII.closeBracket { c.pos += 1 }
                c.pos = min(c.pos + 1, v.count)
                tokens.append(.word(raw: v[start..<c.pos], text: Array(v[start..<c.pos])))
            case ASCII.closeParen, ASCII.closeBracket:
                c.pos += 1  // stray closer: ignore
            default:
                let start = c.pos
                while c.pos < v.count {
                    let x = v[c.pos]
                    if ASCII.isWhitespace(x) { break }
                    if x == ASCII.less || x == ASCII.greater || x == ASCII.at || x == ASCII.comma || x == ASCII.semicolon
                        || x == ASCII.colon || x == ASCII.quote || x == ASCII.openParen || x == ASCII.openBracket
                    {
                        break
                    }
                    c.pos += 1
                }
                tokens.append(.word(raw: v[start..<c.pos], text: Array(v[start..<c.pos])))
            }
        }
        return (tokens, commentAfter)
    }
}

/// The mailboxes an address header names, for checks on the sender (DMARC's From domain).
public enum HeaderMailboxes {
    /// Each mailbox's local part and domain (lower case), groups opened; a mailbox without a
    /// domain has domain "".
    public static func parse(_ value: some Collection<UInt8>) -> [(local: String, domain: String)] {
        AddressParser.parse(Array(value)).compactMap { a in
            guard let host = a.host, let mailbox = a.mailbox else { return nil }  // group start or end
            let domain = host == Address.missingDomain ? "" : String(decoding: host, as: UTF8.self).lowercased()
            return (String(decoding: mailbox, as: UTF8.self), domain)
        }
    }
}

extension HeaderMailboxes {
    /// Each mailbox as written (Sieve's address test compares with the script's comparator, so
    /// case must survive): the local part, and the domain or nil when the address has none.
    public static func parseAsWritten(_ value: some Collection<UInt8>) -> [(local: String, domain: String?)] {
        AddressParser.parse(Array(value)).compactMap { a in
            guard let host = a.host, let mailbox = a.mailbox else { return nil }  // group start or end
            let local = mailbox == Address.missingMailbox ? "" : String(decoding: mailbox, as: UTF8.self)
            return (local, host == Address.missingDomain ? nil : String(decoding: host, as: UTF8.self))
        }
    }
}
