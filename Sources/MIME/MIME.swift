import Synchronization

/// Namespace for Mailroom's MIME support (RFC 2045–2049, RFC 2231, RFC 5322) and the IMAP
/// renderings built on it (ENVELOPE and BODYSTRUCTURE, RFC 3501 §7.4.2 / RFC 9051 §7.5.2).
///
/// Everything here works on the raw message bytes and never throws: a mail store has to show
/// whatever arrived, so broken input is parsed best effort instead of rejected.
public enum MIME {
    /// Every limit the MIME parser enforces, in one place. They keep hostile input linear.
    public enum Limits {
        /// Multiparts and message/rfc822 parts nested deeper than this are opaque leaves (and
        /// BODYSTRUCTURE stops there). The server sets it once at start from `imap.max_mime_depth`.
        public static var maxDepth: Int {
            get { depthSetting.load(ordering: .relaxed) }
            set { depthSetting.store(max(1, min(newValue, 1000)), ordering: .relaxed) }
        }
        private static let depthSetting = Atomic<Int>(64)
        /// Parts in one message, counted over all levels; later delimiters are ignored.
        public static let maxParts = 10_000
        /// Parameters kept per Content-Type / Content-Disposition field.
        public static let maxParameters = 64
        /// RFC 2231 continuation sections kept per parameter (`name*0` … `name*N`).
        public static let maxParameterSections = 256
        /// Longest RFC 2047 encoded word recognised (RFC 2047 §2 says 75; real mail is sloppier).
        public static let maxEncodedWordLength = 512
        /// Addresses kept per address header.
        public static let maxAddresses = 2_000
    }
}

/// ASCII byte constants, named so the parse code reads like the ABNF it implements.
enum ASCII {
    static let tab: UInt8 = 9
    static let lf: UInt8 = 10
    static let cr: UInt8 = 13
    static let space: UInt8 = 32
    static let quote: UInt8 = 34  // "
    static let percent: UInt8 = 37
    static let apostrophe: UInt8 = 39
    static let openParen: UInt8 = 40
    static let closeParen: UInt8 = 41
    static let asterisk: UInt8 = 42
    static let comma: UInt8 = 44
    static let dash: UInt8 = 45
    static let dot: UInt8 = 46
    static let slash: UInt8 = 47
    static let colon: UInt8 = 58
    static let semicolon: UInt8 = 59
    static let less: UInt8 = 60
    static let equals: UInt8 = 61
    static let greater: UInt8 = 62
    static let question: UInt8 = 63
    static let at: UInt8 = 64
    static let openBracket: UInt8 = 91
    static let backslash: UInt8 = 92
    static let closeBracket: UInt8 = 93
    static let underscore: UInt8 = 95

    /// WSP = SP / HTAB (RFC 5234 B.1).
    @inline(__always) static func isWSP(_ b: UInt8) -> Bool { b == space || b == tab }

    /// WSP or a line-ending byte: what unfolding and trimming skip.
    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == space || b == tab || b == cr || b == lf }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }

    @inline(__always) static func upper(_ b: UInt8) -> UInt8 { b >= 97 && b <= 122 ? b - 32 : b }

    /// The value of a hex digit, or nil.
    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }

    /// Case-insensitive comparison of `bytes[range]` with an ASCII-lowercase literal.
    static func equalsLowercased<B: MIMEBytes>(_ bytes: B, _ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { literal in
            var i = 0
            for p in range {
                if lower(bytes[p]) != literal[i] { return false }
                i += 1
            }
            return true
        }
    }

    /// `range` with leading and trailing whitespace (including CR and LF) removed.
    static func trimmed<B: MIMEBytes>(_ bytes: B, _ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound
        var hi = range.upperBound
        while lo < hi && isWhitespace(bytes[lo]) { lo += 1 }
        while hi > lo && isWhitespace(bytes[hi - 1]) { hi -= 1 }
        return lo..<hi
    }

    /// Bytes decoded as UTF-8, invalid sequences replaced (RFC 6532 allows UTF-8 in headers).
    static func string(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
