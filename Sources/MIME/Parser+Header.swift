/// One header field: where its name and its (still folded) value lie in the message bytes.
struct HeaderField: Hashable, Sendable {
    /// `field-name`, without the colon or trailing WSP.
    var name: Range<Int>
    /// Everything after the colon up to the end of the field's last line, line ending excluded.
    var value: Range<Int>
}

extension MIMEParser {
    /// Splits an entity into its header section and the start of its body.
    ///
    ///     message = fields [CRLF body]          ; RFC 5322 §3.5
    ///
    /// The header ends at the first empty line, which belongs to the header range. Bare LF
    /// counts as a line ending. Without an empty line the whole entity is header and the body
    /// is empty, which is how a truncated message reads.
    static func splitHeader(_ bytes: Bytes, _ range: Range<Int>) -> (header: Range<Int>, bodyStart: Int) {
        var pos = range.lowerBound
        let end = range.upperBound
        while pos < end {
            if bytes[pos] == ASCII.lf { return (range.lowerBound..<pos + 1, pos + 1) }
            if bytes[pos] == ASCII.cr && pos + 1 < end && bytes[pos + 1] == ASCII.lf {
                return (range.lowerBound..<pos + 2, pos + 2)
            }
            guard let lf = firstLF(bytes, from: pos, to: end) else { break }
            pos = lf + 1
        }
        return (range, end)
    }

    /// The index of the next LF in `from..<to`, if any.
    @inline(__always) static func firstLF(_ bytes: Bytes, from: Int, to: Int) -> Int? {
        bytes.firstLF(from: from, to: to)
    }

    /// The header fields of a header section, in order.
    ///
    ///     field       = field-name ":" unstructured CRLF        ; RFC 5322 §3.6.8
    ///     field-name  = 1*ftext
    ///     folding     = CRLF 1*WSP                               ; RFC 5322 §2.2.3
    ///
    /// A line that starts with WSP continues the previous field. Lines without a colon, and
    /// continuation lines with no field before them, are skipped (Dovecot does the same).
    static func headerFields(_ bytes: Bytes, _ header: Range<Int>) -> [HeaderField] {
        var fields: [HeaderField] = []
        var pos = header.lowerBound
        let end = header.upperBound
        while pos < end {
            let lineEnd = firstLF(bytes, from: pos, to: end) ?? end
            // The empty line that ends the header.
            if pos == lineEnd || (bytes[pos] == ASCII.cr && pos + 1 == lineEnd) { break }
            // The field's last line: follow continuation lines (they start with WSP).
            var last = lineEnd
            while last + 1 < end && ASCII.isWSP(bytes[last + 1]) {
                last = firstLF(bytes, from: last + 1, to: end) ?? end
            }
            if !ASCII.isWSP(bytes[pos]) {
                var colon = pos
                while colon < lineEnd && bytes[colon] != ASCII.colon { colon += 1 }
                if colon < lineEnd {
                    var nameEnd = colon
                    while nameEnd > pos && ASCII.isWSP(bytes[nameEnd - 1]) { nameEnd -= 1 }
                    var valueEnd = last
                    if valueEnd > colon + 1 && bytes[valueEnd - 1] == ASCII.cr { valueEnd -= 1 }
                    fields.append(HeaderField(name: pos..<nameEnd, value: colon + 1..<max(colon + 1, valueEnd)))
                }
            }
            pos = last + 1
        }
        return fields
    }

    /// A field value unfolded (RFC 5322 §2.2.3: CRLF before WSP removed) and trimmed.
    ///
    /// Every CR and LF inside one field's value is part of a fold, so dropping them all is
    /// exactly unfolding.
    static func unfolded(_ bytes: Bytes, _ range: Range<Int>) -> [UInt8] {
        let r = ASCII.trimmed(bytes, range)
        var out: [UInt8] = []
        out.reserveCapacity(r.count)
        for i in r where bytes[i] != ASCII.cr && bytes[i] != ASCII.lf { out.append(bytes[i]) }
        return out
    }

    /// The unfolded value of the first field named `name` (lowercase literal), if present.
    static func firstValue(_ bytes: Bytes, _ fields: [HeaderField], _ name: StaticString) -> [UInt8]? {
        for f in fields where ASCII.equalsLowercased(bytes, f.name, name) {
            return unfolded(bytes, f.value)
        }
        return nil
    }

    /// Lines in a body, as BODYSTRUCTURE's body-fld-lines: its line breaks. A part of a
    /// multipart ends without one, the CRLF before the boundary belonging to the boundary
    /// (RFC 2046 §5.1.1), so its last line is not counted again (as Dovecot and Cyrus count).
    static func countLines(_ bytes: Bytes, _ range: Range<Int>) -> Int {
        bytes.countLF(in: range)
    }
}
