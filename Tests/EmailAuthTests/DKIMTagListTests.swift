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

    /// Found by fuzz/run dkim-key: an empty s= across folded lines is an empty service list.
    @Test func anEmptyServiceListIsKept() throws {
        let text = "MI1K=vs; s" + String(repeating: "\n", count: 110) + "=;p=4g+Q"
        let record = try DKIMPublicKeyRecord(text)
        #expect(record.serviceTypes.isEmpty)
        #expect(try DKIMTagList(text)["s"] == "")
    }
}
