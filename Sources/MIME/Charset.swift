import Foundation
import MailCore

/// Converts bytes in a MIME charset (RFC 2046 §4.1.2, IANA names) to a Swift `String`.
enum Charset {
    /// Decodes `bytes` as `charset`. UTF-8, US-ASCII and ISO-8859-1 are converted here; the
    /// other ISO-8859 parts, windows-125x and KOI8 go through Foundation. Unknown charsets, and
    /// bytes invalid in the named one, fall back to lossy UTF-8 so search still finds the ASCII.
    static func decode(_ bytes: [UInt8], charset: String?) -> String {
        let name = normalized(charset ?? "utf-8")
        switch name {
        case "utf-8", "utf8", "us-ascii", "ascii", "":
            return ASCII.string(bytes)
        case "iso-8859-1", "latin1", "iso8859-1", "l1":
            // Each byte is its own code point (ISO-8859-1 is the first 256 of Unicode).
            var s = ""
            s.unicodeScalars.reserveCapacity(bytes.count)
            for b in bytes { s.unicodeScalars.append(Unicode.Scalar(b)) }
            return s
        default:
            if let encoding = foundationEncoding(name), let s = String(bytes: bytes, encoding: encoding) {
                return s
            }
            return ASCII.string(bytes)
        }
    }

    /// Lowercased, trimmed, with an RFC 2231 `*language` suffix (RFC 2231 §5) removed.
    static func normalized(_ charset: String) -> String {
        var s = charset.lowercased().trimmingASCIISpaces()
        if let star = s.firstIndex(of: "*") { s = String(s[..<star]) }
        if s.hasPrefix("\""), s.hasSuffix("\""), s.count >= 2 { s = String(s.dropFirst().dropLast()) }
        return s
    }

    /// The Foundation encoding for a charset name. The raw values are CoreFoundation
    /// `CFStringEncoding` numbers with the high bit set, which is how Foundation maps them.
    static func foundationEncoding(_ name: String) -> String.Encoding? {
        var cf: UInt?
        if name.hasPrefix("iso-8859-") || name.hasPrefix("iso8859-") || name.hasPrefix("iso_8859-") {
            let digits = name.split(separator: "-").last.flatMap { Int($0) }
            // kCFStringEncodingISOLatin1 is 0x0201; ISO-8859-N is 0x0200 + N (there is no 12).
            if let n = digits, (2...16).contains(n), n != 12 { cf = 0x0200 + UInt(n) }
        } else if name.hasPrefix("windows-125") || name.hasPrefix("cp125") {
            // kCFStringEncodingWindowsLatin1 (1252) is 0x0500; the others follow the code page.
            if let n = Int(name.suffix(1)) {
                let map: [Int: UInt] = [0: 0x0501, 1: 0x0502, 2: 0x0500, 3: 0x0503, 4: 0x0504, 5: 0x0505, 6: 0x0506, 7: 0x0507, 8: 0x0508]
                cf = map[n]
            }
        } else if name == "koi8-r" {
            cf = 0x0A02
        } else if name == "koi8-u" {
            cf = 0x0A08
        }
        return cf.map { String.Encoding(rawValue: 0x8000_0000 | $0) }
    }
}
