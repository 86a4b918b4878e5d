/// The zones NSD serves in the resolver tests (file name = zone name + ".zone").
public enum DNSPeerZones {
    public static let tlsaData = (0..<32).map { UInt8($0 * 7 & 0xFF) }
    public static let bigCount = 120
    public static let longTXT =
        String(repeating: "a", count: 255) + String(repeating: "b", count: 255)
        + String(repeating: "c", count: 100)

    public static let soa = "@ IN SOA ns1.mailroom.example. hostmaster.mailroom.example. ( 1 3600 600 86400 60 )"

    public static var zones: [(String, String)] {
        [
            ("mailroom.example.zone", mailroom),
            ("2.0.192.in-addr.arpa.zone", reverse4),
            ("8.b.d.0.1.0.0.2.ip6.arpa.zone", reverse6),
        ]
    }

    public static var mailroom: String {
        let tlsaHex = tlsaData.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let big = (1...bigCount).map { "big IN A 198.51.100.\($0)" }.joined(separator: "\n")
        return """
            $ORIGIN mailroom.example.
            $TTL 300
            \(soa)
            @ IN NS ns1
            ns1 IN A 127.0.0.1
            @ IN MX 20 mx2
            @ IN MX 10 mx1a
            @ IN MX 10 mx1b
            @ IN MX 30 mx3
            @ IN A 192.0.2.10
            host IN A 192.0.2.1
            host IN AAAA 2001:db8::1
            v6only IN AAAA 2001:db8::6
            nomx IN A 192.0.2.3
            cached IN A 192.0.2.4
            nullmx IN MX 0 .
            mx1a IN A 127.0.0.11
            mx1b IN A 127.0.0.12
            mx2 IN A 127.0.0.20
            mx3 IN A 127.0.0.30
            mx3 IN AAAA ::1
            alias1 IN CNAME alias2
            alias2 IN CNAME host
            dangling IN CNAME missing
            spf IN TXT "v=spf1 " "ip4:192.0.2.0/24 " "-all"
            long IN TXT "\(longTXT.prefix(255))" "\(longTXT.dropFirst(255).prefix(255))" "\(longTXT.suffix(100))"
            multi IN TXT "one"
            multi IN TXT "two"
            _25._tcp.host IN TLSA 3 1 1 \(tlsaHex)
            \(big)

            """
    }

    public static let reverse4 = """
        $ORIGIN 2.0.192.in-addr.arpa.
        $TTL 300
        \(soa)
        @ IN NS ns1.mailroom.example.
        1 IN PTR host.mailroom.example.

        """

    /// 2001:db8::1
    public static let reverse6 = """
        $ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
        $TTL 300
        \(soa)
        @ IN NS ns1.mailroom.example.
        1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR host.mailroom.example.

        """
}
