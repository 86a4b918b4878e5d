extension MIMEParser {
    /// Splits a multipart body at its boundary delimiters and parses each body part.
    ///
    ///     multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF
    ///                       body-part *encapsulation close-delimiter transport-padding
    ///                       [CRLF epilogue]                                   ; RFC 2046 §5.1.1
    ///     encapsulation := delimiter transport-padding CRLF body-part
    ///     delimiter := CRLF dash-boundary
    ///     close-delimiter := delimiter "--"
    ///     dash-boundary := "--" boundary
    ///
    /// The CRLF before a delimiter belongs to the delimiter, so a part ends before it. Bare LF
    /// works as CRLF. After "--boundary" only transport padding (WSP) may follow on the line, so
    /// an inner boundary that merely starts with the outer one is not mistaken for it; after
    /// "--boundary--" anything may follow. Without a close delimiter the last part runs to the
    /// end of the body. Preamble and epilogue are ignored.
    mutating func multipartChildren(
        _ body: Range<Int>, boundary: [UInt8], depth: Int, defaultType: DefaultType
    ) -> [MIMEPart] {
        var children: [MIMEPart] = []
        var partStart: Int?
        var pos = body.lowerBound
        let end = body.upperBound
        while pos < end {
            let lineEnd = Self.firstLF(bytes, from: pos, to: end) ?? end
            if let isClose = delimiter(at: pos, lineEnd: lineEnd, boundary: boundary) {
                if let start = partStart {
                    children.append(entity(start..<Self.endBeforeLineEnding(bytes, pos, floor: start), depth: depth, defaultType: defaultType))
                    if partCount >= MIME.Limits.maxParts { return children }
                }
                if isClose { return children }
                partStart = min(lineEnd + 1, end)
            }
            pos = lineEnd + 1
        }
        if let start = partStart, partCount < MIME.Limits.maxParts {
            children.append(entity(start..<end, depth: depth, defaultType: defaultType))
        }
        return children
    }

    /// Whether the line at `pos` is a delimiter: nil if not, else whether it is the close one.
    private func delimiter(at pos: Int, lineEnd: Int, boundary: [UInt8]) -> Bool? {
        let after = pos + 2 + boundary.count
        guard after <= lineEnd, bytes[pos] == ASCII.dash, bytes[pos + 1] == ASCII.dash else { return nil }
        var i = pos + 2
        for b in boundary {
            if bytes[i] != b { return nil }
            i += 1
        }
        if after + 1 < lineEnd, bytes[after] == ASCII.dash, bytes[after + 1] == ASCII.dash { return true }
        for j in after..<lineEnd where !ASCII.isWhitespace(bytes[j]) { return nil }  // transport-padding
        return false
    }

    /// `pos` moved back over the CRLF (or LF) that ends the previous line, not below `floor`.
    static func endBeforeLineEnding(_ bytes: Bytes, _ pos: Int, floor: Int) -> Int {
        var e = pos
        if e > floor && bytes[e - 1] == ASCII.lf {
            e -= 1
            if e > floor && bytes[e - 1] == ASCII.cr { e -= 1 }
        }
        return e
    }
}
