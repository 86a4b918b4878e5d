import DNS
import Foundation
import TestSupport
import Testing

@testable import LoginKit
@testable import MailroomServer
@testable import Outbound
@testable import SMTPClient

@Suite struct OutboundSettingsTests {
    @Test(arguments: [
        ("mail.example.net", "mail.example.net", 25),
        ("mail.example.net:2525", "mail.example.net", 2525),
        ("127.0.0.1:2526", "127.0.0.1", 2526),
        ("[::1]:2526", "::1", 2526),
        ("[::1]", "::1", 25),
        (" 10.0.0.1 ", "10.0.0.1", 25),
    ])
    func nextHopsParse(_ text: String, _ host: String, _ port: Int) throws {
        let hop = try #require(NextHop(parsing: text))
        #expect(hop.host == host && hop.port == port)
    }

    @Test(arguments: ["", ":25", "host:", "host:0", "host:70000", "[::1", "[::1]x", "a b:25", "host:+25x"])
    func badNextHopsAreRefused(_ text: String) {
        #expect(NextHop(parsing: text) == nil)
    }

    @Test func retriesBackOffExponentiallyWithinBounds() {
        var s = OutboundSettings(hostname: "mx.example.org")
        s.retryMin = 300
        s.retryMax = 4000
        for (attempts, base) in [(1, 300.0), (2, 600), (3, 1200), (4, 2400), (5, 4000), (30, 4000)] {
            let d = s.retryDelay(afterAttempts: attempts)
            #expect(d >= base * 0.8 && d <= base * 1.2, "attempt \(attempts): \(d)")
        }
    }

