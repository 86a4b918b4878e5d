import EmailAuth
import Testing

@Suite("SPF record parser")
struct SPFRecordTests {
    /// Record text → its printed form. The printed form parses back to the same value.
    static let roundTrips: [(String, String)] = [
        ("v=spf1", "v=spf1"),
        ("v=spf1 -all", "v=spf1 -all"),
        ("V=SPF1 +ALL", "v=spf1 all"),
        ("v=spf1  ~all   ", "v=spf1 ~all"),
        ("v=spf1 ?all", "v=spf1 ?all"),
        (
            "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1 ip4:192.0.2.1/32 -all",
            "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1 ip4:192.0.2.1 -all"
        ),
        ("v=spf1 ip4:0.0.0.0/0", "v=spf1 ip4:0.0.0.0/0"),
        ("v=spf1 ip6:2001:DB8::/32 ip6:2001:db8:0:0:0:0:0:1/128", "v=spf1 ip6:2001:db8::/32 ip6:2001:db8::1"),
        ("v=spf1 ip6:::ffff:192.0.2.1/96", "v=spf1 ip6:::ffff:c000:201/96"),
        (
            "v=spf1 a a/24 a//64 a/24//64 a:mail.example.org a:mail.example.org/28//48",
            "v=spf1 a a/24 a//64 a/24//64 a:mail.example.org a:mail.example.org/28//48"
        ),
        (
            "v=spf1 mx mx/30 mx:example.org mx:example.org//56 -all",
            "v=spf1 mx mx/30 mx:example.org mx:example.org//56 -all"
        ),
        ("v=spf1 ptr ptr:example.org -all", "v=spf1 ptr ptr:example.org -all"),
        (
            "v=spf1 include:_spf.example.net include:example.com. -all",
            "v=spf1 include:_spf.example.net include:example.com. -all"
        ),
        ("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all", "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all"),
        ("v=spf1 -exists:%{i}.dnsbl.example.org +a:%{d2}", "v=spf1 -exists:%{i}.dnsbl.example.org a:%{d2}"),
        ("v=spf1 a:macro%%percent%_space%-url.example.com", "v=spf1 a:macro%%percent%_space%-url.example.com"),
        ("v=spf1 redirect=_spf.example.org", "v=spf1 redirect=_spf.example.org"),
        ("v=spf1 REDIRECT=%{d}.spf.example.net", "v=spf1 redirect=%{d}.spf.example.net"),
        ("v=spf1 -all exp=explain._spf.%{d}", "v=spf1 -all exp=explain._spf.%{d}"),
        ("v=spf1 mx moo=cow foo.bar_baz-1=%{s} -all", "v=spf1 mx moo=cow foo.bar_baz-1=%{s} -all"),
        ("v=spf1 x-empty= -all", "v=spf1 x-empty= -all"),
        ("v=spf1 x-trace=%{c}@%{t} -all", "v=spf1 x-trace=%{c}@%{t} -all"),
        ("v=spf1 a:foo-bar.com a:foo.c-om a:foo.co1 a:x.1a", "v=spf1 a:foo-bar.com a:foo.c-om a:foo.co1 a:x.1a"),
        ("v=spf1 a:path/like.example.com", "v=spf1 a:path/like.example.com"),
    ]

    @Test(arguments: roundTrips)
    func roundTrip(text: String, printed: String) throws {
        let record = try SPFRecord(parsing: text)
        #expect(record.description == printed)
        #expect(try SPFRecord(parsing: record.description) == record)
    }

