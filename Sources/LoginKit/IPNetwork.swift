#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.1.0.0/16`, `2001:db8::/32`; a bare address is
/// a /32 or /128), for trusted-network checks.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = Self.parse(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...bits).contains(p), !parts[1].hasPrefix("+") else { return nil }
            prefix = p
        } else {
            prefix = bits
        }
        // Host bits are cleared, so that 10.1.2.3/16 means 10.1.0.0/16.
        var b = address
        for i in 0..<b.count {
            let keep = max(0, min(8, prefix - i * 8))
            b[i] &= keep == 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        bytes = b
    }

    /// This host's own addresses: 127.0.0.0/8 and ::1.
    public static let loopback = [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!]

    public func contains(_ ip: String) -> Bool {
        guard var a = Self.parse(ip) else { return false }
        // IPv4-mapped IPv6 (::ffff:10.1.2.3) is the IPv4 address.
        if a.count == 16, bytes.count == 4, a[0..<10].allSatisfy({ $0 == 0 }), a[10] == 0xFF, a[11] == 0xFF { a = Array(a[12...]) }
        guard a.count == bytes.count else { return false }
        for i in 0..<a.count {
            let keep = max(0, min(8, prefix - i * 8))
            let mask: UInt8 = keep == 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            if a[i] & mask != bytes[i] { return false }
        }
        return true
    }

    public var description: String {
        var buf = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buf, socklen_t(buf.count)) }
        let text = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(text)/\(prefix)"
    }

    static func parse(_ s: String) -> [UInt8]? {
        let host = s.split(separator: "%", maxSplits: 1).first.map(String.init) ?? s
        var v4 = in_addr()
        if host.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if host.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
