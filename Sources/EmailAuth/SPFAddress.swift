/// An IPv4 or IPv6 address as SPF compares them: the client's address, an `ip4:`/`ip6:` network,
/// an A or AAAA record (RFC 7208 §5.6).
///
/// `SPFAddress("192.0.2.3")`, `SPFAddress("2001:db8::cb01")`. An IPv4-mapped IPv6 client address
/// (`::ffff:192.0.2.3`) is an IPv4 client for SPF (§5); ``ipv4Unmapped`` gives that form.
public struct SPFAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let bytes: [UInt8]

    public var isIPv6: Bool { bytes.count == 16 }

    /// Parses dotted-quad IPv4 (no leading zeros) or RFC 4291 §2.2 IPv6 text (with `::` and an
    /// optional dotted-quad tail); nil for anything else.
    public init?(_ text: String) {
        if let v4 = Self.parseIPv4(Substring(text)) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16, "an IP address has 4 or 16 bytes")
        self.bytes = bytes
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else `self`.
    public var ipv4Unmapped: SPFAddress {
        guard isIPv6, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return self }
        return SPFAddress(bytes: Array(bytes[12...]))
    }

    /// True if the first `prefix` bits of `self` and `network` agree; addresses of different
    /// families never match. `prefix` is clamped to the address length.
    public func matches(_ network: SPFAddress, prefix: Int) -> Bool {
        guard bytes.count == network.bytes.count else { return false }
        var bits = min(max(prefix, 0), bytes.count * 8)
        var i = 0
        while bits >= 8 {
            if bytes[i] != network.bytes[i] { return false }
            bits -= 8
            i += 1
        }
        guard bits > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - bits)
        return bytes[i] & mask == network.bytes[i] & mask
    }

    /// Dotted quad, or RFC 5952 text (lower case, longest run of two or more zero groups as `::`).
    public var description: String {
        guard isIPv6 else { return bytes.map(String.init).joined(separator: ".") }
        let groups = (0..<8).map { Int(bytes[2 * $0]) << 8 | Int(bytes[2 * $0 + 1]) }
        var best = (start: -1, length: 0)
        var run = (start: -1, length: 0)
        for (i, g) in groups.enumerated() {
            if g == 0 {
                run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard best.length >= 2 else { return hex(0..<8) }
        return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
    }

    /// The 32 nibbles of an IPv6 address, or the four numbers of an IPv4 address, dot-separated
    /// (the `i` macro, RFC 7208 §7.3).
    var macroForm: String {
        guard isIPv6 else { return description }
        return bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 0xF, radix: 16)] }.joined(separator: ".")
    }

    // dotted-quad = dec-octet "." dec-octet "." dec-octet "." dec-octet   (RFC 7208 §5.6; RFC 3986 §3.2.2)
    // Octet by octet: it runs for every client address an SPF check compares, and splitting
    // into Characters with Unicode number checks was half a percent of a delivery's CPU.
    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        var value = 0
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, out.count < 3 else { return nil }
                out.append(UInt8(value))
                value = 0
                digits = 0
            } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                // dec-octet has no leading zero: "0" is one, "01" is not.
                guard digits < 3, digits == 0 || value != 0 else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                guard value <= 255 else { return nil }
                digits += 1
            } else {
                return nil
            }
        }
        guard digits > 0, out.count == 3 else { return nil }
        out.append(UInt8(value))
        return out
    }

    // IPv6address (RFC 4291 §2.2): up to 8 groups of 1-4 hex digits, one "::", an optional
    // dotted-quad in place of the last two groups.
    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        var halves = [Substring(text)]
        if let gap = text.firstRange(of: "::") {
            halves = [text[..<gap.lowerBound], text[gap.upperBound...]]
            guard halves[1].firstRange(of: "::") == nil else { return nil }
        }
        func groups(_ part: Substring, last: Bool) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var out: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if last && i == pieces.count - 1 && piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    out += [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                        let g = UInt16(piece, radix: 16)
                    else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], last: false), let tail = groups(halves[1], last: true),
                head.count + tail.count <= 7
            else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let g = groups(halves[0], last: true), g.count == 8 else { return nil }
            all = g
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
