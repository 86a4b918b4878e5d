import Foundation

/// An email address `local@domain` (RFC 5321 §4.1.2 Mailbox, RFC 6531 for UTF-8 local parts).
///
/// The local part keeps the case it was written in; ``key`` folds it so that lookups are
/// case-insensitive. The domain is a canonical ``DomainName``. A quoted local part
/// (`"john smith"@example.org`) is parsed and kept unquoted in ``localPart``.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible, Codable {
    public let localPart: String
    public let domain: DomainName
    /// Whether the local part had to be quoted (is not a dot-atom).
    public let isQuoted: Bool
    /// The lookup key: local part case-folded and NFC-normalised, canonical domain. Computed
    /// once, since equality, hashing and every directory lookup use it.
    public let key: String

    /// RFC 5321 §4.5.3.1.1 / §4.5.3.1.3.
    public static let maxLocalPartOctets = 64
    public static let maxOctets = 254

    /// Parses `local@domain` (no angle brackets, no display name).
    ///
    /// ```
    /// Mailbox        = Local-part "@" ( Domain / address-literal )
    /// Local-part     = Dot-string / Quoted-string
    /// Dot-string     = Atom *("."  Atom)
    /// ```
    /// Address literals (`user@[192.0.2.1]`) are not accepted here.
    public init(_ text: String) throws(AddressError) {
        guard !text.isEmpty else { throw .empty }
        guard text.utf8.count <= Self.maxOctets + 2 else { throw .tooLong(text, limit: Self.maxOctets) }
        guard let at = text.lastIndex(of: "@") else { throw .missingAt(text) }
        let rawLocal = String(text[..<at])
        let rawDomain = String(text[text.index(after: at)...])
        guard !rawDomain.isEmpty else { throw .missingAt(text) }
        let (local, quoted) = try Self.parseLocalPart(rawLocal, whole: text)
        self.localPart = local
        self.isQuoted = quoted
        self.domain = try DomainName(rawDomain)
        self.key = Self.foldLocalPart(local) + "@" + domain.ascii
        guard self.description.utf8.count <= Self.maxOctets else { throw .tooLong(text, limit: Self.maxOctets) }
    }

    /// Builds an address from an unquoted local part (as kept in ``localPart``) and a domain.
    public init(localPart: String, domain: DomainName) throws(AddressError) {
        guard !localPart.isEmpty, localPart.utf8.count <= Self.maxLocalPartOctets else {
            throw .localPartInvalid(localPart, reason: "it must be 1 to \(Self.maxLocalPartOctets) octets")
        }
        guard localPart.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value != 127 }) else {
            throw .localPartInvalid(localPart, reason: "it has control characters")
        }
        self.localPart = localPart
        self.isQuoted = !Self.isDotAtom(localPart)
        self.domain = domain
        self.key = Self.foldLocalPart(localPart) + "@" + domain.ascii
    }

    private static func parseLocalPart(_ raw: String, whole: String) throws(AddressError) -> (String, Bool) {
        guard !raw.isEmpty else { throw .localPartInvalid(whole, reason: "it is empty") }
        guard raw.utf8.count <= maxLocalPartOctets + 2 else {
            throw .localPartInvalid(whole, reason: "it is longer than \(maxLocalPartOctets) octets")
        }
        if raw.hasPrefix("\"") {
            // Quoted-string = DQUOTE *QcontentSMTP DQUOTE; QcontentSMTP = qtextSMTP / quoted-pairSMTP
            guard raw.count >= 2, raw.hasSuffix("\"") else {
                throw .localPartInvalid(whole, reason: "the quote is not closed")
            }
            var content = ""
            var escaped = false
            for scalar in raw.unicodeScalars.dropFirst().dropLast() {
                if escaped {
                    guard scalar.value >= 32 && scalar.value <= 126 else {
                        throw .localPartInvalid(whole, reason: "invalid escaped character")
                    }
                    content.unicodeScalars.append(scalar)
                    escaped = false
                } else if scalar == "\\" {
                    escaped = true
                } else if scalar == "\"" || scalar.value < 32 || scalar.value == 127 {
                    throw .localPartInvalid(whole, reason: "invalid character inside quotes")
                } else {
                    content.unicodeScalars.append(scalar)
                }
            }
            guard !escaped else { throw .localPartInvalid(whole, reason: "it ends with a lone backslash") }
            guard !content.isEmpty, content.utf8.count <= maxLocalPartOctets else {
                throw .localPartInvalid(whole, reason: "it must be 1 to \(maxLocalPartOctets) octets")
            }
            // A quoted local part that is a valid dot-atom is the same address unquoted.
            return (content, !isDotAtom(content))
        }
        guard raw.utf8.count <= maxLocalPartOctets else {
            throw .localPartInvalid(whole, reason: "it is longer than \(maxLocalPartOctets) octets")
        }
        guard isDotAtom(raw) else {
            throw .localPartInvalid(
                whole, reason: "use letters, digits and !#$%&'*+-/=?^_`{|}~ with single dots between them")
        }
        return (raw, false)
    }

    /// Dot-string with RFC 6531 UTF-8 atext.
    public static func isDotAtom(_ s: String) -> Bool {
        guard !s.isEmpty, !s.hasPrefix("."), !s.hasSuffix(".") else { return false }
        // Consecutive dots found scalar by scalar: Foundation's `contains("..")` was most of
        // this check's cost on every address a delivery parses.
        var afterDot = false
        return s.unicodeScalars.allSatisfy { c in
            defer { afterDot = c == "." }
            if c == "." { return !afterDot }
            if !c.isASCII {
                let cat = c.properties.generalCategory
                return cat != .control && cat != .format && cat != .spaceSeparator
                    && cat != .lineSeparator && cat != .paragraphSeparator && cat != .surrogate
            }
            return isAtext(c)
        }
    }

    static func isAtext(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(c)
        }
    }

    public static func foldLocalPart(_ s: String) -> String {
        // Normalisation is costly and a no-op on ASCII, which nearly every address is.
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.lowercased() }
        return s.precomposedStringWithCanonicalMapping.lowercased()
    }

    /// The address as written for SMTP, quoting the local part when needed.
    public var description: String { renderedLocalPart + "@" + domain.ascii }

    /// The address with the domain as U-labels, for people.
    public var displayForm: String { renderedLocalPart + "@" + domain.unicode }

    private var renderedLocalPart: String {
        guard isQuoted else { return localPart }
        var out = "\""
        for ch in localPart {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "\""
    }

    /// `user+tag` → (`user`, `tag`); nil when there is no separator or the base would be empty.
    public func subaddress(separator: Character = "+") -> (base: String, tag: String)? {
        guard let i = localPart.firstIndex(of: separator), i != localPart.startIndex else { return nil }
        return (String(localPart[..<i]), String(localPart[localPart.index(after: i)...]))
    }

    public init(from decoder: any Decoder) throws {
        self = try EmailAddress(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public static func == (a: EmailAddress, b: EmailAddress) -> Bool { a.key == b.key }
    public func hash(into h: inout Hasher) { h.combine(key) }
}
