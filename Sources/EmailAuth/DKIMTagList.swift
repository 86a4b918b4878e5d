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
    /// signatures and seals, each parsed on every delivery.
    public init(_ text: some StringProtocol) throws(DKIMVerifyError) {
        let b = Array(text.utf8)
        tags.reserveCapacity(16)
        var i = 0
        repeat {
            var end = i
            while end < b.count, b[end] != UInt8(ascii: ";") { end += 1 }
            let spec = Self.trimFWS(b[i..<end])
            i = end + 1
            if spec.isEmpty { continue }  // the optional final ";" (and tolerated empty specs)
            guard let equals = spec.firstIndex(of: UInt8(ascii: "=")) else {
                throw .syntax("\"\(Self.text(spec.prefix(40)))\" is not tag=value")
            }
            let name = Self.trimFWS(spec[..<equals])
            let value = Self.trimFWS(spec[(equals + 1)...])
            guard let first = name.first, Self.isLetter(first),
                name.allSatisfy({ Self.isLetter($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "_") })
            else { throw .syntax("\"\(Self.text(name.prefix(40)))\" is not a tag name") }
            let nameText = Self.text(name)
            guard value.allSatisfy({ (0x21...0x7E).contains($0) || Self.isFWS($0) })
            else { throw .syntax("the value of \(nameText)= has characters a tag value cannot hold") }
            guard !tags.contains(where: { $0.name == nameText }) else { throw .syntax("the tag \(nameText)= appears twice") }
            tags.append((nameText, Self.text(value)))
        } while i <= b.count
    }

    static func isFWS(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
    static func isLetter(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
    static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// `s` without folding white space at either end (tag values that are lists: `t=y:s`).
    static func trimFWS(_ s: some StringProtocol) -> Substring {
        let sub = Substring(s)
        let isFWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\r" || $0 == "\n" }
        guard let start = sub.firstIndex(where: { !isFWS($0) }), let end = sub.lastIndex(where: { !isFWS($0) }) else { return "" }
        return sub[start...end]
    }

    static func trimFWS(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let start = s.firstIndex(where: { !isFWS($0) }), let end = s.lastIndex(where: { !isFWS($0) }) else { return [] }
        return s[start...end]
    }

    /// The value with all folding white space removed (base64 values such as `b=`, `bh=`, `p=`).
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
