import Foundation

/// The comparison key of a string under i;unicode-casemap (RFC 5051 §2: each character
/// titlecased, then NFKD), compared octet by octet: what IMAP SORT compares strings by. On
/// US-ASCII text this is exactly RFC 5256's default i;ascii-casemap (a-z uppercased), and that
/// text takes a fast path; beyond it, "Über" sorts beside "Uber" rather than after "Zed", as
/// Dovecot sorts it too.
public enum Casemap {
    public static func key(_ s: String) -> [UInt8] {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.utf8.map(\.asciiUppercased) }
        var titled = ""
        for scalar in s.unicodeScalars { titled += scalar.properties.titlecaseMapping }
        return Array(titled.decomposedStringWithCompatibilityMapping.utf8)
    }

    /// The key of UTF-8 text.
    public static func key(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { key($0) }
    }

    public static func key(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        if bytes.allSatisfy({ $0 < 0x80 }) { return bytes.map(\.asciiUppercased) }
        return key(String(decoding: bytes, as: UTF8.self))
    }
}
