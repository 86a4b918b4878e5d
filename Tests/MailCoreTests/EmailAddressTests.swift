import Testing

@testable import MailCore

@Suite struct EmailAddressTests {
    static let valid: [(String, local: String, domain: String, rendered: String)] = [
        ("alice@example.org", "alice", "example.org", "alice@example.org"),
        ("Alice.Smith@Example.ORG", "Alice.Smith", "example.org", "Alice.Smith@example.org"),
        ("a+tag@example.org", "a+tag", "example.org", "a+tag@example.org"),
        ("!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~", "example.org", "!#$%&'*+-/=?^_`{|}~@example.org"),
        ("\"john smith\"@example.org", "john smith", "example.org", "\"john smith\"@example.org"),
        ("\"user@other\"@example.org", "user@other", "example.org", "\"user@other\"@example.org"),
        ("\"plain\"@example.org", "plain", "example.org", "plain@example.org"),
        ("\"a\\\"b\"@example.org", "a\"b", "example.org", "\"a\\\"b\"@example.org"),
        ("josé@bücher.example", "josé", "xn--bcher-kva.example", "josé@xn--bcher-kva.example"),
        ("用户@例え.jp", "用户", "xn--r8jz45g.jp", "用户@xn--r8jz45g.jp"),
        (String(repeating: "x", count: 64) + "@example.org", String(repeating: "x", count: 64), "example.org",
            String(repeating: "x", count: 64) + "@example.org"),
    ]

    @Test(arguments: valid)
    func parses(input: String, local: String, domain: String, rendered: String) throws {
        let a = try EmailAddress(input)
        #expect(a.localPart == local)
        #expect(a.domain.ascii == domain)
        #expect(a.description == rendered)
        #expect(try EmailAddress(a.description) == a)
    }

    static let invalid: [String] = [
        "", "alice", "alice@", "@example.org", "al ice@example.org", "alice..x@example.org", ".alice@example.org",
        "alice.@example.org", "alice@example", "alice@example.org.", "alice@[192.0.2.1]", "\"unclosed@example.org",
        "\"a\"b\"@example.org", "a\"b@example.org", "alice@exa mple.org", "ali\rce@example.org", "ali\nce@example.org",
        String(repeating: "x", count: 65) + "@example.org", "a@" + String(repeating: "b", count: 250) + ".org",
        "\"\"@example.org", "\"a\\\"@example.org", "a,b@example.org", "<alice@example.org>", "alice@@example.org",
    ]

    @Test(arguments: invalid)
    func refuses(input: String) {
        #expect(throws: AddressError.self) { try EmailAddress(input) }
    }

    @Test func lookupKeyFoldsCaseOfLocalPartAndDomain() throws {
        let a = try EmailAddress("Alice@EXAMPLE.org")
        let b = try EmailAddress("aLiCe@example.ORG")
        #expect(a == b)
        #expect(a.key == "alice@example.org")
        #expect(a.localPart == "Alice")
        // Unicode local parts fold too, after NFC.
        #expect(try EmailAddress("JOSÉ@example.org").key == (try EmailAddress("jose\u{0301}@example.org")).key)
    }

    @Test func subaddress() throws {
        #expect(try EmailAddress("bob+news@example.org").subaddress()! == ("bob", "news"))
        #expect(try EmailAddress("bob+@example.org").subaddress()! == ("bob", ""))
        #expect(try EmailAddress("+news@example.org").subaddress() == nil)
        #expect(try EmailAddress("bob@example.org").subaddress() == nil)
    }

    @Test func errorsSayWhatIsWrong() {
        do {
            _ = try EmailAddress("alice")
            Issue.record("should fail")
        } catch {
            #expect(error.description.contains("no @domain part"))
        }
    }
}
