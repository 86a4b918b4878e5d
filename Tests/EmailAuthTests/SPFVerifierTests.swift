import EmailAuth
import Foundation
import TestSupport
import Testing

@Suite("SPF evaluation")
struct SPFVerifierTests {
    typealias R = FakeAuthDNS.Record

    static let tenNames = (1...10).map { "a:h\($0).limits.example" }.joined(separator: " ")

    static let zone: [String: [R]] = {
        var zone: [String: [R]] = [
            "ip4.example": [.txt("v=spf1 ip4:192.0.2.0/24 -all")],
            "ip6.example": [.txt("v=spf1 ip6:2001:db8::/32 -all")],
            "a.example": [.txt("v=spf1 a -all"), .a("192.0.2.10"), .aaaa("2001:db8::10")],
            "acidr.example": [.txt("v=spf1 a:host.acidr.example/24//64 -all")],
            "host.acidr.example": [.a("198.51.100.7"), .aaaa("2001:db8:1::7")],
            "mx.example": [.txt("v=spf1 mx -all"), .mx("mail1.mx.example"), .mx("mail2.mx.example")],
            "mail1.mx.example": [.a("203.0.113.1")],
            "mail2.mx.example": [.a("203.0.113.2"), .aaaa("2001:db8:2::2")],
            "mxcidr.example": [.txt("v=spf1 mx:mx.example/30 -all")],
            "mx11.example": [.txt("v=spf1 mx -all")] + (1...11).map { .mx("m\($0).mx.example") },
            "ptr.example": [.txt("v=spf1 ptr -all")],
            "host.ptr.example": [.a("198.51.100.5")],
            "liar.ptr.example": [.a("198.51.100.99")],
            "5.100.51.198.in-addr.arpa": [.ptr("host.ptr.example")],
            "6.100.51.198.in-addr.arpa": [.ptr("liar.ptr.example")],
            "exists.example": [.txt("v=spf1 exists:%{ir}.list.%{d} -all")],
            "3.2.0.192.list.exists.example": [.a("127.0.0.2")],
            "softfail.example": [.txt("v=spf1 ~all")],
            "neutral.example": [.txt("v=spf1 ?all")],
            "default.example": [.txt("v=spf1 ip4:10.0.0.1")],
            "none.example": [.txt("google-site-verification=abc"), .a("192.0.2.1")],
            "two.example": [.txt("v=spf1 -all"), .txt("v=spf1 +all")],
            "syntax.example": [.txt("v=spf1 ip4:300.1.1.1 -all")],
            "temp.example": [.timeout],
            "include.example": [.txt("v=spf1 include:ip4.example -all")],
            "incsoft.example": [
                .txt("v=spf1 include:softfail.example include:neutral.example -include:ip6.example ?all")
            ],
            "incnone.example": [.txt("v=spf1 include:nxdomain.example -all")],
            "inctemp.example": [.txt("v=spf1 include:temp.example -all")],
            "incperm.example": [.txt("v=spf1 include:syntax.example -all")],
            "redirect.example": [.txt("v=spf1 redirect=ip4.example")],
            "redirnone.example": [.txt("v=spf1 redirect=nxdomain.example")],
            "redirall.example": [.txt("v=spf1 ?all redirect=ip4.example")],
            "recursive.example": [.txt("v=spf1 include:recursive.example -all")],
            "exp.example": [.txt("v=spf1 -all exp=explain.%{d}")],
            "explain.exp.example": [.txt("%{i} is not one of %{d}'s designated mail servers (%{l}, %{c})")],
            "expmissing.example": [.txt("v=spf1 -all exp=missing.example")],
            "exptwo.example": [.txt("v=spf1 -all exp=two.exp.example")],
            "two.exp.example": [.txt("one"), .txt("two")],
            "expredirect.example": [.txt("v=spf1 exp=explain.exp.example redirect=exp.example")],
            "limit10.example": [.txt("v=spf1 \(tenNames) -all")],
            "limit11.example": [.txt("v=spf1 \(tenNames) a:h11.limits.example -all")],
            "limit-redirect.example": [.txt("v=spf1 \(tenNames) redirect=ip4.example")],
            "void2.example": [.txt("v=spf1 a:nx1.example mx:none.example ip4:192.0.2.0/24 -all")],
            "void3.example": [.txt("v=spf1 a:nx1.example mx:none.example exists:nx3.example ip4:192.0.2.0/24 -all")],
            "pmacro.example": [.txt("v=spf1 exists:%{p}.allowed.pmacro.example -all")],
            "host.ptr.example.allowed.pmacro.example": [.a("127.0.0.2")],
            "localpart.example": [.txt("v=spf1 exists:%{l}.users.localpart.example -all")],
            "postmaster.users.localpart.example": [.a("127.0.0.2")],
            "mail.helo.example": [.txt("v=spf1 a -all"), .a("192.0.2.20")],
        ]
        for i in 1...11 { zone["h\(i).limits.example"] = [.a("203.0.113.\(100 + i)")] }
        return zone
    }()

