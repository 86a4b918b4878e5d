import Foundation

/// The variables of one script run (RFC 5229): named variables, the match variables `${0}`…
/// `${9}` of the last successful :matches, and `${name}` expansion in strings.
struct Variables {
    var values: [String: String] = [:]
    var matches: [String] = []
    let limits: SieveLimits

    init(limits: SieveLimits) {
        self.limits = limits
    }

    /// identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_"); with `settable` false also a
    /// num-variable (1*DIGIT) or a namespaced name with dots (RFC 5229 §3).
    static func isValidName(_ s: String, settable: Bool) -> Bool {
        let u = Array(s.utf8)
        guard !u.isEmpty else { return false }
        func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 || b == UInt8(ascii: "_") }
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        if !settable && u.allSatisfy(isDigit) { return true }
        let parts = u.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if settable && parts.count != 1 { return false }
        return parts.allSatisfy { p in
            guard let f = p.first, isAlpha(f) else { return false }
            return p.allSatisfy { isAlpha($0) || isDigit($0) }
        }
    }

    mutating func set(_ name: String, _ value: String) throws(SieveError) {
        if values[name] == nil && values.count >= limits.maxVariables {
            throw SieveError(.limit, SieveLocation(line: 0, column: 0), "more than \(limits.maxVariables) variables")
        }
        values[name] = Self.truncate(value, limits.maxVariableLength)
    }

    /// At most `octets` octets of UTF-8, cut at a character boundary (RFC 5229 §6).
    static func truncate(_ s: String, _ octets: Int) -> String {
        guard s.utf8.count > octets else { return s }
        var out = ""
        var n = 0
        for c in s.unicodeScalars {
            n += String(c).utf8.count
            if n > octets { break }
            out.unicodeScalars.append(c)
        }
        return out
    }

    /// The value of `name` (lower case already), "" when unset.
    func value(_ name: String) -> String {
        if let n = Int(name), name.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            return n < matches.count ? matches[n] : ""
        }
        return values[name] ?? ""
    }

    // variable-ref = "${" [namespace] variable-name "}"   ; RFC 5229 §3
    /// `s` with each `${name}` replaced by `lookup(name)` (name in lower case); a malformed
    /// reference stays as written. The result is cut at `limit` octets.
    static func expand(_ s: String, limit: Int, lookup: (String) -> String) -> String {
        guard s.contains("${") else { return s }
        var out = ""
        var rest = Substring(s)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            if let close = after.firstIndex(of: "}"), isValidName(String(after[..<close]), settable: false) {
                out += lookup(after[..<close].lowercased())
                rest = after[after.index(after: close)...]
            } else {
                out += "${"
                rest = after
            }
            if out.utf8.count > limit { return truncate(out, limit) }
        }
        return truncate(out + rest, limit)
    }

    /// RFC 5229 §4.1 modifiers, highest precedence first (the validator sorted them).
    static func apply(_ modifiers: [SetModifier], _ value: String) -> String {
        var v = value
        for m in modifiers {
            switch m {
            case .lower: v = asciiLower(v)
            case .upper: v = asciiUpper(v)
            case .lowerfirst: if let f = v.first { v = asciiLower(String(f)) + v.dropFirst() }
            case .upperfirst: if let f = v.first { v = asciiUpper(String(f)) + v.dropFirst() }
            case .quotewildcard:
                var q = ""
                for c in v {
                    if c == "*" || c == "?" || c == "\\" { q += "\\" }
                    q.append(c)
                }
                v = q
            case .length: v = String(v.count)
            }
        }
        return v
    }

    static func asciiLower(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.map { $0.value >= 65 && $0.value <= 90 ? Unicode.Scalar($0.value + 32)! : $0 }))
    }

    static func asciiUpper(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.map { $0.value >= 97 && $0.value <= 122 ? Unicode.Scalar($0.value - 32)! : $0 }))
    }
}
