import EmailAuth
import Foundation
import TestSupport
import Testing

@Suite("DKIM verifier")
struct DKIMVerifierTests {
    static let rsa = DKIMKey.generate(.rsa2048)
    static let ed25519 = DKIMKey.generate(.ed25519)
    static let message = Array(RFC8463Tests.message.utf8)

    static func dns(_ records: [String: String]) -> FakeAuthDNS {
        FakeAuthDNS(records.mapValues { [.txt($0)] })
    }

    static func signed(_ key: DKIMKey, domain: String = "football.example.com", selector: String = "sel", _ message: [UInt8] = message) -> [UInt8] {
        Array(DKIMSigner(domain: domain, selector: selector, key: key).signature(for: message).utf8) + message
    }

    static func verify(_ message: [UInt8], _ dns: FakeAuthDNS, at now: Date = Date()) async -> [DKIMVerification] {
        await DKIMVerifier(dns: dns, now: { now }).verify(message)
    }

    /// RFC 8463 Appendix A.3: the RFC's own message with both of its signatures.
    @Test func rfc8463SignedMessage() async {
        let signed = """
            DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r
             d=football.example.com; i=@football.example.com;\r
             q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r
             subject : date : message-id : from : subject : date;\r
             bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r
             b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r
             Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r
            DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r
             d=football.example.com; i=@football.example.com;\r
             q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r
             date : message-id : from : subject : date;\r
             bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r
             b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r
             DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r
             dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r

            """ + RFC8463Tests.message
        let dns = Self.dns([
            "brisbane._domainkey.football.example.com": "v=DKIM1; k=ed25519; p=\(RFC8463Tests.ed25519PublicKey)",
            "test._domainkey.football.example.com": "v=DKIM1; k=rsa; p=\(RFC8463Tests.rsaPublicKey)",
        ])
        let results = await Self.verify(Array(signed.utf8), dns)
        #expect(results.map(\.result) == [.pass, .pass])
        #expect(results.map(\.selector) == ["brisbane", "test"])
        #expect(results[0].reason == "signature verified (ed25519-sha256, Ed25519 key)")
        #expect(results[1].reason == "signature verified (rsa-sha256, 1024-bit key)")
        #expect(results[0].headerB == "/gCrinpc")
    }

    @Test(arguments: [DKIMAlgorithm.rsa2048, .ed25519])
    func ourSignaturesVerify(algorithm: DKIMAlgorithm) async {
        let key = algorithm == .rsa2048 ? Self.rsa : Self.ed25519
        let dns = Self.dns(["sel._domainkey.football.example.com": key.dnsRecord])
        let results = await Self.verify(Self.signed(key), dns)
        #expect(results.map(\.result) == [.pass])
        #expect(results.first?.domain == "football.example.com")
    }

    /// What a relay may do without breaking relaxed/relaxed (refolding, trailing white space),
    /// and what breaks it.
    @Test(arguments: [
        ("Subject: Is dinner ready?", "subject:   Is dinner\r\n  ready?  ", DKIMResult.pass),
        ("We lost the game.", "We lost the game. \t", .pass),
        ("Joe.\r\n", "Joe.\r\n\r\n\r\n", .pass),
        ("We lost", "We won", .fail),
        ("Subject: Is dinner ready?", "Subject: Is lunch ready?", .fail),
        ("From: Joe", "From: Eve", .fail),
        ("Date:", "From: eve@evil.example\r\nDate:", .fail),  // an added From (oversigned)
    ])
    func changesInTransit(_ change: (String, String, DKIMResult)) async {
        let dns = Self.dns(["sel._domainkey.football.example.com": Self.ed25519.dnsRecord])
        let signed = String(decoding: Self.signed(Self.ed25519), as: UTF8.self)
        let changed = signed.replacingOccurrences(of: change.0, with: change.1)
        #expect(changed != signed)
        #expect(await Self.verify(Array(changed.utf8), dns).map(\.result) == [change.2])
    }

    @Test func bodyChangeIsNamed() async {
        let dns = Self.dns(["sel._domainkey.football.example.com": Self.ed25519.dnsRecord])
        let changed = String(decoding: Self.signed(Self.ed25519), as: UTF8.self).replacingOccurrences(of: "hungry", with: "thirsty")
        let result = await Self.verify(Array(changed.utf8), dns)
        #expect(result.first?.reason == "the body hash did not verify: the body was changed after signing")
    }

    @Test func keyProblems() async {
        let signed = Self.signed(Self.rsa)
        let name = "sel._domainkey.football.example.com"
        let cases: [(FakeAuthDNS, DKIMResult, String)] = [
            (FakeAuthDNS([:]), .permerror, "no key published at \(name)"),
            (FakeAuthDNS([name: [.timeout]]), .temperror, "the key at \(name) could not be looked up: \(name): timeout"),
            (Self.dns([name: "v=DKIM1; k=rsa; p="]), .permerror, "the key at \(name) was revoked (empty p=)"),
            (Self.dns([name: Self.ed25519.dnsRecord]), .permerror, "the key at \(name) is k=ed25519, the signature is a=rsa-sha256"),
            (Self.dns([name: "v=DKIM1; h=sha1; p=\(Self.rsa.publicKeyBase64)"]), .permerror,
             "the key at \(name) does not allow sha256 (h=sha1)"),
            (Self.dns([name: "v=DKIM1; s=tlsrpt; p=\(Self.rsa.publicKeyBase64)"]), .permerror,
             "the key at \(name) is not for email (s=tlsrpt)"),
            (Self.dns([name: "v=DKIM1; p=\(Self.rsa2.publicKeyBase64)"]), .fail,
             "the signature did not verify: a signed header field was changed, or the key does not match"),
            (Self.dns([name: "v=DKIM1; p=!!!"]), .permerror, "the key record at \(name) cannot be read: p= is not base64"),
            (Self.dns([name: "p=\(Self.rsa.publicKeyBase64); v=DKIM1"]), .permerror,
             "the key record at \(name) cannot be read: v=DKIM1 in the key record is not DKIM1 first"),
        ]
        for (dns, result, reason) in cases {
            let got = await Self.verify(signed, dns)
            #expect(got.first?.result == result, "\(reason)")
            #expect(got.first?.reason == reason)
        }
        // A testing key still verifies, and says so.
        let testing = await Self.verify(signed, Self.dns([name: "v=DKIM1; t=y; p=\(Self.rsa.publicKeyBase64)"]))
        #expect(testing.first?.result == .pass)
        #expect(testing.first?.testing == true)
    }

