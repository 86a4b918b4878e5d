/// The comparators of RFC 4790 that Sieve names (RFC 5228 §2.7.3).
public enum Comparator: String, Sendable, CaseIterable {
    case octet = "i;octet"
    /// The default: US-ASCII letters compare without case, everything else as octets.
    case asciiCasemap = "i;ascii-casemap"
    /// Strings compare by the number their leading digits spell; no digits is +infinity.
    case asciiNumeric = "i;ascii-numeric"

    /// Whether it offers substring operations (:contains, :matches); i;ascii-numeric does not.
    var hasSubstring: Bool { self != .asciiNumeric }

    func fold(_ s: String) -> [Unicode.Scalar] {
        switch self {
        case .asciiCasemap:
            // RFC 4790 §9.2: letters are mapped to upper case before comparing.
            s.unicodeScalars.map { $0.value >= 97 && $0.value <= 122 ? Unicode.Scalar($0.value - 32)! : $0 }
        default: Array(s.unicodeScalars)
        }
    }

    func equals(_ value: String, _ key: String) -> Bool {
        compare(value, key) == 0
    }

    /// Negative, zero or positive as `a` sorts before, with or after `b`.
    func compare(_ a: String, _ b: String) -> Int {
        if self == .asciiNumeric {
            return Self.numericCompare(a, b)
        }
        let x = fold(a), y = fold(b)
        for (p, q) in zip(x, y) where p != q { return p.value < q.value ? -1 : 1 }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }

    /// RFC 4790 §9.1: the value of the leading digits; a string without one is +infinity, and
    /// all such strings are equal.
    static func numericCompare(_ a: String, _ b: String) -> Int {
        func digits(_ s: String) -> Substring? {
            let d = s.prefix { $0.isASCII && $0.isNumber }
            guard !d.isEmpty else { return nil }
            let trimmed = d.drop { $0 == "0" }
            return trimmed
        }
        switch (digits(a), digits(b)) {
        case (nil, nil): return 0
        case (nil, _): return 1
        case (_, nil): return -1
        case (let x?, let y?):
            if x.count != y.count { return x.count < y.count ? -1 : 1 }
            return x == y ? 0 : (x < y ? -1 : 1)
        }
    }

    /// Substring search in linear time (Knuth–Morris–Pratt over folded scalars).
    func contains(_ value: String, _ key: String) -> Bool {
        let text = fold(value), pattern = fold(key)
        if pattern.isEmpty { return true }
        var failure = [Int](repeating: 0, count: pattern.count)
        var k = 0
        for i in 1..<max(pattern.count, 1) {
            while k > 0 && pattern[i] != pattern[k] { k = failure[k - 1] }
            if pattern[i] == pattern[k] { k += 1 }
            failure[i] = k
        }
        k = 0
        for c in text {
            while k > 0 && c != pattern[k] { k = failure[k - 1] }
            if c == pattern[k] { k += 1 }
            if k == pattern.count { return true }
        }
        return false
    }

    /// `:matches` (RFC 5228 §2.7.1): `*` is any run, `?` one character, `\` quotes the next
    /// character. Returns the match variables on success: `${0}` the whole value, then each
    /// wildcard's text in order; each `*` takes as little as it can, left to right
    /// (RFC 5229 §3.2). `work` is charged one per character compared; at zero the match fails
    /// and the caller reports the limit.
    func matches(_ value: String, _ pattern: String, work: inout Int) -> [String]? {
        enum Token { case literal(Unicode.Scalar), one, any }
        var tokens: [Token] = []
        var escaped = false
        for c in fold(pattern) {
            if escaped {
                tokens.append(.literal(c))
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "*" {
                // "**" matches what "*" does; keep both so that both get a capture.
                tokens.append(.any)
            } else if c == "?" {
                tokens.append(.one)
            } else {
                tokens.append(.literal(c))
            }
        }
        let original = Array(value.unicodeScalars)
        let text = fold(value)
        let n = text.count, m = tokens.count
        var captures = [Range<Int>?](repeating: nil, count: m)
        var p = 0, v = 0
        var star = -1, starStart = 0, starEnd = 0
        while v < n {
            guard work > 0 else { return nil }
            work -= 1
            if p < m, case .any = tokens[p] {
                star = p
                starStart = v
                starEnd = v
                captures[p] = v..<v
                p += 1
                continue
            }
            if p < m {
                switch tokens[p] {
                case .one:
                    captures[p] = v..<(v + 1)
                    p += 1
                    v += 1
                    continue
                case .literal(let c) where c == text[v]:
                    p += 1
                    v += 1
                    continue
                default: break
                }
            }
            guard star >= 0 else { return nil }
            starEnd += 1
            captures[star] = starStart..<starEnd
            p = star + 1
            v = starEnd
        }
        while p < m, case .any = tokens[p] {
            captures[p] = n..<n
            p += 1
        }
        guard p == m else { return nil }
        var out = [value]
        for (i, t) in tokens.enumerated() {
            switch t {
            case .any, .one:
                let r = captures[i] ?? n..<n
                var s = ""
                s.unicodeScalars.append(contentsOf: original[r])
                out.append(s)
            case .literal: break
            }
        }
        return out
    }
}
