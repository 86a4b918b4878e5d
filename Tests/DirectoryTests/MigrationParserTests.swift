import Testing

@testable import Directory

@Suite struct DovecotPasswdTests {
    static let good: [(String, DovecotPasswd.Entry)] = [
        (
            "alice@example.org:{PLAIN}secret-one",
            .init(line: 1, user: "alice@example.org", password: "{PLAIN}secret-one")
        ),
        (
            "bob:{PLAIN}pw:1000:1000::/home/bob::userdb_quota_rule=*:storage=1G",
            .init(
                line: 1, user: "bob", password: "{PLAIN}pw",
                rest: ["1000", "1000", "", "/home/bob", "", "userdb_quota_rule=*:storage=1G"])
        ),
        // Dovecot's default scheme is CRYPT: a bare crypt string is given its scheme.
        (
            "carol@example.org:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5:::",
            .init(
                line: 1, user: "carol@example.org",
                password: "{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", rest: ["", "", ""])
        ),
        ("dave@example.org::::", .init(line: 1, user: "dave@example.org", password: "", rest: ["", "", ""])),
    ]

    @Test(arguments: good)
    func parsesALine(_ line: String, _ expected: DovecotPasswd.Entry) throws {
        let (entries, errors) = DovecotPasswd.parse(line)
        #expect(errors.isEmpty)
        #expect(entries == [expected])
    }

    @Test func formatRoundTrips() {
        let text =
            "alice@example.org:{PLAIN}secret-one\nbob:{PLAIN}pw:1000:1000::/home/bob::userdb_quota_rule=*:storage=1G\n"
        let (entries, _) = DovecotPasswd.parse(text)
        #expect(entries.map(DovecotPasswd.format).joined(separator: "\n") + "\n" == text)
        #expect(DovecotPasswd.parse(entries.map(DovecotPasswd.format).joined(separator: "\n")).entries == entries)
    }

    @Test func skipsCommentsAndBlankLinesKeepingLineNumbers() {
        let (entries, errors) = DovecotPasswd.parse(
            "# users\n\n   \r\nalice@example.org:{PLAIN}x\r\n  # indented comment\nbob@example.org:{PLAIN}y")
        #expect(errors.isEmpty)
        #expect(entries.map(\.line) == [4, 6])
        #expect(entries[0].password == "{PLAIN}x")
    }

    static let bad: [(String, Int, String)] = [
        ("alice@example.org:{PLAIN}a\n:{PLAIN}x", 2, "no user name"),
        ("alice@example.org", 1, "no password field"),
        ("\n\nalice@example.org:{MD5}abc", 3, "cannot check"),
        ("alice@example.org:$1$md5crypt$abc", 1, "does not start with {SCHEME}"),
        ("alice@example.org:{SHA512-CRYPT}$6$short$x", 1, "86 characters"),
        ("alice@example.org:{BLF-CRYPT}$2y$40$" + String(repeating: "a", count: 53), 1, "cost 40"),
    ]

    @Test(arguments: bad)
    func refusesBadLinesByNumber(_ text: String, _ line: Int, _ reason: String) {
        let (_, errors) = DovecotPasswd.parse(text)
        #expect(errors.count == 1)
        #expect(errors.first?.line == line)
        #expect(errors.first?.message.contains(reason) == true, "\(errors)")
    }
}

@Suite struct PostfixVirtualTests {
    static let good: [(String, [PostfixVirtual.Entry])] = [
        (
            "info@example.org alice@example.org",
            [.init(line: 1, key: "info@example.org", values: ["alice@example.org"])]
        ),
        (
            "info@example.org\talice@example.org,bob@example.org ,  carol@other.net",
            [
                .init(
                    line: 1, key: "info@example.org",
                    values: ["alice@example.org", "bob@example.org", "carol@other.net"])
            ]
        ),
        ("@example.org catchall@example.org", [.init(line: 1, key: "@example.org", values: ["catchall@example.org"])]),
        (
            "alice@example.org   example.org/alice/",
            [.init(line: 1, key: "alice@example.org", values: ["example.org/alice/"])]
        ),
        // postmap(1): a line starting with whitespace continues the logical line before it.
        (
            "# header\nteam@example.org alice@example.org,\n   bob@example.org\n\nx@example.org y@example.org",
            [
                .init(line: 2, key: "team@example.org", values: ["alice@example.org", "bob@example.org"]),
                .init(line: 5, key: "x@example.org", values: ["y@example.org"]),
            ]
        ),
        (
            "a@example.org b@example.org\r\n c@example.org\r\nd@example.org e@example.org\r\n",
            [
                .init(line: 1, key: "a@example.org", values: ["b@example.org", "c@example.org"]),
                .init(line: 3, key: "d@example.org", values: ["e@example.org"]),
            ]
        ),
    ]

    @Test(arguments: good)
    func parses(_ text: String, _ expected: [PostfixVirtual.Entry]) {
        let (entries, errors) = PostfixVirtual.parse(text)
        #expect(errors.isEmpty)
        #expect(entries == expected)
    }

    @Test(arguments: good)
    func formatRoundTrips(_ text: String, _ expected: [PostfixVirtual.Entry]) {
        let again = PostfixVirtual.parse(expected.map(PostfixVirtual.format).joined(separator: "\n")).entries
        #expect(again.map(\.key) == expected.map(\.key))
        #expect(again.map(\.values) == expected.map(\.values))
    }

    static let bad: [(String, Int, String)] = [
        ("  alice@example.org bob@example.org", 1, "continues no line"),
        ("a@example.org b@example.org\nlonely@example.org", 2, "has no value"),
        ("# c\n\nlonely@example.org   ", 3, "has no value"),
    ]

    @Test(arguments: bad)
    func refusesBadLinesByNumber(_ text: String, _ line: Int, _ reason: String) {
        let (_, errors) = PostfixVirtual.parse(text)
        #expect(errors.count == 1)
        #expect(errors.first?.line == line)
        #expect(errors.first?.message.contains(reason) == true, "\(errors)")
    }
}
