import DNS
import Foundation
import TestSupport
import Testing

@Suite struct ResolvConfTests {
    static let v4 = DNSServerAddress(host: "192.0.2.53", port: 53)

    static let files: [(String, [DNSServerAddress], String)] = [
        ("", [], "empty"),
        ("nameserver 192.0.2.53\n", [v4], "one server"),
        ("# comment\n; also a comment\nnameserver 192.0.2.53 # trailing\n", [v4], "comments"),
        ("  nameserver\t192.0.2.53  \r\n", [v4], "whitespace and CRLF"),
        ("#nameserver 192.0.2.1\nnameserver 192.0.2.53", [v4], "commented-out server, no final newline"),
        (
            "search example.org\noptions ndots:2 timeout:1\nnameserver 2001:db8::53\nnameserver 192.0.2.53\n",
            [DNSServerAddress(host: "2001:db8::53"), v4], "IPv6 and other directives"
        ),
        ("nameserver fe80::1%eth0\n", [DNSServerAddress(host: "fe80::1%eth0")], "IPv6 with a zone id"),
        (
            "nameserver dns.example.org\nnameserver 300.1.1.1\nnameserver\nnameserver 192.0.2.53\n", [v4],
            "not IP literals"
        ),
        ("nameservers 192.0.2.1\nNAMESERVER 192.0.2.2\n", [], "other keywords"),
        (
            "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n",
            ["192.0.2.1", "192.0.2.2", "192.0.2.3"].map { DNSServerAddress(host: $0) }, "at most three (MAXNS)"
        ),
    ]

    @Test(arguments: files)
    func parsesNameserverLines(_ text: String, _ expected: [DNSServerAddress], _ why: String) {
        #expect(DNSServerAddress.parseResolvConf(text) == expected, "\(why)")
    }

    @Test func systemServersReadsTheFileOrFallsBackToLoopback() throws {
        #expect(
            DNSResolver.systemServers(resolvConf: "/nonexistent/resolv.conf") == [
                DNSServerAddress(host: "127.0.0.1", port: 53)
            ])
        let url = Scratch.url("resolv", extension: "conf")
        defer { try? FileManager.default.removeItem(at: url) }
        try "# nothing\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(DNSResolver.systemServers(resolvConf: url.path) == [.loopback])
        try "nameserver ::1\nnameserver 192.0.2.53\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(DNSResolver.systemServers(resolvConf: url.path) == [DNSServerAddress(host: "::1"), Self.v4])
    }

    static let configValues: [(String, DNSServerAddress?)] = [
        ("192.0.2.53", v4),
        ("192.0.2.53:5353", DNSServerAddress(host: "192.0.2.53", port: 5353)),
        ("2001:db8::53", DNSServerAddress(host: "2001:db8::53")),
        ("[2001:db8::53]:5353", DNSServerAddress(host: "2001:db8::53", port: 5353)),
        ("[::1]", DNSServerAddress(host: "::1")),
        ("fe80::1%eth0", DNSServerAddress(host: "fe80::1%eth0")),
        ("dns.example.org", nil),
        ("192.0.2.53:0", nil),
        ("192.0.2.53:70000", nil),
        ("[2001:db8::53", nil),
        ("[2001:db8::53]x", nil),
        ("", nil),
    ]

    @Test(arguments: configValues)
    func parsesConfigValues(_ text: String, _ expected: DNSServerAddress?) {
        #expect(DNSServerAddress(text) == expected)
    }
}
