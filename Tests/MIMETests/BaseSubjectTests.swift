import Testing

@testable import MIME

/// RFC 5256 §2.1's base subject, one rule per row, and the fields SORT and THREAD read back
/// from a stored ENVELOPE.
struct BaseSubjectTests {
    static let table: [(raw: String, base: String, reply: Bool)] = [
        ("Lunch", "Lunch", false),
        // (1) encoded words decoded; tabs, folds and runs of spaces one space.
        ("=?utf-8?q?caf=C3=A9?= time", "café time", false),
        ("a\t b \r\n  c", "a b c", false),
        // (2) trailers: "(fwd)" and whitespace, repeatedly.
        ("Lunch (fwd)", "Lunch", true),
        ("Lunch (FWD) (fwd)  ", "Lunch", true),
        ("Lunch(fwd)", "Lunch", true),
        // (3) leaders: re, fw, fwd, with blobs before or inside, repeatedly.
        ("Re: Lunch", "Lunch", true),
        ("RE:Lunch", "Lunch", true),
        ("re : Lunch", "Lunch", true),
        ("Fw: Lunch", "Lunch", true),
        ("FWD: Lunch", "Lunch", true),
        ("Re: Re: Fwd: Lunch", "Lunch", true),
        ("Re[2]: Lunch", "Lunch", true),
        ("[list] Re: Lunch", "Lunch", true),
        ("Re: [list] Re: Lunch", "Lunch", true),
        ("Reply: Lunch", "Reply: Lunch", false),
        ("Re Lunch", "Re Lunch", false),
        // (4) a leading blob goes only if text remains.
        ("[list] Lunch", "Lunch", false),
        ("[a][b] Lunch", "Lunch", false),
        ("[list]", "[list]", false),
        ("[a] [b]", "[b]", false),
        ("[a[b] Lunch", "[a[b] Lunch", false),
        // (6) "[fwd: ...]" wrappers, then from (2) again.
        ("[Fwd: Lunch]", "Lunch", true),
        ("[fwd: Re: Lunch (fwd)]", "Lunch", true),
        ("Re: [fwd: [fwd: Lunch]]", "Lunch", true),
        ("[fwd: Lunch", "[fwd: Lunch", false),
        ("", "", false),
        ("   ", "", false),
        ("Re:", "", true),
    ]

    @Test(arguments: table.indices)
    func extractsTheBaseSubject(_ i: Int) {
        let row = Self.table[i]
        let b = BaseSubject(row.raw)
        #expect(b.text == row.base, "\(row.raw)")
        #expect(b.isReplyOrForward == row.reply, "\(row.raw)")
    }

    @Test func readsTheFieldsBackFromAStoredEnvelope() {
        let message = Array(
            """
            Date: Mon, 2 Mar 2026 10:00:00 +0100\r
            Subject: =?utf-8?q?R=C3=A9?= "quoted" \\ back\r
            From: undisclosed:;, "Ann \\"A\\" Lee" <Ann@Example.NET>\r
            Cc: "Ann \\"A\\" Lee" <Ann@Example.NET>\r
            To: =?iso-8859-1?q?Andr=E9?= <andre@example.org>, bob@example.org\r
            Message-ID: <m1@example.net>\r
            In-Reply-To: <m0@example.net>\r
            \r
            body\r

            """.utf8)
        let envelope = ParsedMessage(parsing: message).envelope()
        let f = EnvelopeFields(imap: envelope)
        #expect(f != nil, "\(String(decoding: envelope, as: UTF8.self))")
        #expect(f?.date == Array("Mon, 2 Mar 2026 10:00:00 +0100".utf8))
        #expect(f.map { String(decoding: $0.subject ?? [], as: UTF8.self) } == "=?utf-8?q?R=C3=A9?= \"quoted\" \\ back")
        // The first address is the group's start: its name is the addr-mailbox.
        #expect(f?.from == EnvelopeAddress(name: nil, mailbox: Array("undisclosed".utf8), host: nil))
        #expect(f?.from?.displayName == "undisclosed")
        #expect(f?.to?.displayName == "André")
        #expect(f?.cc?.mailbox == Array("Ann".utf8))
        #expect(f?.cc?.displayName == "Ann \"A\" Lee")
        #expect(f?.messageID.flatMap { MessageIDs.first(in: $0) } == "m1@example.net")
        #expect(f?.inReplyTo.flatMap { MessageIDs.first(in: $0) } == "m0@example.net")
        // Only the parts asked for are copied out.
        let some = EnvelopeFields(imap: envelope, parts: [.to, .ids])
        #expect(some?.to == f?.to && some?.messageID == f?.messageID && some?.inReplyTo == f?.inReplyTo)
        #expect(some?.date == nil && some?.subject == nil && some?.from == nil && some?.cc == nil)
        // Without a display name, the addr-spec (RFC 5957).
        #expect(EnvelopeAddress(name: nil, mailbox: Array("bob".utf8), host: Array("example.org".utf8)).displayName == "bob@example.org")
        // Literals, as an envelope with 8-bit text holds them.
        let literal = Array("(NIL {4}\r\nh\u{e9}! ((NIL NIL \"x\" \"y\")) NIL NIL NIL NIL NIL NIL NIL)".utf8)
        #expect(EnvelopeFields(imap: literal)?.subject == Array("h\u{e9}!".utf8))
        #expect(EnvelopeFields(imap: Array("(NIL".utf8)) == nil)
        #expect(EnvelopeFields(imap: []) == nil)
    }

    static let ids: [(String, [String])] = [
        ("<a@x> <b@y>", ["a@x", "b@y"]),
        ("<a@x>\r\n\t<b@y>", ["a@x", "b@y"]),
        ("Your message of Monday <a@x> (comment)", ["a@x"]),
        ("<no-at-sign> <a@x>", ["a@x"]),
        ("<a @x> <b@y", []),
        ("<<a@x>", ["a@x"]),
        ("", []),
    ]

    @Test(arguments: ids.indices)
    func findsMessageIDs(_ i: Int) {
        #expect(MessageIDs.all(in: Array(Self.ids[i].0.utf8)) == Self.ids[i].1)
    }

    @Test func threadReferencesFallBackToInReplyTo() {
        let withRefs = Array("In-Reply-To: <c@x>\r\nReferences: <a@x>\r\n <b@x>\r\n\r\nReferences: <no@x>\r\n".utf8)
        #expect(MessageIDs.threadReferences(message: withRefs) == ["a@x", "b@x"])
        let brokenRefs = Array("References: junk\r\nIn-Reply-To: phrase <c@x> <d@x>\r\n\r\n".utf8)
        #expect(MessageIDs.threadReferences(message: brokenRefs) == ["c@x"])
        #expect(MessageIDs.threadReferences(message: Array("Subject: x\r\n\r\n".utf8)) == [])
    }
}
