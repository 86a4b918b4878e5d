import MIME

/// Checks on rendered IMAP data shared by the malformed-input and fuzz tests.
enum IMAPSyntax {
    /// Whether parentheses balance outside quoted strings and literals, and every quoted
    /// string and literal is complete.
    static func isBalanced(_ b: [UInt8]) -> Bool {
        var depth = 0
        var i = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth < 0 { return false }
            case UInt8(ascii: "\""):
                i += 1
                while i < b.count && b[i] != UInt8(ascii: "\"") {
                    if b[i] == UInt8(ascii: "\\") { i += 1 }
                    if i < b.count, b[i] == 13 || b[i] == 10 || b[i] == 0 || b[i] > 127 { return false }
                    i += 1
                }
                if i >= b.count { return false }
            case UInt8(ascii: "{"):
                var n = 0
                i += 1
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    n = n * 10 + Int(b[i] - 48)
                    i += 1
                }
                guard i + 2 < b.count + 1, i + 2 <= b.count, b[i] == UInt8(ascii: "}"), b[i + 1] == 13, b[i + 2] == 10 else { return false }
                i += 2 + n
                if i >= b.count { return false }
            default: break
            }
            i += 1
        }
        return depth == 0
    }

    /// Whether every range in the tree lies inside `0..<count` and is well ordered.
    static func rangesInside(_ p: MIMEPart, _ count: Int, depth: Int = 0) -> Bool {
        guard depth < 200 else { return false }
        let ok = p.headerRange.lowerBound >= 0 && p.headerRange.upperBound <= count && p.bodyRange.lowerBound >= 0
            && p.bodyRange.upperBound <= count && p.headerRange.upperBound <= p.bodyRange.lowerBound
        guard ok else { return false }
        if let m = p.message, !rangesInside(m, count, depth: depth + 1) { return false }
        return p.children.allSatisfy { rangesInside($0, count, depth: depth + 1) }
    }

    /// Parses `bytes` and checks every invariant the fuzz target checks.
    static func check(_ bytes: [UInt8]) -> Bool {
        let m = ParsedMessage(parsing: bytes)
        return rangesInside(m.root, bytes.count) && isBalanced(m.envelope())
            && isBalanced(m.bodyStructure(extensible: true)) && isBalanced(m.bodyStructure(extensible: false))
    }
}