    static let rsa2 = DKIMKey.generate(.rsa2048)

    /// Keys are kept parsed by their record's text: a domain that rotates the key behind a
    /// selector is checked against the new key as soon as DNS serves it.
    @Test func aChangedKeyRecordIsReadAnew() async {
        let name = "sel._domainkey.football.example.com"
        let signed = Self.signed(Self.rsa)
        for (record, result) in [(Self.rsa.dnsRecord, DKIMResult.pass), (Self.rsa2.dnsRecord, .fail), (Self.rsa.dnsRecord, .pass)] {
            #expect(await Self.verify(signed, Self.dns([name: record])).first?.result == result)
        }
        let revoked = await Self.verify(signed, Self.dns([name: "v=DKIM1; k=rsa; p="]))
        #expect(revoked.first?.reason == "the key at \(name) was revoked (empty p=)")
    }

    /// RSA keys under 1024 bits never verify (RFC 8301 §3.2); the RFC 8463 key has 1024 and does.
    @Test func rsaKeyOf512BitsIsRefused() async throws {
        // A 512-bit SubjectPublicKeyInfo (the shape of an old key record).
        let small = "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANN/0DVrRYWH19AsuiTaOuR2QY20X+moDEzmI785+RMJ8pemrTdoJV5eI4ngBQ6pmojk2o3/UT8tJF/L4oNxMV8CAwEAAQ=="
        let signed = Self.signed(Self.rsa)
        let got = await Self.verify(signed, Self.dns(["sel._domainkey.football.example.com": "p=\(small)"]))
        #expect(got.first?.result == .permerror)
        #expect(got.first?.reason == "the key at sel._domainkey.football.example.com is not an RSA public key of at least 1024 bits (RFC 8301)")
    }

    @Test func malformedSignatures() async {
        let cases: [(String, String)] = [
            ("v=1; a=rsa-sha256; d=example.org; s=s; h=to; bh=AAAA; b=AAAA", "h= does not sign From (RFC 6376 §5.4)"),
            ("v=2; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA", "v=2 is not DKIM version 1"),
            ("v=1; a=rsa-md5; d=example.org; s=s; h=from; bh=AAAA; b=AAAA", "the algorithm a=rsa-md5 is not supported"),
            ("v=1; a=rsa-sha256; s=s; h=from; bh=AAAA; b=AAAA", "the signature has no d= tag"),
            ("v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA; i=x@other.org",
             "i=x@other.org is not in d=example.org or a subdomain of it"),
            ("v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA; d=x.org", "the tag d= appears twice"),
            ("v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA; l=-1", "l=-1 is not a length"),
            ("v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA; t=20; x=10", "x= is before t="),
            ("v=1; a=rsa-sha256; c=fancy; d=example.org; s=s; h=from; bh=AAAA; b=AAAA", "c=fancy is not a canonicalization"),
            ("v=1; garbage", "\"garbage\" is not tag=value"),
            ("v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA; q=http", "the query method q=http is not supported"),
        ]
        for (value, reason) in cases {
            let message = Array("DKIM-Signature: \(value)\r\n".utf8) + Self.message
            let got = await Self.verify(message, FakeAuthDNS([:]))
            #expect(got.map(\.result) == [.permerror], "\(value)")
            #expect(got.first?.reason == "the signature cannot be read: \(reason)")
        }
        let sha1 = Array("DKIM-Signature: v=1; a=rsa-sha1; d=example.org; s=s; h=from; bh=AAAA; b=AAAA\r\n".utf8) + Self.message
        #expect(await Self.verify(sha1, FakeAuthDNS([:])).first?.reason == "rsa-sha1 signatures are not accepted (RFC 8301)")
    }

    @Test func expiredSignature() async {
        let value = "v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA; t=100; x=200"
        let message = Array("DKIM-Signature: \(value)\r\n".utf8) + Self.message
        let got = await Self.verify(message, FakeAuthDNS([:]), at: Date(timeIntervalSince1970: 201))
        #expect(got.first?.result == .permerror)
        #expect(got.first?.reason.hasPrefix("the signature expired at 1970-01-01 00:03:20") == true)
    }

    @Test func noSignatureNoResult() async {
        #expect(await Self.verify(Self.message, FakeAuthDNS([:])).isEmpty)
    }

    @Test func atMostFiveSignaturesAreChecked() async {
        var message = Self.message
        for _ in 0..<7 { message = Self.signed(Self.ed25519, message) }
        let dns = Self.dns(["sel._domainkey.football.example.com": Self.ed25519.dnsRecord])
        let results = await Self.verify(message, dns)
        #expect(results.count == 7)
        #expect(results.prefix(5).allSatisfy { $0.result == .pass || $0.result == .fail })
        #expect(results.suffix(2).map(\.result) == [.neutral, .neutral])
    }
}
