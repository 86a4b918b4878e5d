import Testing

@testable import MailCore

@Suite struct DomainNameTests {
    static let valid: [(String, ascii: String, unicode: String)] = [
        ("example.org", "example.org", "example.org"),
        ("Example.ORG", "example.org", "example.org"),
        ("  example.org ", "example.org", "example.org"),
        ("bücher.example", "xn--bcher-kva.example", "bücher.example"),
        ("BÜCHER.example", "xn--bcher-kva.example", "bücher.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example", "bücher.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example", "bücher.example"),
        ("mail.例え.jp", "mail.xn--r8jz45g.jp", "mail.例え.jp"),
        ("例え。jp", "xn--r8jz45g.jp", "例え.jp"),
        ("a-b.c-d.example", "a-b.c-d.example", "a-b.c-d.example"),
        ("1.2.3.example", "1.2.3.example", "1.2.3.example"),
        ("x.y", "x.y", "x.y"), ("ab-c.d--e.org", "ab-c.d--e.org", "ab-c.d--e.org"), ("MIXED-case9.Org", "mixed-case9.org", "mixed-case9.org"),
        (String(repeating: "a", count: 63) + ".org", String(repeating: "a", count: 63) + ".org", String(repeating: "a", count: 63) + ".org"),
        // NFC: "u" + combining diaeresis is the same domain as precomposed ü.
        ("bu\u{0308}cher.example", "xn--bcher-kva.example", "bücher.example"),
    ]

    @Test(arguments: valid)
    func parses(input: String, ascii: String, unicode: String) throws {
        let d = try DomainName(input)
        #expect(d.ascii == ascii)
        #expect(d.unicode == unicode)
        // Round trip: both forms parse back to the same value.
        #expect(try DomainName(d.unicode) == d)
        #expect(try DomainName(d.ascii) == d)
    }

    static let invalid: [String] = [
        "", "   ", "example", "example.org.", ".example.org", "exa..mple.org", "-example.org", "example-.org",
        "exa_mple.org", "exa mple.org", "example.123", "example.a-", "AB--cd.org", "a.-b", "a..", "example.org:25", "[192.0.2.1]", "192.0.2.1", "ab--cd.org",
        "xn--zz.example", "xn--abc-.example",
        // Valid Punycode of symbols no domain name may hold (found by fuzzing: its Unicode
        // spelling was refused while the A-label was taken).
        "xn--bchekva.example",
        // An A-label whose Unicode form would itself look like an A-label, and that form.
        "xn--xn--9chekva.example", "ab--ü.example", "\u{0301}abc.example", String(repeating: "a", count: 64) + ".org",
        String(repeating: "abcdefghi.", count: 26) + "org", "ex@mple.org", "\u{202E}evil.org", "e\u{0000}x.org",
    ]

    @Test(arguments: invalid)
    func refuses(input: String) {
        #expect(throws: AddressError.self) { try DomainName(input) }
    }

    @Test func within() throws {
        let sub = try DomainName("mail.example.org")
        #expect(sub.isWithin(try DomainName("example.org")))
        #expect(!(try DomainName("badexample.org")).isWithin(try DomainName("example.org")))
    }
}
