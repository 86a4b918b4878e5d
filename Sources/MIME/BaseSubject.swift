/// The base subject of RFC 5256 §2.1, which SORT SUBJECT and THREAD compare: the subject
/// without reply and forward markers, list tags or whitespace differences.
///
///     subj-trailer    = "(fwd)" / WSP
///     subj-fwd-hdr    = "[fwd:"
///     subj-fwd-trl    = "]"
///     subj-leader     = (*subj-blob subj-refwd) / WSP
///     subj-blob       = "[" *BLOBCHAR "]" *WSP
///     subj-refwd      = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
///     BLOBCHAR        = %x01-5a / %x5c / %x5e-7f     ; any CHAR except '[' and ']'
///
/// `BaseSubject("Re: [list] Fwd: Lunch (fwd)")` has `text` "Lunch" and `isReplyOrForward` true.
public struct BaseSubject: Hashable, Sendable {
    /// The base subject, in the case it was written (callers compare with i;ascii-casemap).
    public var text: String
    /// A reply or forward marker was removed (THREAD=REFERENCES §5.B/C uses this).
    public var isReplyOrForward: Bool

    /// `raw`: the Subject field's value as stored (RFC 2047 words not yet decoded).
    public init(_ raw: String) {
        // (1) Decode encoded words; tabs and line breaks become spaces; runs of spaces one.
        var s: [UInt8] = []
        var lastSpace = false
        for b in EncodedWord.decode(raw).utf8 {
            let space = b == ASCII.space || b == ASCII.tab || b == ASCII.cr || b == ASCII.lf
            if space && lastSpace { continue }
            s.append(space ? ASCII.space : b)
            lastSpace = space
        }
        var reply = false
        var start = 0
        var end = s.count
        while true {
            // (2) Trailing "(fwd)" and whitespace.
            while start < end {
                if s[end - 1] == ASCII.space {
                    end -= 1
                } else if end - start >= 5, Self.matches(s, end - 5, "(fwd)") {
                    end -= 5
                    reply = true
                } else {
                    break
                }
            }
            // (3), (4), repeated (5): leaders, then a leading blob when text remains after it.
            var changed = true
            while changed {
                changed = false
                while start < end {
                    if s[start] == ASCII.space {
                        start += 1
                    } else if let next = Self.refwd(s, start, end) {
                        start = next
                        reply = true
                    } else {
                        break
                    }
                    changed = true
                }
                if let next = Self.blob(s, start, end), next < end {
                    start = next
                    changed = true
                }
            }
            // (6) "[fwd: ...]" around everything: unwrap and start again at (2).
            guard end - start >= 6, Self.matches(s, start, "[fwd:"), s[end - 1] == ASCII.closeBracket else { break }
            start += 5
            end -= 1
            reply = true
        }
        text = String(decoding: s[start..<end], as: UTF8.self)
        isReplyOrForward = reply
    }

    /// Whether `s` has `word` (lowercase ASCII) at `i`, ignoring ASCII case.
    static func matches(_ s: [UInt8], _ i: Int, _ word: StaticString) -> Bool {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard i >= 0, i + w.count <= s.count else { return false }
        for k in 0..<w.count where ASCII.lower(s[i + k]) != w[k] { return false }
        return true
    }

    /// subj-blob at `i`: the index after it and its trailing whitespace.
    static func blob(_ s: [UInt8], _ i: Int, _ end: Int) -> Int? {
        guard i < end, s[i] == ASCII.openBracket else { return nil }
        var j = i + 1
        while j < end, s[j] != ASCII.closeBracket {
            if s[j] == ASCII.openBracket { return nil }
            j += 1
        }
        guard j < end else { return nil }
        j += 1
        while j < end, s[j] == ASCII.space { j += 1 }
        return j
    }

    /// `*subj-blob subj-refwd` at `i`: the index after its colon.
    static func refwd(_ s: [UInt8], _ i: Int, _ end: Int) -> Int? {
        var j = i
        while let next = blob(s, j, end) { j = next }
        if matches(s, j, "re") {
            j += 2
        } else if matches(s, j, "fwd") {
            j += 3
        } else if matches(s, j, "fw") {
            j += 2
        } else {
            return nil
        }
        while j < end, s[j] == ASCII.space { j += 1 }
        if let next = blob(s, j, end) { j = next }
        guard j < end, s[j] == ASCII.colon else { return nil }
        return j + 1
    }
}