    @Test func termsAreTyped() throws {
        let record = try SPFRecord(
            parsing:
                "v=spf1 ~a:mail.example.org/24//64 ip6:2001:db8::/32 ?mx -ptr redirect=x.example exp=e.example foo=bar")
        #expect(
            record.terms == [
                .directive(.softfail, .a("mail.example.org", SPFRecord.CIDR(ipv4: 24, ipv6: 64))),
                .directive(.pass, .ip6(SPFAddress("2001:db8::")!, prefix: 32)),
                .directive(.neutral, .mx(nil, SPFRecord.CIDR())),
                .directive(.fail, .ptr(nil)),
                .redirect("x.example"),
                .explanation("e.example"),
                .unknownModifier(name: "foo", value: "bar"),
            ])
        #expect(record.redirect == "x.example")
        #expect(record.explanation == "e.example")
    }

    /// Malformed records, each with a part of the message that says what is wrong.
    static let malformed: [(String, String)] = [
        ("v=spf10 -all", "must begin with \"v=spf1\""),
        ("spf1 -all", "must begin with \"v=spf1\""),
        (" v=spf1 -all", "must begin with \"v=spf1\""),
        ("v=spf1 -all\t", "character SPF does not allow"),
        ("v=spf1 a:caf\u{E9}.example", "character SPF does not allow"),
        ("v=spf1 foo", "not an SPF mechanism"),
        ("v=spf1 -", "not an SPF mechanism"),
        ("v=spf1 redirect:example.org", "not an SPF mechanism"),
        ("v=spf1 +redirect=example.org", "not an SPF mechanism"),
        ("v=spf1 all:x", "all takes no argument"),
        ("v=spf1 all/8", "all takes no argument"),
        ("v=spf1 include", "include needs a domain"),
        ("v=spf1 exists", "exists needs a domain"),
        ("v=spf1 include:", "the domain is empty"),
        ("v=spf1 a:", "the domain is empty"),
        ("v=spf1 ptr/24", "ptr takes no prefix length"),
        ("v=spf1 ip4:192.0.2.0/33", "invalid prefix length"),
        ("v=spf1 ip4:192.0.2.0/024", "invalid prefix length"),
        ("v=spf1 ip4:192.0.2.0/", "invalid prefix length"),
        ("v=spf1 ip6:2001:db8::/129", "invalid prefix length"),
        ("v=spf1 a/33", "invalid prefix length"),
        ("v=spf1 a//129", "invalid prefix length"),
        ("v=spf1 mx:example.org/", "invalid prefix length"),
        ("v=spf1 ip4:192.0.2", "does not hold a valid address"),
        ("v=spf1 ip4:192.0.2.256", "does not hold a valid address"),
        ("v=spf1 ip4:2001:db8::1", "does not hold a valid address"),
        ("v=spf1 ip4", "does not hold a valid address"),
        ("v=spf1 ip6:192.0.2.1", "does not hold a valid address"),
        ("v=spf1 ip6:2001:db8::1::2", "does not hold a valid address"),
        ("v=spf1 ip6:1:2:3:4:5:6:7:8:9", "does not hold a valid address"),
        ("v=spf1 a:example", "not a fully qualified domain"),
        ("v=spf1 a:foo.123", "not a valid top-level label"),
        ("v=spf1 a:foo.-com", "not a valid top-level label"),
        ("v=spf1 a:foo.com-", "not a valid top-level label"),
        ("v=spf1 a:foo.", "not a fully qualified domain"),
        ("v=spf1 exists:%{ir}.example.org%", "a lone % at the end"),
        ("v=spf1 exists:%(ir).example.org", "% must be followed by"),
        ("v=spf1 exists:%{ir.example.org", "is not closed"),
        ("v=spf1 exists:%{x}.example.org", "%{x} is not a macro letter"),
        ("v=spf1 exists:%{c}.example.org", "only allowed in explanation"),
        ("v=spf1 -all exp=%{r}.example.org", "only allowed in explanation"),
        ("v=spf1 exists:%{d0}.example.org", "must not be zero"),
        ("v=spf1 exists:%{dr!}.example.org", "! is not a delimiter"),
        ("v=spf1 exists:%{}.example.org", "a macro needs a letter"),
        ("v=spf1 foo=%", "a lone % at the end"),
        ("v=spf1 redirect=a.example redirect=b.example", "redirect= appears more than once"),
        ("v=spf1 exp=a.example EXP=b.example", "exp= appears more than once"),
    ]

    @Test(arguments: malformed)
    func malformedRecordsAreRefused(text: String, message: String) {
        #expect {
            try SPFRecord(parsing: text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test(arguments: [
        ("v=spf1", true), ("v=spf1 -all", true), ("V=SpF1 a", true), ("v=spf1x", false), ("v=spf", false),
        ("", false), ("v=spf10", false), ("\"v=spf1\"", false),
    ])
    func versionSection(text: String, isSPF: Bool) {
        #expect(SPFRecord.isSPFRecord(text) == isSPF)
    }

    @Test(arguments: [
        ("192.0.2.3", "192.0.2.3"), ("2001:DB8::CB01", "2001:db8::cb01"), ("::", "::"), ("::1", "::1"),
        ("1::", "1::"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("::ffff:1.2.3.4", "::ffff:102:304"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("10.100.0.9", "10.100.0.9"),
    ])
    func addresses(text: String, printed: String) throws {
        let address = try #require(SPFAddress(text))
        #expect(address.description == printed)
        #expect(SPFAddress(printed) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", ":::", "1:2:3:4:5:6:7", "g::1", "12345::", "1.2.3.4:5::",
        "1.2.3.00", "1.2.3.1000", "1..2.3", ".1.2.3", "1.2.3.4.", "1.2.3.-4", "1.2.3.+4", "1.2.3.٣", "1.2.3.4 ", "999.1.1.1",
    ])
    func invalidAddresses(text: String) {
        #expect(SPFAddress(text) == nil)
    }

    @Test func cidrMatching() throws {
        let ip = try #require(SPFAddress("192.0.2.130"))
        #expect(ip.matches(SPFAddress("192.0.2.128")!, prefix: 25))
        #expect(!ip.matches(SPFAddress("192.0.2.0")!, prefix: 25))
        #expect(ip.matches(SPFAddress("10.0.0.0")!, prefix: 0))
        #expect(!ip.matches(SPFAddress("::")!, prefix: 0))  // families never match
        let v6 = try #require(SPFAddress("2001:db8:1234::1"))
        #expect(v6.matches(SPFAddress("2001:db8:1200::")!, prefix: 42))  // 0x34 = 0b0011_0100
        #expect(!v6.matches(SPFAddress("2001:db8:1200::")!, prefix: 43))
        #expect(SPFAddress("::ffff:192.0.2.1")!.ipv4Unmapped == SPFAddress("192.0.2.1"))
        #expect(SPFAddress("::fffe:192.0.2.1")!.ipv4Unmapped.isIPv6)
    }
}
