import EmailAuth
import TestSupport
import Testing

@Suite("Public Suffix List")
struct PublicSuffixListTests {
    @Test(arguments: [
        ("example.org", "example.org"),
        ("mail.example.org", "example.org"),
        ("a.b.c.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("co.uk", "co.uk"),  // a public suffix is its own organizational domain
        ("MAIL.Example.ORG.", "example.org"),
        ("a..mail.example.org", "example.org"),  // empty labels do not count
        ("", ""),
        ("foo.bar.kawasaki.jp", "foo.bar.kawasaki.jp"),  // *.kawasaki.jp
        ("city.kawasaki.jp", "city.kawasaki.jp"),  // !city.kawasaki.jp
        ("www.city.kawasaki.jp", "city.kawasaki.jp"),
        ("x.example.invalidtld", "example.invalidtld"),  // the default rule "*"
        ("a.xn--55qx5d.cn", "a.xn--55qx5d.cn"),  // 公司.cn, as an A-label
        ("user.github.io", "user.github.io"),  // the private section counts too
    ])
    func organizationalDomain(_ domain: String, _ expected: String) {
        #expect(PublicSuffixList.embedded.organizationalDomain(of: domain) == expected)
    }

    @Test func rulesFromText() {
        let list = PublicSuffixList(rules: "// comment\ncom\n*.test\n!keep.test\n")
        #expect(list.publicSuffix(of: "a.b.test") == "b.test")
        #expect(list.organizationalDomain(of: "x.a.b.test") == "a.b.test")
        #expect(list.organizationalDomain(of: "x.keep.test") == "keep.test")
        #expect(list.organizationalDomain(of: "a.example.com") == "example.com")
    }
}

@Suite("DMARC")
struct DMARCTests {
    @Test(arguments: [
        ("v=DMARC1; p=reject", DMARCRecord.Policy.reject, nil as DMARCRecord.Policy?, 100),
        ("v=DMARC1;p=quarantine;sp=none;pct=20;adkim=s", .quarantine, .some(DMARCRecord.Policy.none), 20),
        ("v=DMARC1; p=bogus; rua=mailto:agg@example.org", .none, nil, 100),  // RFC 7489 §6.6.3
        ("v=DMARC1; p=NONE; rua=mailto:a@example.org, mailto:b@example.org", .none, nil, 100),
        // An invalid sp= is treated as an invalid p= (RFC 7489 §6.6.3 step 6): p=none with a rua=.
        ("v=DMARC1; p=reject; sp=bogus; rua=mailto:agg@example.org", .none, nil, 100),
    ])
    func records(_ text: String, _ policy: DMARCRecord.Policy, _ sp: DMARCRecord.Policy?, _ pct: Int) throws {
        let record = try DMARCRecord(text)
        #expect(record.policy == policy)
        #expect(record.subdomainPolicy == sp)
        #expect(record.percent == pct)
    }

    @Test(arguments: [
        ("p=reject; v=DMARC1", "not a DMARC1 record"),
        ("v=DMARC2; p=reject", "not a DMARC1 record"),
        ("v=DMARC1; p=bogus", "p=bogus is not none, quarantine or reject"),
        ("v=DMARC1; p=reject; sp=bogus", "sp=bogus is not none, quarantine or reject"),
        ("v=DMARC1; p=reject; pct=101", "pct=101 is not 0 to 100"),
        ("v=DMARC1; p=reject; adkim=x", "adkim=x is not r or s"),
        ("v=DMARC1; p=reject; p=none", "the tag p= appears twice"),
    ])
    func malformedRecords(_ text: String, _ reason: String) {
        #expect(throws: DKIMVerifyError.syntax(reason)) { try DMARCRecord(text) }
    }

    static func dkim(_ domain: String, _ result: DKIMResult = .pass) -> DKIMVerification {
        DKIMVerification(result: result, domain: domain, selector: "s", identity: "@\(domain)", algorithm: "ed25519-sha256", headerB: "", reason: "")
    }