    static let verifier = SPFVerifier(
        dns: FakeAuthDNS(zone), receiver: "mx.receiver.example", clock: { Date(timeIntervalSince1970: 1_700_000_000) })

    struct Case: Sendable, CustomTestStringConvertible {
        var domain: String
        var ip: String
        var result: SPFResult
        /// The directive that decided, as written; nil when none did.
        var mechanism: String?
        var lookups: Int

        init(_ domain: String, _ ip: String, _ result: SPFResult, _ mechanism: String? = nil, lookups: Int = 0) {
            (self.domain, self.ip, self.result, self.mechanism, self.lookups) = (domain, ip, result, mechanism, lookups)
        }

        var testDescription: String { "\(ip) for \(domain) → \(result)" }
    }

    static let cases: [Case] = [
        // ip4, ip6, and IPv4-mapped clients (§5, §5.6)
        Case("ip4.example", "192.0.2.5", .pass, "ip4:192.0.2.0/24"),
        Case("ip4.example", "192.0.3.5", .fail, "-all"),
        Case("ip4.example", "::ffff:192.0.2.5", .pass, "ip4:192.0.2.0/24"),
        Case("ip4.example", "2001:db8::5", .fail, "-all"),
        Case("ip6.example", "2001:db8:ffff::1", .pass, "ip6:2001:db8::/32"),
        Case("ip6.example", "2001:db9::1", .fail, "-all"),
        Case("ip6.example", "192.0.2.5", .fail, "-all"),
        // a, with dual CIDR (§5.3)
        Case("a.example", "192.0.2.10", .pass, "a", lookups: 1),
        Case("a.example", "2001:db8::10", .pass, "a", lookups: 1),
        Case("a.example", "192.0.2.11", .fail, "-all", lookups: 1),
        Case("acidr.example", "198.51.100.200", .pass, "a:host.acidr.example/24//64", lookups: 1),
        Case("acidr.example", "2001:db8:1::ffff", .pass, "a:host.acidr.example/24//64", lookups: 1),
        Case("acidr.example", "2001:db8:2::7", .fail, "-all", lookups: 1),
        // mx (§5.4)
        Case("mx.example", "203.0.113.2", .pass, "mx", lookups: 1),
        Case("mx.example", "2001:db8:2::2", .pass, "mx", lookups: 1),
        Case("mx.example", "203.0.113.3", .fail, "-all", lookups: 1),
        Case("mxcidr.example", "203.0.113.3", .pass, "mx:mx.example/30", lookups: 1),
        Case("mx11.example", "203.0.113.1", .permerror, lookups: 1),
        // ptr, validated (§5.5)
        Case("ptr.example", "198.51.100.5", .pass, "ptr", lookups: 1),
        Case("ptr.example", "198.51.100.6", .fail, "-all", lookups: 1),
        Case("ptr.example", "198.51.100.7", .fail, "-all", lookups: 1),
        // exists with a macro (§5.7)
        Case("exists.example", "192.0.2.3", .pass, "exists:%{ir}.list.%{d}", lookups: 1),
        Case("exists.example", "192.0.2.4", .fail, "-all", lookups: 1),
        // results and record selection (§2.6, §4.5)
        Case("softfail.example", "192.0.2.1", .softfail, "~all"),
        Case("neutral.example", "192.0.2.1", .neutral, "?all"),
        Case("default.example", "192.0.2.1", .neutral),
        Case("none.example", "192.0.2.1", .none),
        Case("nxdomain.example", "192.0.2.1", .none),
        Case("localhost", "192.0.2.1", .none),
        Case("two.example", "192.0.2.1", .permerror),
        Case("syntax.example", "192.0.2.1", .permerror),
        Case("temp.example", "192.0.2.1", .temperror),
        // include (§5.2's table)
        Case("include.example", "192.0.2.5", .pass, "include:ip4.example", lookups: 1),
        Case("include.example", "10.1.1.1", .fail, "-all", lookups: 1),
        Case("incsoft.example", "10.1.1.1", .neutral, "?all", lookups: 3),
        Case("incnone.example", "10.1.1.1", .permerror, lookups: 1),
        Case("inctemp.example", "10.1.1.1", .temperror, lookups: 1),
        Case("incperm.example", "10.1.1.1", .permerror, lookups: 1),
        Case("recursive.example", "10.1.1.1", .permerror, lookups: 11),
        // redirect (§6.1)
        Case("redirect.example", "192.0.2.5", .pass, "ip4:192.0.2.0/24", lookups: 1),
        Case("redirect.example", "10.1.1.1", .fail, "-all", lookups: 1),
        Case("redirnone.example", "10.1.1.1", .permerror, lookups: 1),
        Case("redirall.example", "192.0.2.5", .neutral, "?all"),
        // limits (§4.6.4)
        Case("limit10.example", "203.0.113.110", .pass, "a:h10.limits.example", lookups: 10),
        Case("limit10.example", "10.1.1.1", .fail, "-all", lookups: 10),
        Case("limit11.example", "203.0.113.101", .pass, "a:h1.limits.example", lookups: 1),  // stops before the 11th
        Case("limit11.example", "10.1.1.1", .permerror, lookups: 11),
        Case("limit-redirect.example", "192.0.2.5", .permerror, lookups: 11),
        Case("void2.example", "192.0.2.5", .pass, "ip4:192.0.2.0/24", lookups: 2),
        Case("void3.example", "192.0.2.5", .permerror, lookups: 3),
        // %{p} is looked up, validated and counted (§7.3)
        Case("pmacro.example", "198.51.100.5", .pass, "exists:%{p}.allowed.pmacro.example", lookups: 2),
        Case("pmacro.example", "198.51.100.6", .fail, "-all", lookups: 2),
    ]