    @Test(arguments: [
        ("10.1.0.0/16", "10.1.200.3", true),
        ("10.1.0.0/16", "10.2.0.1", false),
        ("127.0.0.1/32", "127.0.0.1", true),
        ("127.0.0.1", "127.0.0.2", false),
        ("10.1.2.3/16", "10.1.9.9", true),
        ("0.0.0.0/0", "192.0.2.1", true),
        ("2001:db8::/32", "2001:db8:1::5", true),
        ("2001:db8::/32", "2001:db9::5", false),
        ("127.0.0.0/8", "::ffff:127.0.0.5", true),
        ("10.0.0.0/8", "::1", false),
        ("10.0.0.0/8", "not-an-ip", false),
    ])
    func trustedNetworksMatchAddresses(_ network: String, _ ip: String, _ expected: Bool) throws {
        #expect(try #require(IPNetwork(network)).contains(ip) == expected)
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0/8", "x/8", "::1/129", "10.0.0.0/", "10.0.0.0/+8"])
    func badNetworksAreRefused(_ text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test func theConfigNamesRoutesRelayQueueAndDNS() throws {
        let c = try ServerConfig.parse(
            """
            [smtp]
            trusted_networks = ["10.1.0.0/16", "127.0.0.1/32"]
            [routes]
            "Example.NET" = "127.0.0.1:2526"
            [queue]
            retry_min = "1m"
            retry_max = "2h"
            lifetime = "3d"
            delay_warning = "off"
            destination_concurrency = 5
            tls = "required"
            require_tls = ["bank.example"]
            [dns]
            servers = ["127.0.0.1:5353", "[::1]"]
            [relay]
            host = "smtp.provider.example"
            username = "me"
            password = "secret"
            """, file: "test.toml")
        #expect(c.trustedNetworks.map(\.description) == ["10.1.0.0/16", "127.0.0.1/32"])
        #expect(c.outbound.routes["example.net"] == NextHop(host: "127.0.0.1", port: 2526))
        #expect(c.outbound.retryMin == 60 && c.outbound.retryMax == 7200 && c.outbound.lifetime == 3 * 86400)
        #expect(c.outbound.delayWarning == nil && c.outbound.destinationConcurrency == 5)
        #expect(c.outbound.requireTLS == ["bank.example"])
        #expect(c.dnsServers?.map { "\($0.host):\($0.port)" } == ["127.0.0.1:5353", "::1:53"])
        #expect(c.outbound.relay?.hop == NextHop(host: "smtp.provider.example", port: 587))
        #expect(c.outbound.relay?.username == "me")
        #expect(c.outbound.relay?.tls == .verify, "a relay gets the password: its certificate is verified by default")
    }

    @Test func eachDestinationGetsItsTLSPolicy() throws {
        var s = try ServerConfig.parse(
            """
            [queue]
            require_tls = ["bank.example"]
            verify_tls = ["payroll.example"]
            """, file: "t.toml"
        ).outbound
        #expect(s.tls(for: "example.net").policy == .opportunistic && s.tls(for: "example.net").configuration == nil)
        #expect(s.tls(for: "bank.example").policy == .required && s.tls(for: "bank.example").configuration == nil)
        let verified = s.tls(for: "payroll.example")
        // No configuration: the connection verifies by its policy, against the system's CAs.
        #expect(verified.policy == .verify && verified.configuration == nil)
        #expect(SMTPClientHandler.verifyingConfiguration.certificateVerification == .fullVerification)
        // With a relay, everything takes the relay's policy and its CA file.
        let ca = Scratch.url("ca", extension: "pem").path
        try Self.selfSignedPEM.write(toFile: ca, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: ca) }
        s = try ServerConfig.parse("[relay]\nhost = \"smtp.provider.example\"\nca_file = \"\(ca)\"", file: "t.toml").outbound
        let relayed = s.tls(for: "bank.example")
        #expect(relayed.policy == .verify && relayed.configuration?.trustRoots == .file(ca))
        s = try ServerConfig.parse("[relay]\nhost = \"smtp.provider.example\"\ntls = \"required\"", file: "t.toml").outbound
        #expect(s.tls(for: "payroll.example").policy == .required)
    }

    /// Any certificate will do for parsing a CA file.
    static let selfSignedPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBezCCASGgAwIBAgIUIQVH60VrZHrOiX70VzAii4C3brswCgYIKoZIzj0EAwIw
        EjEQMA4GA1UEAwwHdGVzdC1jYTAgFw0yNjExMzAwMDIzMDFaGA8yMTI2MTEwNjAw
        MjMwMVowEjEQMA4GA1UEAwwHdGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
        A0IABJBZJl72S21QnVqMgf39eK8Z13JT5Er0rgt71Md+jRB02jRjXJaYbMb9g6vz
        1KIcxzt79On4DK7UXpgfpdRMrPajUzBRMB0GA1UdDgQWBBS+ez47PCHYu3ENoIxx
        CyYX9aoYaTAfBgNVHSMEGDAWgBS+ez47PCHYu3ENoIxxCyYX9aoYaTAPBgNVHRMB
        Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDfGtKHRj1yB+Msx9FLOo/jq9p6
        aRA7QLUFgGd8M1PkEwIgJt+qKaMkQA1h077p4N5MYza48DqRZUrd6f22MjpV7sQ=
        -----END CERTIFICATE-----
        """

    @Test(arguments: [
        ("[routes]\n\"example.net\" = \"127.0.0.1:x\"", "routes.example.net"),
        ("[smtp]\ntrusted_networks = [\"10.0.0.0/40\"]", "smtp.trusted_networks"),
        ("[queue]\nretry_min = \"soon\"", "queue.retry_min"),
        ("[queue]\ntls = \"maybe\"", "queue.tls"),
        ("[dns]\nservers = [\"dns.example\"]", "dns.servers"),
        ("[relay]\nusername = \"me\"", "relay.host"),
        ("[queue]\nretries = 3", "queue.retries"),
        ("[queue]\nverify_tls = \"bank.example\"", "queue.verify_tls"),
        ("[relay]\nhost = \"smtp.provider.example\"\ntls = \"verified\"", "relay.tls"),
        ("[relay]\nhost = \"smtp.provider.example\"\nca_file = \"/nonexistent/ca.pem\"", "relay.ca_file"),
    ])
    func badOutboundConfigSaysWhichKey(_ text: String, _ key: String) {
        do {
            _ = try ServerConfig.parse(text, file: "test.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func theMIMENestingLimitIsConfigurable() throws {
        #expect(try ServerConfig.parse("[imap]\nmax_mime_depth = 8", file: "t.toml").mimeMaxDepth == 8)
        #expect(try ServerConfig.parse("", file: "t.toml").mimeMaxDepth == 64)
        #expect(throws: (any Error).self) { try ServerConfig.parse("[imap]\nmax_mime_depth = 0", file: "t.toml") }
    }

    @Test func noTrustedNetworksByDefault() throws {
        #expect(try ServerConfig.parse("", file: "t.toml").trustedNetworks.isEmpty)
    }
}

@Suite struct DSNTests {
    func notice(_ original: String, action: String = "failed") -> DeliveryStatusNotice {
        DeliveryStatusNotice(
            reportingMTA: "mx.example.org", originalSender: "alice@example.org", queueID: "Q1", arrival: Date(timeIntervalSince1970: 0),
            recipients: [.init(address: "x@remote.test", action: action, status: "5.1.1", diagnostic: "550 5.1.1 no such user\r\nhere", remoteMTA: "mx.remote.test", lastAttempt: Date())],
            original: Array(original.utf8), now: Date())
    }

    @Test(arguments: [
        ("550 5.1.1 no such user", "5.1.1"),
        ("451 4.7.1 greylisted", "4.7.1"),
        ("550 no such user", "5.0.0"),
        ("421 closing", "4.0.0"),
        ("550 4.1.1 mismatched class", "5.0.0"),
        ("garbage", "4.0.0"),
        ("", "4.0.0"),
    ])
    func statusComesFromTheReply(_ reply: String, _ status: String) {
        #expect(DeliveryStatusNotice.status(of: reply) == status)
    }

    @Test func theHeaderSectionIsAttachedWithoutTheBody() {
        let n = notice("Subject: s\nFrom: a@b\n\nsecret body\n")
        let text = String(decoding: n.rendered(), as: UTF8.self)
        #expect(text.contains("Subject: s\r\nFrom: a@b\r\n"))
        #expect(!text.contains("secret body"))
        // A diagnostic with a line break stays one header line.
        #expect(text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user  here\r\n"))
        #expect(text.contains("Subject: Undelivered Mail Returned to Sender"))
    }

    @Test func aDelayNoticeSaysItWillBeRetried() {
        let text = String(decoding: notice("Subject: s\r\n\r\nx", action: "delayed").rendered(), as: UTF8.self)
        #expect(text.contains("Subject: Delayed Mail (still being retried)"))
        #expect(text.contains("Action: delayed\r\n") && text.contains("Will-Retry-Until:"))
    }

    @Test(arguments: ["", "no header end", "\n\n", "Subject: x", "\r\n\r\nbody"])
    func oddOriginalsStillMakeAWellFormedNotice(_ original: String) {
        let text = String(decoding: notice(original).rendered(), as: UTF8.self)
        #expect(text.hasSuffix("--\r\n"))
        #expect(!text.contains("\n\n"))
    }
}
