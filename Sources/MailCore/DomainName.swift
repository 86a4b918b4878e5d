import Foundation

/// A DNS domain name in its one canonical form: lower-case ASCII, internationalised labels as
/// A-labels (`xn--…`), no trailing dot. Two spellings of one domain (`Example.ORG`,
/// `bücher.example` / `xn--bcher-kva.example`) make equal values.
///
/// The IDNA mapping is the part of UTS #46 mail needs: Unicode lower-casing and NFC
/// normalisation before Punycode; the full UTS #46 mapping table is not applied.
public struct DomainName: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The canonical ASCII form, e.g. `xn--bcher-kva.example`.
    public let ascii: String

    public static let maxLength = 253
    public static let maxLabelLength = 63

    public init(_ text: String) throws(AddressError) {
        if let ascii = Self.plainName(text) {
            self.ascii = ascii
            return
        }
        // Plain ASCII without spaces still skips the Foundation string work.
        let plain = !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        let trimmed = plain ? text : text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .domainInvalid(text, reason: "it is empty") }
        guard !trimmed.hasSuffix(".") else {
            throw .domainInvalid(text, reason: "it ends with a dot; write it without the trailing dot")
        }
        // Ideographic full stops are label separators in IDNA (RFC 3490 §3.1).
        let unified = plain ? trimmed : trimmed.replacingOccurrences(of: "\u{3002}", with: ".")
            .replacingOccurrences(of: "\u{FF0E}", with: ".")
            .replacingOccurrences(of: "\u{FF61}", with: ".")
        var labels: [String] = []
        for raw in unified.split(separator: ".", omittingEmptySubsequences: false) {
            labels.append(try Self.aLabel(String(raw), whole: text))
        }
        guard labels.count >= 2 else {
            throw .domainInvalid(text, reason: "it needs at least two labels, like example.org")
        }
        let ascii = labels.joined(separator: ".")
        guard ascii.utf8.count <= Self.maxLength else {
            throw .domainInvalid(text, reason: "it is longer than \(Self.maxLength) characters")
        }
        guard labels.last!.contains(where: { !$0.isNumber }) else {
            throw .domainInvalid(text, reason: "the last label is numeric; IP addresses are not domains")
        }
        self.ascii = ascii
    }

    /// `text` in lower case when it is an ASCII name that needs no IDNA work and breaks none
    /// of the rules below: one pass over its bytes. Every recipient and every checked sender
    /// domain is parsed; nil sends the rest (A-labels, U-labels, errors) the long way.
    private static func plainName(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= maxLength else { return nil }
        var labels = 0
        var length = 0
        var digitsOnly = true
        var previous = UInt8(ascii: ".")
        var upper = false
        for var byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard length > 0, previous != UInt8(ascii: "-") else { return nil }
                labels += 1
                (length, digitsOnly) = (0, true)
            } else {
                if (0x41...0x5A).contains(byte) {
                    upper = true
                    byte |= 0x20
                }
                let letter = (0x61...0x7A).contains(byte)
                let digit = (0x30...0x39).contains(byte)
                guard letter || digit || byte == UInt8(ascii: "-") else { return nil }
                // A leading hyphen, or hyphens 3 and 4 (A-labels, and U-label look-alikes).
                guard byte != UInt8(ascii: "-") || (length != 0 && !(length == 3 && previous == UInt8(ascii: "-"))) else { return nil }
                digitsOnly = digitsOnly && digit
                length += 1
                guard length <= maxLabelLength else { return nil }
            }
            previous = byte
        }
        guard length > 0, previous != UInt8(ascii: "-"), !digitsOnly, labels >= 1 else { return nil }
        return upper ? text.lowercased() : text
    }

    private static func aLabel(_ label: String, whole: String) throws(AddressError) -> String {
        guard !label.isEmpty else { throw .domainInvalid(whole, reason: "it has an empty label (two dots in a row)") }
        let ascii: String
        if label.unicodeScalars.allSatisfy({ $0.isASCII }) {
            ascii = label.lowercased()
            if ascii.hasPrefix("xn--") {
                let body = String(ascii.dropFirst(4))
                guard let decoded = Punycode.decode(body), !decoded.isEmpty,
                    Punycode.encode(decoded) == body,
                    decoded.unicodeScalars.contains(where: { !$0.isASCII })
                else { throw .domainInvalid(whole, reason: "label \"\(label)\" is not valid Punycode") }
                // An A-label must be the encoding of a label we would accept written out
                // (IDNA2008): otherwise its two spellings would not name the same domain.
                // By scalar: String's == holds for canonically equivalent strings whose marks
                // are in another order, and those encode differently.
                guard decoded.unicodeScalars.elementsEqual(decoded.lowercased().precomposedStringWithCanonicalMapping.unicodeScalars),
                    decoded.unicodeScalars.allSatisfy({ isAllowedUnicode($0) }), !hasHyphensAt3And4(decoded), !startsWithMark(decoded)
                else {
                    throw .domainInvalid(whole, reason: "label \"\(label)\" decodes to characters not allowed in domain names")
                }
            }
        } else {
            let mapped = label.lowercased().precomposedStringWithCanonicalMapping
            guard mapped.unicodeScalars.allSatisfy({ isAllowedUnicode($0) }) else {
                throw .domainInvalid(whole, reason: "label \"\(label)\" has characters not allowed in domain names")
            }
            guard !hasHyphensAt3And4(mapped) else {
                throw .domainInvalid(whole, reason: "label \"\(label)\" has hyphens in the 3rd and 4th positions")
            }
            guard !startsWithMark(mapped) else {
                throw .domainInvalid(whole, reason: "label \"\(label)\" starts with a combining mark")
            }
            guard let encoded = Punycode.encode(mapped) else {
                throw .domainInvalid(whole, reason: "label \"\(label)\" cannot be encoded")
            }
            ascii = "xn--" + encoded
        }
        guard ascii.utf8.count <= maxLabelLength else {
            throw .domainInvalid(whole, reason: "label \"\(label)\" is longer than \(maxLabelLength) characters")
        }
        for scalar in ascii.unicodeScalars {
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") || scalar == "-"
            guard ok else {
                throw .domainInvalid(whole, reason: "label \"\(label)\" may hold only letters, digits and hyphens")
            }
        }
        guard !ascii.hasPrefix("-"), !ascii.hasSuffix("-") else {
            throw .domainInvalid(whole, reason: "label \"\(label)\" starts or ends with a hyphen")
        }
        if !ascii.hasPrefix("xn--"), hasHyphensAt3And4(ascii) {
            throw .domainInvalid(whole, reason: "label \"\(label)\" has hyphens in the 3rd and 4th positions")
        }
        return ascii
    }

    /// `ab--…`: reserved for A-labels (RFC 5891 §4.2.3.1), so no U-label may look like one.
    private static func hasHyphensAt3And4(_ label: String) -> Bool {
        let scalars = Array(label.unicodeScalars)
        return scalars.count >= 4 && scalars[2] == "-" && scalars[3] == "-"
    }

    /// RFC 5891 §4.2.3.2: a label may not begin with a combining mark.
    private static func startsWithMark(_ label: String) -> Bool {
        guard let first = label.unicodeScalars.first else { return false }
        return [.nonspacingMark, .spacingMark, .enclosingMark].contains(first.properties.generalCategory)
    }

    private static func isAllowedUnicode(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            return (s >= "a" && s <= "z") || (s >= "0" && s <= "9") || s == "-"
        }
        let p = s.properties
        if p.isWhitespace || p.generalCategory == .control || p.generalCategory == .format
            || p.generalCategory == .privateUse || p.generalCategory == .unassigned
            || p.generalCategory == .surrogate || p.isNoncharacterCodePoint
        {
            return false
        }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// The Unicode form for display (U-labels), e.g. `bücher.example`.
    public var unicode: String {
        ascii.split(separator: ".").map { label -> String in
            if label.hasPrefix("xn--"), let u = Punycode.decode(String(label.dropFirst(4))) { return u }
            return String(label)
        }.joined(separator: ".")
    }

    public var description: String { ascii }

    public static func < (a: DomainName, b: DomainName) -> Bool { a.ascii < b.ascii }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try DomainName(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(ascii)
    }

    /// True when this domain is `other` or below it.
    public func isWithin(_ other: DomainName) -> Bool {
        ascii == other.ascii || ascii.hasSuffix("." + other.ascii)
    }
}
