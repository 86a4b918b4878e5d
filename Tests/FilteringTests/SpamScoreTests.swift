import EmailAuth
import Filtering
import TestSupport
import Testing

@Suite("Built-in spam score")
struct SpamScoreTests {
    static func facts(
        ip: String = "192.0.2.1", helo: String = "mail.partner.test", reverse: ReverseDNS.Result = .confirmed("mail.partner.test"),
        spf: SPFResult? = .pass, dkim: [DKIMResult] = [.pass], aligned: Bool = true, dmarc: DMARCResult? = .pass,
        date: Bool = true, messageID: Bool = true
    ) -> SpamFacts {
        SpamFacts(
            clientIP: ip, helo: helo, hostname: "mx.example.org", reverseDNS: reverse, spf: spf, dkim: dkim, alignedDKIMPass: aligned,
            dmarc: dmarc, hasDate: date, hasMessageID: messageID)
    }

    @Test func cleanMailScoresBelowZero() {
        let s = SpamScore.score(Self.facts())
        #expect(s.total == -1.5)
        #expect(s.description == "-1.5 (SPF_PASS -0.5, DKIM_ALIGNED -1)")
    }

    @Test(arguments: [
        (facts(reverse: .none), "RDNS_NONE", 1.5),
        (facts(reverse: .unconfirmed(["x.test"])), "RDNS_UNCONFIRMED", 1.0),
        (facts(helo: "mx.example.org"), "HELO_IS_US", 3.0),
        (facts(helo: "192.0.2.1"), "HELO_BARE_IP", 1.5),
        (facts(helo: "[192.0.2.9]"), "HELO_LITERAL_MISMATCH", 1.0),
        (facts(helo: "localhost"), "HELO_NOT_FQDN", 1.0),
        (facts(spf: .fail), "SPF_FAIL", 3.0),
        (facts(spf: .softfail), "SPF_SOFTFAIL", 1.5),
        (facts(spf: .permerror), "SPF_PERMERROR", 0.5),
        (facts(dkim: [.fail], aligned: false), "DKIM_FAIL", 1.5),
        (facts(dmarc: .fail), "DMARC_FAIL", 2.0),
        (facts(date: false), "NO_DATE", 0.5),
        (facts(messageID: false), "NO_MESSAGE_ID", 0.5),
    ])
    func eachRuleScores(_ facts: SpamFacts, _ rule: String, _ points: Double) {
        let hit = SpamScore.score(facts).hits.first { $0.rule == rule }
        #expect(hit?.points == points)
    }

    @Test func aLiteralOfTheClientsOwnAddressIsFine() {
        #expect(!SpamScore.score(Self.facts(helo: "[192.0.2.1]")).hits.contains { $0.rule.hasPrefix("HELO") })
    }

    @Test func gtube() {
        let message = Array("Subject: test\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n".utf8)
        #expect(GTUBE.contains(message))
        #expect(!GTUBE.contains(Array("Subject: test\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE".utf8)))
        #expect(!GTUBE.contains([]))
        // At the very start and the very end, and nothing but the pattern.
        #expect(GTUBE.contains(GTUBE.pattern))
        #expect(GTUBE.contains(GTUBE.pattern + Array(" trailing".utf8)))
        #expect(GTUBE.contains(Array("leading ".utf8) + GTUBE.pattern))
        #expect(!GTUBE.contains(Array(GTUBE.pattern.dropLast())))
        // Starts of the pattern that go nowhere, before it and instead of it.
        let falseStarts = Array(String(repeating: "XJS*C4JDBQ XX ", count: 50).utf8)
        #expect(GTUBE.contains(falseStarts + GTUBE.pattern + falseStarts))
        #expect(!GTUBE.contains(falseStarts + GTUBE.pattern.dropLast() + Array(" ".utf8) + falseStarts))
    }
}

@Suite("DNS blocklists and reverse DNS")
struct BlocklistTests {
    static let dns = FakeAuthDNS([
        "1.2.0.192.bl.test": [.a("127.0.0.2")],
        "2.2.0.192.bl.test": [.a("127.0.0.2"), .txt("listed for spamming, see https://bl.test/192.0.2.2")],
        "3.2.0.192.bl.test": [.a("127.255.255.254")],  // "query refused" codes are no listing
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test": [.a("127.0.0.4")],
        "4.2.0.192.flaky.test": [.timeout],
        "4.2.0.192.bl2.test": [.a("127.0.0.3")],
        "1.2.0.192.in-addr.arpa": [.ptr("mail.partner.test")],
        "mail.partner.test": [.a("192.0.2.1")],
        "5.2.0.192.in-addr.arpa": [.ptr("forged.test")],
        "forged.test": [.a("198.51.100.1")],
    ])

