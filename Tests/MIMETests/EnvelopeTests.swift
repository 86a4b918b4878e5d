import Testing

@testable import MIME

@Suite struct EnvelopeTests {
    /// (fixture, exact ENVELOPE bytes)
    static let envelopes: [(String, [UInt8], String)] = [
        // RFC 3501 §8, FETCH 12, with its line breaks joined.
        (
            "rfc3501", Fixtures.rfc3501,
            #"("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")"#
        ),
        // Groups, a quoted display name with escapes, a source route, a bare local part.
        (
            "groups", Fixtures.groups,
            #"(NIL "groups" (("Smith, John \"JJ\"" NIL "john" "example.com")) (("Smith, John \"JJ\"" NIL "john" "example.com")) (("Smith, John \"JJ\"" NIL "john" "example.com")) ((NIL NIL "A Group" NIL)(NIL NIL "alice" "example.org")("Bob B." NIL "bob" "example.net")(NIL NIL NIL NIL)(NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ((NIL "@relay.example" "carol" "example.com")(NIL NIL "dave" "MISSING_DOMAIN")) NIL NIL NIL)"#
        ),
        // Encoded words stay encoded in ENVELOPE; the client decodes them.
        (
            "encoded", Fixtures.encodedSubjects,
            #"(NIL "=?UTF-8?B?SGVsbG8g?= =?UTF-8?B?V29ybGQg4pyT?=" (("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) (("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) (("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) (("=?UTF-8?B?0JjQstCw0L0=?=" NIL "ivan" "example.ru")) NIL NIL NIL NIL)"#
        ),
        ("missing headers", Fixtures.crlf("X-Other: 1\n\nbody\n"), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"),
        ("empty message", [], "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"),
        // Folded subject is unfolded; sender and reply-to given explicitly.
        (
            "folded", Fixtures.crlf("Subject: a\n  long\n\tsubject\nFrom: a@x.org\nSender: s@x.org\nReply-To: r@x.org\nIn-Reply-To: <p@x.org>\n\n"),
            "(NIL \"a  long\tsubject\" " + #"((NIL NIL "a" "x.org")) ((NIL NIL "s" "x.org")) ((NIL NIL "r" "x.org")) NIL NIL NIL "<p@x.org>" NIL)"#
        ),
        // 8-bit header bytes (RFC 6532) go as a literal.
        ("utf8 subject", Array("Subject: Grüße\r\n\r\n".utf8), "(NIL {7}\r\nGrüße NIL NIL NIL NIL NIL NIL NIL NIL)"),
    ]

    @Test(arguments: envelopes)
    func envelope(name: String, bytes: [UInt8], expected: String) {
        #expect(Fixtures.text(ParsedMessage(parsing: bytes).envelope()) == expected, "\(name)")
    }

    /// (address header value, expected address list)
    static let addresses: [(String, String)] = [
        ("a@b.c", #"((NIL NIL "a" "b.c"))"#),
        ("<a@b.c>", #"((NIL NIL "a" "b.c"))"#),
        ("A B <a@b.c>", #"(("A B" NIL "a" "b.c"))"#),
        (#""A \\ B" <a@b.c>"#, #"(("A \\ B" NIL "a" "b.c"))"#),
        // The old form: a comment after an addr-spec is its name (as Dovecot and Cyrus show it).
        ("a@b.c (Comment)", #"(("Comment" NIL "a" "b.c"))"#),
        ("a@b.c (Real (nested) \\) Name)", #"(("Real (nested) ) Name" NIL "a" "b.c"))"#),
        ("a@b.c ()", #"((NIL NIL "a" "b.c"))"#),
        ("(before) a@b.c", #"((NIL NIL "a" "b.c"))"#),
        (#""john smith"@b.c"#, #"((NIL NIL "\"john smith\"" "b.c"))"#),
        ("a@[192.0.2.1]", #"((NIL NIL "a" "[192.0.2.1]"))"#),
        ("<a@>", #"((NIL NIL "a" "MISSING_DOMAIN"))"#),
        ("<@b.c>", #"((NIL NIL "MISSING_MAILBOX" "b.c"))"#),
        ("g: ;", #"((NIL NIL "g" NIL)(NIL NIL NIL NIL))"#),
        ("g: a@b.c", #"((NIL NIL "g" NIL)(NIL NIL "a" "b.c")(NIL NIL NIL NIL))"#),
        ("a@b.c,, ,c@d.e", #"((NIL NIL "a" "b.c")(NIL NIL "c" "d.e"))"#),
        ("", "NIL"),
        (",;<>", #"((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"#),
        ("Name <a@b.c", #"(("Name" NIL "a" "b.c"))"#),
    ]

    @Test(arguments: addresses)
    func addressList(value: String, expected: String) {
        var out: [UInt8] = []
        Envelope.append(AddressParser.parse(Array(value.utf8)), to: &out)
        #expect(Fixtures.text(out) == expected)
    }
}
