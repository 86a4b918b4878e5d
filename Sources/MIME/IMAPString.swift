/// How IMAP sends strings in FETCH responses (RFC 3501 §4.3, §9; RFC 9051 §4.3).
///
///     nstring = string / nil
///     string  = quoted / literal
///     quoted  = DQUOTE *QUOTED-CHAR DQUOTE
///     literal = "{" number "}" CRLF *CHAR8
///
///     S: * 1 FETCH (ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "afternoon meeting" …))
public enum IMAPString {
    /// `NIL` for nil; a quoted string when every byte is 7-bit and not CR, LF or NUL (`\` and
    /// `"` escaped); otherwise a literal `{n}\r\n` followed by the bytes.
    public static func quoted(_ bytes: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        append(bytes, to: &out)
        return out
    }

    /// `quoted` for a Swift string (sent as UTF-8).
    public static func quoted(string: String?) -> [UInt8] {
        quoted(string.map { Array($0.utf8) })
    }

    /// `nstring`: the same as `quoted`, named for the grammar rule it produces.
    public static func nstring(_ bytes: [UInt8]?) -> [UInt8] { quoted(bytes) }

    /// `astring`: an atom when the bytes are all ATOM-CHARs (or `]`), otherwise a string.
    ///
    ///     astring = 1*ASTRING-CHAR / string
    ///     ASTRING-CHAR = ATOM-CHAR / resp-specials
    ///
    /// `utf8`: the bytes are valid UTF-8 and the client accepts it in quoted strings (RFC 9051
    /// `uQUOTED-CHAR`, or UTF8=ACCEPT), so non-ASCII text is quoted rather than sent as a literal.
    public static func astring(_ bytes: [UInt8], utf8: Bool = false) -> [UInt8] {
        if !bytes.isEmpty && bytes.allSatisfy({ isAtomChar($0) || $0 == ASCII.closeBracket }) { return bytes }
        var out: [UInt8] = []
        append(bytes, to: &out, utf8: utf8)
        return out
    }

    /// ATOM-CHAR: any CHAR except atom-specials `( ) { SP CTL % * " \ ]`.
    static func isAtomChar(_ b: UInt8) -> Bool {
        switch b {
        case 0...32, 127...255: false
        case 40, 41, 123, 37, 42, 34, 92, 93: false
        default: true
        }
    }

    /// Appends the `nstring` form of `bytes` to `out`, without building a temporary array.
    static func append(_ bytes: [UInt8]?, to out: inout [UInt8], utf8: Bool = false) {
        guard let bytes else {
            out += [78, 73, 76]  // NIL
            return
        }
        let canQuote = bytes.allSatisfy { $0 != 0 && ($0 < 128 || utf8) && $0 != ASCII.cr && $0 != ASCII.lf }
        if canQuote {
            out.append(ASCII.quote)
            for b in bytes {
                if b == ASCII.quote || b == ASCII.backslash { out.append(ASCII.backslash) }
                out.append(b)
            }
            out.append(ASCII.quote)
        } else {
            out.append(123)  // {
            out += Array(String(bytes.count).utf8)
            out += [125, ASCII.cr, ASCII.lf]  // }CRLF
            out += bytes
        }
    }

    /// Appends `string`'s UTF-8 as an `nstring`.
    static func append(_ string: String?, to out: inout [UInt8]) {
        append(string.map { Array($0.utf8) }, to: &out)
    }
}
