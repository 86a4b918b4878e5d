import EmailAuth
import MailCore
import Testing

@testable import Web

/// ``WebSite`` as a function of the request: which paths, methods, hosts and addresses get what.
/// The documents themselves are read by independent parsers in IntegrationTests.WebListenerTests.
@Suite struct WebSiteTests {
    static let site = WebSite(
        mode: { ["example.org": MTASTSMode.enforce, "example.net": .none][$0.ascii] },
        policy: { MTASTSPolicy(mode: $0, mx: ["mail.example.org"], maxAge: 86400) },
        settings: {
            ClientSettings(hostname: "mail.example.org", imaps: [993], imap: [143], submissions: [], submission: [587])
        })

    @Test func policiesByHost() {
        let enforce = Self.site.answer(
            WebRequest(method: "GET", path: "/.well-known/mta-sts.txt", host: "Mta-Sts.Example.Org"))
        #expect(
            enforce
                == WebResponse(
                    status: 200, contentType: "text/plain",
                    body: "version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 86400\r\n"))
        let none = Self.site.answer(
            WebRequest(method: "GET", path: "/.well-known/mta-sts.txt", host: "mta-sts.example.net."))
        #expect(none.body.contains("mode: none\r\n"))
        for host in ["mta-sts.example.com", "example.org", "mta-sts.", "mta-sts..org", nil] {
            #expect(
                Self.site.answer(WebRequest(method: "GET", path: "/.well-known/mta-sts.txt", host: host)) == .notFound)
        }
    }

    @Test(arguments: [
        ("GET", "/nothing", 404), ("GET", "/autodiscover/autodiscover.xml", 405), ("PUT", "/mail/config-v1.1.xml", 405),
        ("POST", "/.well-known/mta-sts.txt", 405), ("DELETE", "/apple/mobileconfig", 405),
        ("GET", "/MAIL/config-v1.1.xml", 404),
    ])
    func pathsAndMethods(method: String, path: String, status: Int) {
        let r = Self.site.answer(WebRequest(method: method, path: path, host: "mta-sts.example.org"))
        #expect(r.status == status)
        if status == 405 { #expect(r.allow == (method == "GET" ? "POST" : "GET")) }
    }

    @Test(
        arguments: [
            (nil, 400), ("", 400), ("alice", 400), ("alice@elsewhere.example", 404), ("alice@EXAMPLE.org", 200),
            ("alice@example.net", 200),
        ] as [(String?, Int)])
    func addresses(address: String?, status: Int) {
        let query = address.map { ["emailaddress": $0] } ?? [:]
        for path in ["/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml", "/apple/mobileconfig"] {
            let r = Self.site.answer(WebRequest(method: "GET", path: path, query: query))
            #expect(r.status == status, "\(path) \(String(describing: address))")
            if status == 404 { #expect(r == .notFound) }
        }
    }

    @Test func autoconfigListsEveryEndpointPreferredFirst() {
        let r = Self.site.answer(
            WebRequest(method: "GET", path: "/mail/config-v1.1.xml", query: ["emailaddress": "a@example.org"]))
        let ports = r.body.split(separator: "\n").filter { $0.contains("<port>") || $0.contains("<socketType>") }
            .map { String($0).trimmingWhitespace() }
        #expect(
            ports == [
                "<port>993</port>", "<socketType>SSL</socketType>", "<port>143</port>",
                "<socketType>STARTTLS</socketType>",
                "<port>587</port>", "<socketType>STARTTLS</socketType>",
            ])
    }

    static let request = """
        <?xml version="1.0" encoding="utf-8"?>
        <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
          <!-- a comment -->
          <Request>
            <EMailAddress>o&apos;hara&amp;co@example.org</EMailAddress>
            <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
          </Request>
        </Autodiscover>
        """

    @Test func autodiscoverEscapesWhatItEchoes() throws {
        let r = Self.site.answer(
            WebRequest(method: "POST", path: "/autodiscover/autodiscover.xml", body: Array(Self.request.utf8)))
        #expect(r.status == 200)
        #expect(r.body.contains("<LoginName>o&apos;hara&amp;co@example.org</LoginName>"))
        #expect(
            r.body.contains("<Port>993</Port>") && r.body.contains("<Port>587</Port>")
                && r.body.contains("<Encryption>TLS</Encryption>"))
        #expect(!r.body.contains("<Port>143</Port>"), "one endpoint per protocol")
    }

    @Test(arguments: [
        // A namespace prefix, CDATA, a character reference, attributes in both quotes.
        (
            #"<a:Autodiscover xmlns:a="urn:x"><a:Request x='1'><a:EMailAddress><![CDATA[b@example.org]]></a:EMailAddress></a:Request></a:Autodiscover>"#,
            "b@example.org"
        ),
        (
            "\u{FEFF}<Autodiscover><Request><EMailAddress> &#99;@example.org </EMailAddress></Request></Autodiscover>",
            "c@example.org"
        ),
        (
            "<?xml version='1.0'?><Autodiscover><Request><EMailAddress>&#x64;@example.org</EMailAddress><X/></Request></Autodiscover>",
            "d@example.org"
        ),
    ])
    func autodiscoverRequests(body: String, address: String) throws {
        #expect(try Autodiscover.emailAddress(inRequest: Array(body.utf8)).get() == address)
    }

    @Test(arguments: [
        "", "text", "<Autodiscover>", "<Autodiscover></autodiscover>", "<Autodiscover/><Autodiscover/>",
        "<Autodiscover><Request><EMailAddress>a@example.org</EMailAddress></Request></Autodiscover>trailing",
        "<Other><Request><EMailAddress>a@example.org</EMailAddress></Request></Other>",
        "<Autodiscover><Request><EMailAddress></EMailAddress></Request></Autodiscover>",
        "<Autodiscover><Request><EMailAddress>&e;</EMailAddress></Request></Autodiscover>",
        "<Autodiscover><Request><EMailAddress>&#0;</EMailAddress></Request></Autodiscover>",
        #"<!DOCTYPE a [<!ENTITY e "x">]><Autodiscover/>"#,
        "<Autodiscover><!DOCTYPE a><Request/></Autodiscover>",
        "<Autodiscover a=b><Request/></Autodiscover>",
        "<Autodiscover a='<'><Request/></Autodiscover>",
        "<Autodiscover><![CDATA[ unterminated </Autodiscover>",
        String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40),
    ])
    func malformedAutodiscoverRequests(body: String) {
        let r = Self.site.answer(
            WebRequest(method: "POST", path: "/autodiscover/autodiscover.xml", body: Array(body.utf8)))
        #expect(r.status == 400, "\(body)")
    }

    @Test func profileIdentifiersAreStablePerAccount() {
        let one = AppleProfile.document(address: "a@example.org", settings: Self.site.settings())
        #expect(one == AppleProfile.document(address: "a@example.org", settings: Self.site.settings()))
        #expect(
            AppleProfile.uuid("mail.example.org", "a@example.org")
                != AppleProfile.uuid("mail.example.org", "b@example.org"))
        #expect(AppleProfile.uuid("x").count == 36)
    }
}

