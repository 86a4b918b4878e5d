/// A DKIM tag list (RFC 6376 §3.2), the syntax of signatures and key records:
///
///     tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
///     tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
///     tag-name  =  ALPHA *ALNUMPUNC
///     tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]      ; tval = 1*VALCHAR (%x21-3A / %x3C-7E)
///
/// Values keep their inner white space; tags are case-sensitive; a tag given twice is an error.
public struct DKIMTagList: Sendable {
    public private(set) var tags: [(name: String, value: String)] = []

    public subscript(name: String) -> String? { tags.first { $0.name == name }?.value }

    /// Parsed over the text's UTF-8 octets: the grammar is ASCII, and a message carries several
    /// signatures and seals, each parsed on every delivery. Plain index loops over the bytes:
    /// generic slice algorithms with closures took a quarter of a signature's parse.
    public init(_ text: some StringProtocol) throws(DKIMVerifyError) {
        var text = String(text)
        tags = try text.withUTF8 { Self.parse($0) }.get()
    }

    private static func parse(
        _ b: UnsafeBufferPointer<UInt8>
    ) -> Result<[(name: String, value: String)], DKIMVerifyError> {
        var tags: [(name: String, value: String)] = []
        tags.reserveCapacity(16)
        var i = 0
        repeat {
            var end = i
            while end < b.count, b[end] != UInt8(ascii: ";") { end += 1 }
            let (specStart, specEnd) = trimmedFWS(b, i, end)
            i = end + 1
            if specStart == specEnd { continue }  // the optional final ";" (and tolerated empty specs)
            var equals = specStart
            while equals < specEnd, b[equals] != UInt8(ascii: "=") { equals += 1 }
            guard equals < specEnd else {
                return .failure(.syntax("\"\(text(b, specStart, min(specEnd, specStart + 40)))\" is not tag=value"))
            }
            let (nameStart, nameEnd) = trimmedFWS(b, specStart, equals)
            let (valueStart, valueEnd) = trimmedFWS(b, equals + 1, specEnd)
            var nameOK = nameStart < nameEnd && isLetter(b[nameStart])
            for k in nameStart..<nameEnd where !(isLetter(b[k]) || (0x30...0x39).contains(b[k]) || b[k] == 0x5F) {  // _
                nameOK = false
            }
            guard nameOK else {
                return .failure(.syntax("\"\(text(b, nameStart, min(nameEnd, nameStart + 40)))\" is not a tag name"))
            }
            let name = text(b, nameStart, nameEnd)
            for k in valueStart..<valueEnd where !((0x21...0x7E).contains(b[k]) || isFWS(b[k])) {
                return .failure(.syntax("the value of \(name)= has characters a tag value cannot hold"))
            }
            for tag in tags where tag.name == name { return .failure(.syntax("the tag \(name)= appears twice")) }
            tags.append((name, text(b, valueStart, valueEnd)))
        } while i <= b.count
        return .success(tags)
    }

    /// The bounds of `b[start..<end]` without folding white space at either end.
    private static func trimmedFWS(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int) {
        var start = start, end = end
        while start < end, isFWS(b[start]) { start += 1 }
        while end > start, isFWS(b[end - 1]) { end -= 1 }
        return (start, end)
    }

    private static func text(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
    }

    static func isFWS(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
    static func isLetter(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }

    /// `s` without folding white space at either end (tag values that are lists: `t=y:s`).
    static func trimFWS(_ s: some StringProtocol) -> Substring {
        let sub = Substring(s)
        let isFWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\r" || $0 == "\n" }
        guard let start = sub.firstIndex(where: { !isFWS($0) }), let end = sub.lastIndex(where: { !isFWS($0) }) else { return "" }
        return sub[start...end]
    }

    /// The bytes of a base64 value (`b=`, `bh=`, `p=`), its folding white space skipped; nil
    /// when it is not base64 (a character outside the alphabet, data after `=`, a length no
    /// encoding gives). Decoded in one pass, without a copy of the text first.
    static func base64(_ value: String) -> [UInt8]? {
        var value = value
        return value.withUTF8 { text in
            base64Sextets.withUnsafeBufferPointer { sextets -> [UInt8]? in
                var out: [UInt8] = []
                out.reserveCapacity(text.count / 4 * 3)
                var accumulator: UInt32 = 0
                var bits: UInt32 = 0
                var count = 0
                var padding = 0
                for c in text {
                    let sextet = sextets[Int(c)]
                    if sextet < 64 {
                        guard padding == 0 else { return nil }
                        accumulator = accumulator << 6 | UInt32(sextet)
                        bits += 6
                        if bits >= 8 {
                            bits -= 8
                            out.append(UInt8(truncatingIfNeeded: accumulator >> bits))
                        }
                        count += 1
                    } else if sextet == Self.pad {
                        padding += 1
                    } else if sextet != Self.fws {
                        return nil
                    }
                }
                // At most two "=", after some data; padding is optional (RFC 6376 §2.4 grammar),
                // but one character alone cannot end the data (it holds 6 of a byte's 8 bits).
                guard count % 4 != 1, padding <= 2, padding == 0 || count > 0 else { return nil }
                return out
            }
        }
    }

    private static let pad: UInt8 = 0xFE
    private static let fws: UInt8 = 0xFD

    /// Each byte's base64 value, or `pad` (`=`), `fws` (folding white space), 0xFF (neither).
    private static let base64Sextets: [UInt8] = {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        return (0...255).map { (byte: Int) -> UInt8 in
            if let sextet = alphabet.firstIndex(of: UInt8(byte)) { return UInt8(sextet) }
            if byte == Int(UInt8(ascii: "=")) { return pad }
            return isFWS(UInt8(byte)) ? fws : 0xFF
        }
    }()

    /// The value with all folding white space removed (lists such as `h=`).
    static func withoutFWS(_ value: String) -> String {
        guard value.utf8.contains(where: isFWS) else { return value }
        return String(unsafeUninitializedCapacity: value.utf8.count) { out in
            var count = 0
            for c in value.utf8 where !isFWS(c) {
                out[count] = c
                count += 1
            }
            return count
        }
    }
}
