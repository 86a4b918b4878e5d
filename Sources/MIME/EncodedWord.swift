/// RFC 2047 encoded words in header text: `=?charset?B|Q?encoded-text?=`.
///
///     encoded-word = "=?" charset "?" encoding "?" encoded-text "?="     ; RFC 2047 §2
///     charset      = token    ; may carry an RFC 2231 "*language" suffix
///     encoding     = "B" / "Q"
///
/// `EncodedWord.decode("=?ISO-8859-1?Q?Andr=E9?= Pirard")` is `"André Pirard"`.
public enum EncodedWord {
    /// Decodes every well-formed encoded word in `s`. Whitespace between two adjacent encoded
    /// words is dropped (RFC 2047 §6.2), and adjacent words in the same charset are joined
    /// before conversion so a character split across words survives. Malformed words, and
    /// words in a charset we cannot convert, are left as they are (unknown charsets are read
    /// as UTF-8).
    public static func decode(_ s: String) -> String {
        let bytes = Array(s.utf8)
        guard bytes.count >= 8, bytes.contains(ASCII.question) else { return s }
        var out = ""
        var pending: (charset: String, bytes: [UInt8])?
        var literalStart = 0
        var i = 0
        while i + 1 < bytes.count {
            guard bytes[i] == ASCII.equals, bytes[i + 1] == ASCII.question, let word = parse(bytes, at: i) else {
                i += 1
                continue
            }
            let literal = bytes[literalStart..<i]
            let adjacent = pending != nil && literal.allSatisfy(ASCII.isWhitespace)
            if !adjacent {
                flush(&pending, into: &out)
                out += ASCII.string(literal)
            }
            if let p = pending, p.charset == word.charset {
                pending!.bytes += word.bytes
            } else {
                flush(&pending, into: &out)
                pending = (word.charset, word.bytes)
            }
            i = word.end
            literalStart = word.end
        }
        flush(&pending, into: &out)
        out += ASCII.string(bytes[literalStart...])
        return out
    }

    private static func flush(_ pending: inout (charset: String, bytes: [UInt8])?, into out: inout String) {
        if let p = pending { out += Charset.decode(p.bytes, charset: p.charset) }
        pending = nil
    }

    /// The encoded word starting at `start` (which holds "=?"), or nil if it is malformed.
    private static func parse(_ b: [UInt8], at start: Int) -> (charset: String, bytes: [UInt8], end: Int)? {
        let limit = min(b.count, start + MIME.Limits.maxEncodedWordLength)
        var i = start + 2
        while i < limit && b[i] != ASCII.question {
            guard FieldCursor.isTokenByte(b[i]) || b[i] == ASCII.asterisk else { return nil }
            i += 1
        }
        guard i > start + 2, i + 2 < limit, b[i + 2] == ASCII.question else { return nil }
        let charset = Charset.normalized(ASCII.string(b[start + 2..<i]))
        let encoding = ASCII.lower(b[i + 1])
        guard encoding == 98 || encoding == 113 else { return nil }  // b, q
        let textStart = i + 3
        var j = textStart
        while j + 1 < limit && !(b[j] == ASCII.question && b[j + 1] == ASCII.equals) {
            guard !ASCII.isWhitespace(b[j]) else { return nil }  // encoded-text has no whitespace
            j += 1
        }
        guard j + 1 < limit else { return nil }
        let text = b[textStart..<j]
        let decoded = encoding == 98 ? TransferEncoding.base64(text) : qDecode(text)
        return (charset, decoded, j + 2)
    }

    /// The "Q" encoding (RFC 2047 §4.2): quoted-printable with "_" for space.
    private static func qDecode(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == ASCII.underscore {
                out.append(ASCII.space)
            } else if c == ASCII.equals, i + 2 < text.endIndex, let h = ASCII.hexValue(text[i + 1]), let l = ASCII.hexValue(text[i + 2]) {
                out.append(h << 4 | l)
                i += 2
            } else {
                out.append(c)
            }
            i += 1
        }
        return out
    }
}