    @Test(arguments: cases)
    func evaluate(_ c: Case) async throws {
        let ip = try #require(SPFAddress(c.ip))
        let outcome = await Self.verifier.verify(ip: ip, mailFrom: "ann@\(c.domain)", helo: "mail.helo.example")
        #expect(outcome.result == c.result, "\(outcome.reason)")
        #expect(outcome.mechanism == c.mechanism, "\(outcome.reason)")
        #expect(outcome.lookups == c.lookups, "\(outcome.reason)")
        #expect(outcome.domain == c.domain)
        if c.result != .fail { #expect(outcome.explanation == nil) }
    }

    @Test func reasonsTellTheStory() async {
        func reason(_ domain: String, _ ip: String) async -> String {
            await Self.verifier.verify(ip: SPFAddress(ip)!, mailFrom: "ann@\(domain)", helo: "h.example").reason
        }
        #expect(await reason("ip4.example", "192.0.2.5") == "matched ip4:192.0.2.0/24 in ip4.example's record")
        #expect(
            await reason("include.example", "192.0.2.5")
                == "matched include:ip4.example in include.example's record (matched ip4:192.0.2.0/24 in ip4.example's record)"
        )
        #expect(
            await reason("redirect.example", "192.0.2.5")
                == "matched ip4:192.0.2.0/24 in ip4.example's record, through redirect=ip4.example in redirect.example's record"
        )
        #expect(
            await reason("default.example", "192.0.2.5")
                == "no mechanism matched in default.example's record; the default is neutral")
        #expect(
            await reason("limit11.example", "10.0.0.1").contains(
                "a:h11.limits.example in limit11.example's record is DNS-querying term number 11"))
        #expect(await reason("void3.example", "10.0.0.1").contains("exists:nx3.example"))
        #expect(await reason("two.example", "10.0.0.1").contains("publishes 2 SPF records"))
        #expect(await reason("syntax.example", "10.0.0.1").contains("\"ip4:300.1.1.1\" does not hold a valid address"))
        #expect(await reason("temp.example", "10.0.0.1").contains("temp.example: timeout"))
        let outcome = await Self.verifier.verify(
            ip: SPFAddress("192.0.2.5")!, mailFrom: "ann@include.example", helo: "h.example")
        #expect(outcome.description == "pass (include.example: \(outcome.reason))")
        #expect(outcome.mechanismDomain == "include.example")
    }

    /// §6.2: exp= is fetched and expanded for fail only; any failure means no explanation.
    @Test(
        arguments: [
            (
                "exp.example", "192.0.2.3",
                "192.0.2.3 is not one of exp.example's designated mail servers (ann, 192.0.2.3)"
            ),
            (
                "exp.example", "2001:db8::1",
                "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1 is not one of exp.example's designated mail servers (ann, 2001:db8::1)"
            ),
            (
                "expredirect.example", "192.0.2.3",
                "192.0.2.3 is not one of exp.example's designated mail servers (ann, 192.0.2.3)"
            ),
            ("expmissing.example", "192.0.2.3", nil),
            ("exptwo.example", "192.0.2.3", nil),
            ("ip4.example", "10.0.0.1", nil),
        ] as [(String, String, String?)])
    func explanation(domain: String, ip: String, text: String?) async {
        let outcome = await Self.verifier.verify(ip: SPFAddress(ip)!, mailFrom: "ann@\(domain)", helo: "h.example")
        #expect(outcome.result == .fail)
        #expect(outcome.explanation == text)
    }

    @Test func nullSenderChecksHELO() async {
        let pass = await Self.verifier.verify(ip: SPFAddress("192.0.2.20")!, mailFrom: "", helo: "mail.helo.example")
        #expect(pass.result == .pass)
        #expect(pass.domain == "mail.helo.example")
        let fail = await Self.verifier.checkHELO(ip: SPFAddress("192.0.2.21")!, helo: "mail.helo.example")
        #expect(fail.result == .fail)
        let literal = await Self.verifier.verify(ip: SPFAddress("192.0.2.20")!, mailFrom: "", helo: "[192.0.2.20]")
        #expect(literal.result == .none)
    }

    /// §4.3: a sender without a local-part is postmaster.
    ///
    /// A local-part that makes a label over 63 characters makes the mechanism not match (RFC
    /// 7208 §4.8 leaves it open); it must not turn -all into permerror.
    @Test(arguments: [
        ("@localpart.example", SPFResult.pass), ("localpart.example", .pass), ("ann@localpart.example", .fail),
        (String(repeating: "x", count: 64) + "@localpart.example", .fail),
    ])
    func localPartDefaultsToPostmaster(mailFrom: String, result: SPFResult) async {
        let outcome = await Self.verifier.verify(ip: SPFAddress("192.0.2.1")!, mailFrom: mailFrom, helo: "h.example")
        #expect(outcome.result == result, "\(outcome.reason)")
    }

    @Test func everyResultIsReached() {
        #expect(Set(Self.cases.map(\.result)) == Set(SPFResult.allCases))
        #expect(
            SPFResult.allCases.map(\.rawValue) == [
                "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror",
            ])
    }
}
