import Foundation

/// A recursive name server to ask: an IP literal (IPv4, or IPv6 with an optional zone id such as
/// `fe80::1%eth0`) and a port.
public struct DNSServerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 53) {
        self.host = host
        self.port = port
    }

    /// From configuration text (`dns.servers`): `192.0.2.53`, `192.0.2.53:5353`, `2001:db8::53`,
    /// `[2001:db8::53]:5353`, `fe80::1%eth0`. Nil unless the host is an IP literal and the port
    /// is 1…65535.
    public init?(_ text: String) {
        var host = text
        var port = 53
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { return nil }
                port = p
            }
        } else if text.filter({ $0 == ":" }).count == 1 {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let p = Int(parts[1]) else { return nil }
            host = String(parts[0])
            port = p
        }
        guard (1...65_535).contains(port), IPAddressText.isIPLiteral(host) else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension DNSServerAddress {
    /// Used when resolv.conf names no server, as the C library does.
    public static let loopback = DNSServerAddress(host: "127.0.0.1", port: 53)

    /// The `nameserver` lines of resolv.conf(5), in order, at most
    /// ``DNSLimits/maxResolvConfServers``. Comments start with `#` or `;`; lines whose address
    /// is not an IP literal are skipped.
    public static func parseResolvConf(_ text: String) -> [DNSServerAddress] {
        var servers: [DNSServerAddress] = []
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let content = line.prefix { $0 != "#" && $0 != ";" }
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { continue }
            let host = String(words[1])
            guard IPAddressText.isIPLiteral(host) else { continue }
            servers.append(DNSServerAddress(host: host, port: 53))
            if servers.count == DNSLimits.maxResolvConfServers { break }
        }
        return servers
    }
}