    static let dns = FakeAuthDNS([
        "_dmarc.example.org": [.txt("v=DMARC1; p=reject; sp=quarantine")],
        "_dmarc.strict.test": [.txt("v=DMARC1; p=reject; adkim=s; aspf=s")],
        "_dmarc.sample.test": [.txt("v=DMARC1; p=reject; pct=50")],
        "_dmarc.two.test": [.txt("v=DMARC1; p=reject"), .txt("v=DMARC1; p=none")],
        "_dmarc.broken.test": [.txt("v=DMARC1; p=reject; pct=x")],
        "_dmarc.other.test": [.txt("some other text")],
        "_dmarc.flaky.test": [.timeout],
    ])

    static func evaluate(_ from: String, spf: (String, String)? = nil, dkim: [DKIMVerification] = [], sample: Int = 0) async -> DMARCOutcome {
        await DMARCVerifier(dns: dns, sample: { sample }).evaluate(fromDomain: from, spf: spf.map { (result: $0.0, domain: $0.1) }, dkim: dkim)
    }

    @Test func alignment() async {
        // Relaxed: a subdomain's signature or MAIL FROM aligns with the organizational domain.
        #expect(await Self.evaluate("example.org", dkim: [Self.dkim("mail.example.org")]).result == .pass)
        #expect(await Self.evaluate("news.example.org", spf: ("pass", "bounce.example.org")).result == .pass)
        #expect(await Self.evaluate("example.org", spf: ("pass", "example.org")).reason == "SPF pass for example.org aligns with From example.org")
        // Strict: only the same name.
        #expect(await Self.evaluate("strict.test", dkim: [Self.dkim("mail.strict.test")]).result == .fail)
        #expect(await Self.evaluate("strict.test", spf: ("pass", "mail.strict.test")).result == .fail)
        #expect(await Self.evaluate("strict.test", dkim: [Self.dkim("strict.test")]).result == .pass)
        // A pass for another domain, or a failing aligned signature, is no pass.
        let fail = await Self.evaluate("example.org", spf: ("pass", "evil.test"), dkim: [Self.dkim("evil.test"), Self.dkim("example.org", .fail)])
        #expect(fail.result == .fail)
        #expect(fail.disposition == .reject)
        #expect(fail.reason == "DKIM passed only for evil.test; SPF passed for evil.test, which does not align (From example.org, relaxed alignment)")
        // l= leaves bytes unsigned: policy, which never passes DMARC.
        #expect(await Self.evaluate("example.org", dkim: [Self.dkim("example.org", .policy)]).result == .fail)
    }

    @Test func policyDiscovery() async {
        // A subdomain without its own record takes the organizational domain's sp=.
        let sub = await Self.evaluate("mail.example.org")
        #expect(sub.result == .fail)
        #expect(sub.policyDomain == "example.org")
        #expect(sub.policy == .quarantine)
        #expect(await Self.evaluate("example.org").policy == .reject)
        let none = await Self.evaluate("nothing.test")
        #expect(none.result == .none)
        #expect(none.reason == "no DMARC record at _dmarc.nothing.test")
        #expect(await Self.evaluate("x.other.test").reason == "no DMARC record at _dmarc.x.other.test or _dmarc.other.test")
        #expect(await Self.evaluate("two.test").reason == "two.test publishes 2 DMARC records, so none applies")
        #expect(await Self.evaluate("flaky.test").result == .temperror)
        let broken = await Self.evaluate("broken.test")
        #expect(broken.result == .permerror)
        #expect(broken.reason == "the DMARC record of broken.test cannot be read: pct=x is not 0 to 100")
    }

