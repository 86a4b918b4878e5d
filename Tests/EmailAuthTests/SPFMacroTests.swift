import EmailAuth
import Foundation
import Testing

@Suite("SPF macros")
struct SPFMacroTests {
    /// The context of RFC 7208 §7.4's examples.
    static func context(ipv6: Bool = false) -> SPFMacro.Context {
        SPFMacro.Context(
            sender: "strong-bad@email.example.com", domain: "email.example.com",
            ip: SPFAddress(ipv6 ? "2001:db8::cb01" : "192.0.2.3")!, helo: "mx.example.org",
            validatedName: "mx.example.org", receiver: "mx.example.net",
            now: Date(timeIntervalSince1970: 1_700_000_000))
    }

    /// Every example of RFC 7208 §7.4, exactly.
    static let rfcExamples: [(String, String)] = [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
    ]

    @Test(arguments: rfcExamples)
    func rfc7208Section7_4(macro: String, expansion: String) throws {
        #expect(try SPFMacro.expand(macro, Self.context()) == expansion)
    }

    @Test func rfc7208Section7_4IPv6() throws {
        #expect(
            try SPFMacro.expand("%{ir}.%{v}._spf.%{d2}", Self.context(ipv6: true))
                == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")
    }

    static let more: [(String, String)] = [
        ("%%", "%"), ("%_", " "), ("%-", "%20"), ("a%%b%_c%-d", "a%b c%20d"),
        ("%{h}", "mx.example.org"), ("%{p}", "mx.example.org"), ("%{v}", "in-addr"), ("%{i}", "192.0.2.3"),
        ("%{D}", "email.example.com"), ("%{DR}", "com.example.email"),
        ("%{S}", "strong-bad%40email.example.com"),
        ("%{d99}", "email.example.com"), ("%{d12345678901234567890}", "email.example.com"),
        ("%{l+-}", "strong.bad"), ("%{s=}", "strong-bad@email.example.com"), ("%{s2r.}", "example.strong-bad@email"),
        ("%{dR}", "com.example.email"),
    ]

    @Test(arguments: more)
    func otherExpansions(macro: String, expansion: String) throws {
        #expect(try SPFMacro.expand(macro, Self.context()) == expansion)
    }

    @Test func urlEscapingOfUpperCaseLetters() throws {
        var context = Self.context()
        context.sender = "~jack&jill=up-a_b3.c@e8.example.com"
        #expect(try SPFMacro.expand("%{L}", context, explanation: true) == "~jack%26jill%3Dup-a_b3.c")
    }

    @Test func validatedNameDefaultsToUnknown() throws {
        var context = Self.context()
        context.validatedName = nil
        #expect(try SPFMacro.expand("%{p}", context) == "unknown")
    }

    @Test func explanationOnlyLetters() throws {
        let context = Self.context(ipv6: true)
        #expect(
            try SPFMacro.expand("%{c} via %{r} at %{t}: %{i1}", context, explanation: true)
                == "2001:db8::cb01 via mx.example.net at 1700000000: 1")
        #expect(try SPFMacro.expand("%{c}", Self.context(), explanation: true) == "192.0.2.3")
        #expect(throws: SPFSyntaxError.self) { try SPFMacro.expand("%{c}", context) }
        #expect(throws: SPFSyntaxError.self) { try SPFMacro.expand("a b", context) }  // space only in explanations
    }

    /// RFC 7208 §7.3: names longer than 253 characters lose labels on the left.
    @Test func truncationTo253Characters() throws {
        var context = Self.context()
        context.sender = "x@" + String(repeating: "abcdefghi.", count: 30) + "example.com"
        let expanded = try SPFMacro.expand("%{o}.%{o}", context)
        #expect(expanded.utf8.count <= 253)
        #expect(expanded.hasSuffix(".example.com"))
        #expect(expanded.hasPrefix("abcdefghi."))
        let oneLabel = String(repeating: "a", count: 260)
        #expect(try SPFMacro.expand(oneLabel, context) == oneLabel)  // nothing left to drop
        let explanation = try SPFMacro.expand("%{o}.%{o}", context, explanation: true)
        #expect(explanation.utf8.count > 253)  // explanations are not cut
    }
}