@Suite struct MTASTSPolicyTests {
    @Test func idFollowsTheText() {
        let p = MTASTSPolicy(mode: .testing, mx: ["Mail.Example.org"], maxAge: 604800)
        #expect(p.text == "version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 604800\r\n")
        #expect(p.id.count == 20 && p.id.allSatisfy { $0.isHexDigit })
        #expect(p.record == "v=STSv1; id=\(p.id)")
        var changed = [p.id]
        for q in [
            MTASTSPolicy(mode: .enforce, mx: ["mail.example.org"], maxAge: 604800),
            MTASTSPolicy(mode: .testing, mx: ["mx2.example.org"], maxAge: 604800),
            MTASTSPolicy(mode: .testing, mx: ["mail.example.org"], maxAge: 86400),
        ] {
            changed.append(q.id)
        }
        #expect(Set(changed).count == 4)
        #expect(MTASTSPolicy(mode: .testing, mx: ["mail.example.org"], maxAge: 604800).id == p.id)
    }
}

/// ``xmlEscaped`` and ``XMLReader`` against each other on generated text, and the reader on
/// mangled requests: what is escaped reads back as it was, and no input crashes it.
@Suite struct XMLReaderPropertyTests {
    /// A small deterministic generator (SplitMix64), so that a failure repeats.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let alphabet = Array("ab<>&'\";#x[]!-?=/ é€\u{1F600}\t\n")

    @Test func escapedTextReadsBack() throws {
        var g = Generator(state: 1)
        for _ in 0..<2000 {
            let text = String(
                (0..<Int.random(in: 1...24, using: &g)).map { _ in Self.alphabet.randomElement(using: &g)! })
            let body =
                "<Autodiscover><Request><EMailAddress>\(xmlEscaped(text))</EMailAddress></Request></Autodiscover>"
            let read = try XMLReader.parse(Array(body.utf8))
            #expect(read.child("Request")?.child("EMailAddress")?.text == text, "\(text.debugDescription)")
        }
    }

    @Test func mangledRequestsDoNotCrash() {
        var g = Generator(state: 2)
        let request = Array(WebSiteTests.request.utf8)
        for _ in 0..<5000 {
            var bytes = request
            for _ in 0..<Int.random(in: 1...8, using: &g) {
                let i = Int.random(in: 0..<bytes.count, using: &g)
                switch Int.random(in: 0..<3, using: &g) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &g)
                case 1: bytes.remove(at: i)
                default: bytes.insert(Array("<>&;/!".utf8).randomElement(using: &g)!, at: i)
                }
                if bytes.isEmpty { break }
            }
            let answer = WebSiteTests.site.answer(
                WebRequest(method: "POST", path: "/autodiscover/autodiscover.xml", body: bytes))
            #expect([200, 400, 404].contains(answer.status))
        }
    }
}
