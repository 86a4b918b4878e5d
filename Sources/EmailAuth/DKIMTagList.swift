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

    public init(_ text: some StringProtocol) throws(DKIMVerifyError) {
        var seen: Set<String> = []
        for spec in text.split(separator: ";", omittingEmptySubsequences: false) {
            let trimmed = Self.trimFWS(spec)
            if trimmed.isEmpty { continue }  // the optional final ";" (and tolerated empty specs)
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw .syntax("\"\(trimmed.prefix(40))\" is not tag=value")
            }
            let name = String(Self.trimFWS(trimmed[..<equals]))
            let value = String(Self.trimFWS(trimmed[trimmed.index(after: equals)...]))
            guard let first = name.unicodeScalars.first, first.isASCIILetter,
                name.unicodeScalars.allSatisfy({ $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "_" })
            else { throw .syntax("\"\(name.prefix(40))\" is not a tag name") }
            guard value.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) || $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
            else { throw .syntax("the value of \(name)= has characters a tag value cannot hold") }
            guard seen.insert(name).inserted else { throw .syntax("the tag \(name)= appears twice") }
            tags.append((name, value))
        }
    }

    static func trimFWS(_ s: some StringProtocol) -> Substring {
        let isFWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\r" || $0 == "\n" }
        let sub = Substring(s)
        guard let start = sub.firstIndex(where: { !isFWS($0) }) else { return "" }
        let end = sub.lastIndex(where: { !isFWS($0) })!
        return sub[start...end]
    }

    /// The value with all folding white space removed (base64 values such as `b=`, `bh=`, `p=`).
    static func withoutFWS(_ value: String) -> String {
        String(value.unicodeScalars.filter { !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n") }.map(Character.init))
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
