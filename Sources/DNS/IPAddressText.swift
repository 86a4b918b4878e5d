/// Textual IP addresses without the C library: parsing (as `inet_pton` does), RFC 5952
/// formatting, and reverse-lookup names (RFC 1035 §3.5, RFC 3596 §2.5).
public enum IPAddressText {
    /// `192.0.2.1`: four decimal octets, no leading zeros.
    static func parseIPv4<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard (1...3).contains(p.count), p.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            guard p.count == 1 || p.first != "0", let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    /// `2001:db8::1`, `::ffff:192.0.2.1` (RFC 4291 §2.2). No zone id.
    static func parseIPv6<S: StringProtocol>(_ text: S) -> [UInt8]? {
        guard text.count >= 2, text.count <= 45 else { return nil }
        let s = String(text)
        let halves = s.components(separatedByDoubleColon: ())
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt8] = []
            for (i, f) in fields.enumerated() {
                if allowIPv4Tail, i == fields.count - 1, f.contains(".") {
                    guard let v4 = parseIPv4(f) else { return nil }
                    out += v4
                    continue
                }
                guard (1...4).contains(f.count), let v = UInt16(f, radix: 16) else { return nil }
                out += [UInt8(v >> 8), UInt8(v & 0xFF)]
            }
            return out
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
            head.count + tail.count <= 14
        else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    public static func formatIPv4(_ b: [UInt8]) -> String { b.map(String.init).joined(separator: ".") }

    /// RFC 5952 §4: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`.
    public static func formatIPv6(_ b: [UInt8]) -> String {
        precondition(b.count == 16, "IPv6 address of \(b.count) octets")
        let g = (0..<8).map { UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]) }
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            guard g[i] == 0 else {
                i += 1
                continue
            }
            var j = i
            while j < 8, g[j] == 0 { j += 1 }
            if j - i > best.length { best = (i, j - i) }
            i = j
        }
        func hex(_ r: Range<Int>) -> String { r.map { String(g[$0], radix: 16) }.joined(separator: ":") }
        guard best.length >= 2 else { return hex(0..<8) }
        return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
    }

    /// `192.0.2.1` → `1.2.0.192.in-addr.arpa`; `2001:db8::1` → `1.0.0.…8.b.d.0.1.0.0.2.ip6.arpa`.
    static func reverseName(_ ip: String) -> String? {
        if let v4 = parseIPv4(ip) { return v4.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa" }
        let bare = ip.split(separator: "%", maxSplits: 1).first.map(String.init) ?? ip
        guard let v6 = parseIPv6(bare) else { return nil }
        let nibbles = v6.flatMap { [$0 >> 4, $0 & 0x0F] }.reversed().map { String($0, radix: 16) }
        return nibbles.joined(separator: ".") + ".ip6.arpa"
    }

    /// An IP literal, optionally with an IPv6 zone id (`fe80::1%eth0`).
    public static func isIPLiteral(_ text: String) -> Bool {
        if parseIPv4(text) != nil { return true }
        let parts = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].isEmpty || parts[1].count > 64 { return false }
        return parseIPv6(parts[0]) != nil
    }

    static func isIPv6Literal(_ text: String) -> Bool { text.contains(":") && isIPLiteral(text) }
}

extension String {
    /// Splits at every `::` (without Foundation). A third colon stays and fails group parsing.
    fileprivate func components(separatedByDoubleColon: Void) -> [String] {
        var out: [String] = []
        var current = ""
        var previousWasColon = false
        for c in self {
            if c == ":", previousWasColon {
                current.removeLast()
                out.append(current)
                current = ""
                previousWasColon = false
                continue
            }
            current.append(c)
            previousWasColon = c == ":"
        }
        out.append(current)
        return out
    }
}
