/// Content-Transfer-Encoding decoders (RFC 2045 §6). Both are tolerant, as readers must be.
public enum TransferEncoding {
    /// Decodes `bytes[range]` per the part's encoding; identity for 7bit/8bit/binary/unknown.
    public static func decode(_ bytes: [UInt8], _ range: Range<Int>, encoding: String?) -> [UInt8] {
        switch encoding {
        case "base64": base64(bytes[range])
        case "quoted-printable": quotedPrintable(bytes[range])
        default: Array(bytes[range])
        }
    }

    /// Base64 (RFC 2045 §6.8): characters outside the alphabet are ignored, `=` ends the data,
    /// and a trailing partial group contributes what whole bytes it holds.
    static func base64(_ input: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for b in input {
            let v: UInt32
            switch b {
            case 65...90: v = UInt32(b - 65)
            case 97...122: v = UInt32(b - 71)
            case 48...57: v = UInt32(b + 4)
            case 43: v = 62  // +
            case 47: v = 63  // /
            case ASCII.equals: return out
            default: continue
            }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        return out
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX` is a byte, `=` at a line end is a soft break,
    /// white space at the end of a line is dropped (rule 3: transport added it), and a
    /// malformed `=` is kept literally (the "robust implementation" note).
    static func quotedPrintable(_ input: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = input.startIndex
        let end = input.endIndex
        while i < end {
            let b = input[i]
            if ASCII.isWSP(b) {
                var j = i + 1
                while j < end && ASCII.isWSP(input[j]) { j += 1 }
                let atLineEnd = j == end || input[j] == ASCII.lf || (input[j] == ASCII.cr && j + 1 < end && input[j + 1] == ASCII.lf)
                if !atLineEnd { out += input[i..<j] }
                i = j
                continue
            }
            guard b == ASCII.equals else {
                out.append(b)
                i += 1
                continue
            }
            if i + 2 < end, let h = ASCII.hexValue(input[i + 1]), let l = ASCII.hexValue(input[i + 2]) {
                out.append(h << 4 | l)
                i += 3
                continue
            }
            // Soft line break: "=" then optional trailing WSP, then CRLF or LF.
            var j = i + 1
            while j < end && ASCII.isWSP(input[j]) { j += 1 }
            if j < end && input[j] == ASCII.cr { j += 1 }
            if j < end && input[j] == ASCII.lf {
                i = j + 1
            } else if j >= end {
                i = end
            } else {
                out.append(b)
                i += 1
            }
        }
        return out
    }
}