    /// pct=50: messages sampled out get the next lower policy (RFC 7489 §6.6.4).
    @Test func percentage() async {
        #expect(await Self.evaluate("sample.test", sample: 49).disposition == .reject)
        #expect(await Self.evaluate("sample.test", sample: 50).disposition == .quarantine)
    }
}

@Suite("Authentication-Results")
struct AuthenticationResultsTests {
    @Test func field() {
        let results = AuthenticationResults(authservID: "mx.example.org", entries: [
            .init(method: "spf", result: "pass", properties: [("smtp.mailfrom", "ann@example.net")]),
            .init(method: "dkim", result: "fail", comment: "body (changed) \\ after", properties: [("header.d", "example.net"), ("header.b", "Hx3W+v1/")]),
            .init(method: "dmarc", result: "fail", comment: "p=reject", properties: [("header.from", "example.net")]),
            .init(method: "spf", result: "none", properties: [("smtp.mailfrom", "odd name\"@example.net")]),
        ])
        #expect(results.field == """
            Authentication-Results: mx.example.org;\r
            \tspf=pass smtp.mailfrom=ann@example.net;\r
            \tdkim=fail (body changed  after) header.d=example.net header.b="Hx3W+v1/";\r
            \tdmarc=fail (p=reject) header.from=example.net;\r
            \tspf=none smtp.mailfrom="odd name\\"@example.net"\r

            """)
        #expect(AuthenticationResults(authservID: "mx.example.org", entries: []).field == "Authentication-Results: mx.example.org; none\r\n")
        // Comments lose parentheses, backslashes and control characters, ASCII or not, and
        // stop at 200 characters.
        for (comment, expected) in [
            ("caf\u{E9} (\u{1}x\u{7F})", "caf\u{E9} x"), ("tab\there", "tabhere"),
            (String(repeating: "a(", count: 150), String(repeating: "a", count: 150)),
            (String(repeating: "é", count: 250), String(repeating: "é", count: 200)),
            (String(repeating: "b", count: 250), String(repeating: "b", count: 200)),
        ] {
            let field = AuthenticationResults(authservID: "mx", entries: [.init(method: "dkim", result: "none", comment: comment)]).field
            #expect(field == "Authentication-Results: mx;\r\n\tdkim=none (\(expected))\r\n")
        }
    }

    /// RFC 8601 §5: fields claiming our authserv-id are removed; other servers' stay.
    @Test func removesForgedResults() {
        let message = """
            Authentication-Results: MX.example.org; dkim=pass header.d=bank.test\r
            Authentication-Results: (forged) mx.example.org;\r
             spf=pass\r
            From: a@bank.test\r
            Authentication-Results: relay.example.net; spf=pass\r
            Authentication-Results: mx.example.org.evil; spf=pass\r
            \r
            Authentication-Results: mx.example.org; in the body stays\r

            """
        let cleaned = String(decoding: AuthenticationResults.removingOurs(from: Array(message.utf8), authservID: "mx.example.org"), as: UTF8.self)
        #expect(cleaned == """
            From: a@bank.test\r
            Authentication-Results: relay.example.net; spf=pass\r
            Authentication-Results: mx.example.org.evil; spf=pass\r
            \r
            Authentication-Results: mx.example.org; in the body stays\r

            """)
        let untouched = Array("From: a@b.test\r\n\r\nbody".utf8)
        #expect(AuthenticationResults.removingOurs(from: untouched, authservID: "mx.example.org") == untouched)
    }

    /// A field whose authserv-id is on a continuation line, or followed directly by the line
    /// break, is ours too: CRLF is folding white space (RFC 8601 §2.2, RFC 5322 §3.2.2).
    @Test(arguments: [
        "Authentication-Results:\r\n mx.example.org; spf=pass\r\n",
        "Authentication-Results: mx.example.org\r\n ; spf=pass\r\n",
        "Authentication-Results: (forged)\r\n\tmx.example.org; spf=pass\r\n",
        "Authentication-Results: mx.example.org\r\n\t1; spf=pass\r\n",
    ])
    func removesFoldedForgedResults(field: String) {
        let message = Array((field + "From: a@bank.test\r\n\r\nbody\r\n").utf8)
        let cleaned = String(decoding: AuthenticationResults.removingOurs(from: message, authservID: "mx.example.org"), as: UTF8.self)
        #expect(cleaned == "From: a@bank.test\r\n\r\nbody\r\n")
    }
}
