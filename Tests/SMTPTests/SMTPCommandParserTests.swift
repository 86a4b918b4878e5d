import Testing

@testable import SMTP

@Suite struct SMTPCommandParserTests {
    static func mb(_ l: String, _ d: String, quoted: Bool = false) -> SMTPMailbox {
        SMTPMailbox(localPart: l, domain: d, isQuoted: quoted)
    }

    static let valid: [(String, SMTPCommand)] = [
        ("EHLO client.example.net", .ehlo("client.example.net")),
        ("ehlo [192.0.2.1]", .ehlo("[192.0.2.1]")),
        ("HELO x", .helo("x")),
        ("MAIL FROM:<alice@example.org>", .mail(mb("alice", "example.org"), MailParameters())),
        ("mail from:<Alice@Example.ORG>", .mail(mb("Alice", "Example.ORG"), MailParameters())),
        ("MAIL FROM: <alice@example.org>", .mail(mb("alice", "example.org"), MailParameters())),
        ("MAIL FROM:<>", .mail(nil, MailParameters())),
        ("MAIL FROM:<a@b.org> SIZE=1000 BODY=8BITMIME", .mail(mb("a", "b.org"), MailParameters(size: 1000, body: .eightBitMIME))),
        ("MAIL FROM:<用户@例え.jp> SMTPUTF8", .mail(mb("用户", "例え.jp"), MailParameters(smtpUTF8: true))),
        ("MAIL FROM:<a@b.org> AUTH=<>", .mail(mb("a", "b.org"), MailParameters(auth: "<>"))),
        ("RCPT TO:<bob@example.org>", .rcpt(mb("bob", "example.org"))),
        ("RCPT TO:<Postmaster>", .rcpt(nil)), ("rcpt to:<POSTMASTER>", .rcpt(nil)),
        ("Rcpt To:<postmaster@example.org>", .rcpt(mb("postmaster", "example.org"))),
        ("RCPT TO:<\"john smith\"@example.org>", .rcpt(mb("john smith", "example.org", quoted: true))),
        ("RCPT TO:<\"a>b\"@example.org>", .rcpt(mb("a>b", "example.org", quoted: true))),
        ("RCPT TO:<\"user@other.com\"@example.org>", .rcpt(mb("user@other.com", "example.org", quoted: true))),
        ("RCPT TO:<@relay.org:bob@example.org>", .rcpt(mb("bob", "example.org"))),
        ("RCPT TO:<@a.org,@b.org:bob@example.org>", .rcpt(mb("bob", "example.org"))),
        ("RCPT TO:<user%other.com@example.org>", .rcpt(mb("user%other.com", "example.org"))),
        ("RCPT TO:<bob@[192.0.2.1]>", .rcpt(mb("bob", "[192.0.2.1]"))),
        ("DATA", .data),
        ("BDAT 1000", .bdat(size: 1000, last: false)),
        ("BDAT 0 LAST", .bdat(size: 0, last: true)),
        ("bdat 5 last", .bdat(size: 5, last: true)),
        ("RSET", .rset), ("NOOP", .noop), ("NOOP anything", .noop), ("QUIT", .quit), ("HELP", .help),
        ("STARTTLS", .starttls),
        ("AUTH PLAIN", .auth(mechanism: "PLAIN", initialResponse: nil)),
        ("AUTH plain AGFsaWNlAHNlY3JldA==", .auth(mechanism: "PLAIN", initialResponse: "AGFsaWNlAHNlY3JldA==")),
        ("AUTH LOGIN", .auth(mechanism: "LOGIN", initialResponse: nil)),
        ("VRFY bob", .vrfy("bob")),
    ]

    @Test(arguments: valid)
    func parses(line: String, command: SMTPCommand) throws {
        #expect(try SMTPCommandParser.parse(Array(line.utf8)) == command)
    }

    /// Each malformed line gets a reply code (and never a crash).
    static let malformed: [(String, Int)] = [
        ("", 500), ("FOO", 500), ("EHLO", 501), ("EHLO a b", 501), ("MAIL", 501), ("MAIL FROM:", 501),
        ("MAIL FROM:alice@example.org", 501), ("MAIL FROM:<alice@example.org", 501), ("MAIL FROM:<alice>", 501),
        ("MAIL FROM:<@example.org>", 501), ("MAIL FROM:<alice@>", 501), ("MAIL FROM:<a..b@example.org>", 501),
        ("MAIL FROM:<a b@example.org>", 501), ("MAIL FROM:<a@b.org> SIZE=x", 501), ("MAIL FROM:<a@b.org> BODY=9BIT", 501),
        ("MAIL FROM:<a@b.org> FOO=1", 555), ("MAIL FROM:<a@b.org> SMTPUTF8=yes", 501), ("RCPT TO:<a@b.org> NOTIFY=NEVER", 555),
        ("RCPT TO:<\"unclosed@example.org>", 501), ("RCPT TO:<a@[192.0.2.1>", 501), ("RCPT TO:<a@b,c.org>", 501),
        ("RCPT TO:<@relay.org bob@example.org>", 501), ("DATA x", 501), ("QUIT now", 501), ("BDAT", 501),
        ("BDAT -1", 501), ("BDAT 10 FIRST", 501), ("BDAT 1 LAST x", 501), ("AUTH", 501),
        ("RCPT TO:<" + String(repeating: "a", count: 300) + "@b.org>", 501),
        ("MAIL FROM:<a\u{1}b@example.org>", 500),
        // Found by the fuzzer: a lone "=" crashed the parameter parser.
        ("MAIL FROM:<a@b.org> =", 501), ("MAIL FROM:<a@b.org> =x", 501), ("MAIL FROM:<a@b.org> SIZE=1 ==", 501),
        // A combining mark after '>' or '@' (the parser scans bytes; these must not be cut off).
        ("RCPT TO:<a@b.org>\u{301}", 555), ("MAIL FROM:<a@b.org>\u{301}", 501), ("RCPT TO:<a@\u{301}b.org>", 501),
        ("RCPT TO:<Postmaster>x", 555), ("RCPT TO:<postmaste>", 501), ("MAIL FROM <a@b.org>", 501),
    ]

    @Test(arguments: malformed)
    func refuses(line: String, code: Int) {
        #expect {
            _ = try SMTPCommandParser.parse(Array(line.utf8))
        } throws: { error in
            (error as? SMTPError)?.reply.code == code
        }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: SMTPError.self) { try SMTPCommandParser.parse([0x45, 0x48, 0x4c, 0x4f, 0x20, 0xff, 0xfe]) }
    }

    @Test func replyEncodingIsMultilineAndNeverSplitByText() {
        let r = SMTPReply(250, nil, ["mail.example.org hello", "PIPELINING", "SIZE 10"])
        #expect(String(decoding: r.encoded(), as: UTF8.self) == "250-mail.example.org hello\r\n250-PIPELINING\r\n250 SIZE 10\r\n")
        let evil = SMTPReply(550, "5.1.1", "no such user x\r\n250 OK")
        #expect(String(decoding: evil.encoded(), as: UTF8.self) == "550 5.1.1 no such user x  250 OK\r\n")
    }
}