    @Test func listedClients() async {
        let listed = await Blocklists.check("192.0.2.1", zones: ["bl.test"], dns: Self.dns)
        #expect(listed?.zone == "bl.test")
        #expect(listed != nil && listed?.reason == nil)
        #expect(await Blocklists.check("192.0.2.2", zones: ["bl.test"], dns: Self.dns)?.reason == "listed for spamming, see https://bl.test/192.0.2.2")
        #expect(await Blocklists.check("::ffff:192.0.2.1", zones: ["bl.test"], dns: Self.dns)?.zone == "bl.test")
        #expect(await Blocklists.check("2001:db8::1", zones: ["bl.test"], dns: Self.dns)?.zone == "bl.test")
        // A list that fails is skipped; the next one still counts.
        #expect(await Blocklists.check("192.0.2.4", zones: ["flaky.test", "bl2.test"], dns: Self.dns)?.zone == "bl2.test")
    }

    @Test func clientsNotListed() async {
        #expect(await Blocklists.check("192.0.2.3", zones: ["bl.test"], dns: Self.dns) == nil)
        #expect(await Blocklists.check("192.0.2.9", zones: ["bl.test"], dns: Self.dns) == nil)
        #expect(await Blocklists.check("192.0.2.1", zones: [], dns: Self.dns) == nil)
        #expect(await Blocklists.check("not an address", zones: ["bl.test"], dns: Self.dns) == nil)
    }

    @Test func forwardConfirmedReverseDNS() async {
        #expect(await ReverseDNS.check("192.0.2.1", dns: Self.dns) == .confirmed("mail.partner.test"))
        #expect(await ReverseDNS.check("192.0.2.5", dns: Self.dns) == .unconfirmed(["forged.test"]))
        #expect(await ReverseDNS.check("192.0.2.6", dns: Self.dns) == ReverseDNS.Result.none)
    }
}

@Suite("rspamd and clamd clients")
struct ScannerClientTests {
    @Test func rspamdAnswers() throws {
        let body = Array("""
            {"is_skipped":false,"score":7.5,"required_score":15,"action":"add header",
             "symbols":{"BAYES_SPAM":{"name":"BAYES_SPAM","score":5.1},"R_SPF_ALLOW":{"name":"R_SPF_ALLOW","score":-0.2},"ZERO":{"name":"ZERO","score":0}}}
            """.utf8)
        let v = try Rspamd.parseForTests(body)
        #expect(v.action == .addHeader)
        #expect(v.score == 7.5)
        #expect(v.symbols == ["BAYES_SPAM(5.1)", "R_SPF_ALLOW(-0.2)"])
        #expect(throws: (any Error).self) { try Rspamd.parseForTests(Array(#"{"action":"explode","score":1}"#.utf8)) }
        #expect(throws: (any Error).self) { try Rspamd.parseForTests(Array("not json".utf8)) }
        #expect(Rspamd(url: "http://127.0.0.1:11333")?.port == 11333)
        #expect(Rspamd(url: "https://rspamd.test") == nil)
    }

    @Test func clamdAddresses() {
        #expect(Clamd.Address("unix:/run/clamav/clamd.ctl") == .unix("/run/clamav/clamd.ctl"))
        #expect(Clamd.Address("/run/clamav/clamd.ctl") == .unix("/run/clamav/clamd.ctl"))
        #expect(Clamd.Address("127.0.0.1:3310") == .tcp(host: "127.0.0.1", port: 3310))
        #expect(Clamd.Address("[::1]:3310") == .tcp(host: "::1", port: 3310))
        #expect(Clamd.Address("clamd") == nil)
        #expect(Clamd.Address(":3310") == nil)
    }

    @Test func anUnreachableClamdIsAnError() async {
        let clamd = Clamd(address: .unix("/nonexistent/clamd.ctl"), timeout: .seconds(2))
        await #expect(throws: Clamd.Failure.self) { try await clamd.scan(Array("x".utf8)) }
    }
}
