import Foundation
import Testing

@testable import EmailAuth

/// The tag-list syntax of signatures and key records (RFC 6376 §3.2), octet by octet.
struct DKIMTagListTests {
    @Test(arguments: [
        ("v=1; a=rsa-sha256", [("v", "1"), ("a", "rsa-sha256")]),
        // FWS around names and values goes; inside values it stays.
        (" v = 1 ;\r\n\ta=rsa-sha256 ;", [("v", "1"), ("a", "rsa-sha256")]),
        ("h=From : To\r\n :Subject", [("h", "From : To\r\n :Subject")]),
        // An empty value, and the optional final ";".
        ("s=; p=abc;", [("s", ""), ("p", "abc")]),
        ("s\n\n\n=;p=4g+Q", [("s", ""), ("p", "4g+Q")]),
        ("", []),
        (";;", []),
    ])
    func parses(_ text: String, _ expected: [(String, String)]) throws {
        let list = try DKIMTagList(text)
        #expect(list.tags.map(\.name) == expected.map(\.0))
        #expect(list.tags.map(\.value) == expected.map(\.1))
        for (name, value) in expected { #expect(list[name] == value) }
    }

    @Test(arguments: [
        "v", "=1", "1v=1", "v-x=1", "v=1; v=2", "v=1\u{0}", "v=caf\u{E9}", "n\u{E9}=1", "v=a;b",
    ])
    func refusesMalformed(_ text: String) {
        #expect(throws: DKIMVerifyError.self) { try DKIMTagList(text) }
    }

    @Test func base64ValuesLoseAllFoldingWhiteSpace() {
        #expect(DKIMTagList.withoutFWS("ab c\r\n\td=") == "abcd=")
        #expect(DKIMTagList.withoutFWS("") == "")
    }

    /// Base64 values decoded as they are written: folded anywhere, padding optional (RFC 6376
    /// §2.4); every length of data, each cut and folded, gives back its bytes.
    @Test func base64ValuesDecodeFoldedAndUnpadded() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
            let text = Data(bytes).base64EncodedString()
            #expect(DKIMTagList.base64(text) == bytes)
            #expect(DKIMTagList.base64(text.replacingOccurrences(of: "=", with: "")) == bytes)
            var folded = ""
            for (i, c) in text.enumerated() { folded += (i % 5 == 4 ? "\r\n\t" : i % 3 == 2 ? " " : "") + String(c) }
            #expect(DKIMTagList.base64(folded + " ") == bytes, "\(folded)")
        }
    }

    @Test(arguments: ["a", "ab=c", "abc==d", "ab===", "ab*d", "ab\u{E9}d", "abcde", "=", "ab=\r\n c"])
    func base64RefusesWhatIsNotBase64(_ text: String) {
        #expect(DKIMTagList.base64(text) == nil)
    }

    /// The signature's own field as it is hashed (RFC 6376 §3.7): b= empty, everything else,
    /// folding included, byte for byte; bh= is not b=.
    @Test(arguments: [
        ("DKIM-Signature: v=1; bh=xyz; b=abc\r\n de; d=x\r\n", "DKIM-Signature: v=1; bh=xyz; b=; d=x\r\n"),
        ("DKIM-Signature: b\r\n = abc;a=1\r\n", "DKIM-Signature: b\r\n =;a=1\r\n"),
        ("DKIM-Signature: a=1; b=abc\r\n", "DKIM-Signature: a=1; b=\r\n"),
        ("DKIM-Signature: a=1; bb=2\r\n", "DKIM-Signature: a=1; bb=2\r\n"),
        ("no colon", "no colon"),
    ])
    func emptyingBKeepsEverythingElse(_ field: String, _ expected: String) {
        #expect(String(decoding: DKIMVerifier.emptyingB(Array(field.utf8)), as: UTF8.self) == expected)
    }

    @Test(arguments: [
        ("example.org", true), ("a.b-c.d_e", true), ("x", true), ("1.2", true),
        (String(repeating: "a", count: 63) + ".org", true), (String(repeating: "a", count: 64) + ".org", false),
        ("", false), ("example..org", false), (".example", false), ("example.", false), ("-a.org", false),
        ("a-.org", false), ("a.org-", false), ("a.-b.org", false), ("a b.org", false), ("caf\u{E9}.org", false),
        (Array(repeating: "abcdefghi", count: 26).joined(separator: "."), false),
    ])
    func dnsNamesInSignatures(_ name: String, _ valid: Bool) {
        #expect(DKIMSigner.isValidDNSName(name) == valid)
    }

    /// Found by fuzz/run dkim-key: an empty s= across folded lines is an empty service list.
    /// `header.b` is the first 8 characters of `b=` however the signer folded it.
    @Test func theSignaturePrefixSkipsFoldingWhiteSpace() throws {
        let field = try DKIMSignatureField(
            "v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=\r\n /gCr\r\n\tinp cQOoIfuH")
        #expect(field.signaturePrefix == "/gCrinpc")
        #expect(field.signature.count == 11)  // 15 characters: 3 groups of 3 bytes, then 2
    }

    @Test func anEmptyServiceListIsKept() throws {
        let text = "MI1K=vs; s" + String(repeating: "\n", count: 110) + "=;p=4g+Q"
        let record = try DKIMPublicKeyRecord(text)
        #expect(record.serviceTypes.isEmpty)
        #expect(try DKIMTagList(text)["s"] == "")
    }
}
