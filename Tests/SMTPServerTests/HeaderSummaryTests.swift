import Delivery
import Testing

/// What delivery reads from a header section: the fields it keeps, in any case, folded or not,
/// and nothing past the header's end.
@Suite struct HeaderSummaryTests {
    static func summary(_ text: String) -> HeaderSummary { HeaderSummary(Array(text.utf8)) }

    @Test func readsTheFieldsItKeeps() {
        let h = Self.summary(
            "Received: from a\r\n\tby b; Mon, 1 Dec 2026 10:00:00 +0000\r\n"
                + "DKIM-Signature: v=1; a=rsa-sha256; d=example.org;\r\n\tb=abc\r\n"
                + "RECEIVED: from c by d\r\n"
                + "Message-ID:  <m1@example.org> \r\n"
                + "subject: Hello\r\n   world\r\n"
                + "From: Ann <ann@example.org>\r\n"
                + "Delivered-To: Bob@Example.ORG\r\n"
                + "delivered-to: carl@example.org\r\n"
                + "References: <r1@x>\r\n <r2@x>\r\n"
                + "\r\n"
                + "Subject: not a header\r\nReceived: nor this\r\n")
        #expect(h.receivedCount == 2)
        #expect(h.messageID == "m1@example.org")
        #expect(h.subject == "Hello   world")
        #expect(h.from == "Ann <ann@example.org>")
        #expect(h.deliveredTo == ["bob@example.org", "carl@example.org"])
        #expect(h.references == "<r1@x> <r2@x>")
    }

    @Test func theFirstOfEachFieldCounts() {
        let h = Self.summary("Subject: one\nSubject: two\nMessage-Id: bare-id\nMessage-ID: <second>\n\nbody")
        #expect(h.subject == "one")
        #expect(h.messageID == "bare-id")
    }

    @Test(arguments: [
        "", "\r\n", "no colon here\r\n\r\n", " folded first\r\nSubject: x", "Subject :spaced\r\n", "X-Subject: y\r\n",
    ])
    func malformedOrMissingFieldsGiveNothing(_ text: String) {
        let h = Self.summary(text)
        #expect(h.subject == (text.hasSuffix("Subject: x") ? "x" : nil))
        #expect(
            h.messageID == nil && h.from == nil && h.references == nil && h.receivedCount == 0 && h.deliveredTo.isEmpty)
    }
}
