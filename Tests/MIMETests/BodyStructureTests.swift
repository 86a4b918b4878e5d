import Testing

@testable import MIME

@Suite struct BodyStructureTests {
    /// RFC 3501 §7.4.2's BODY example, rebuilt: a 1152-octet, 23-line text part and a
    /// 4554-octet, 73-line base64 part, every line ended by its CRLF and then the CRLF that
    /// belongs to the boundary (RFC 2046 §5.1.1).
    static var rfc3501Example: [UInt8] {
        let line48 = String(repeating: "x", count: 48)
        let text = (Array(repeating: line48, count: 22) + [String(repeating: "y", count: 50)]).map { $0 + "\r\n" }.joined()
        let b64 = (Array(repeating: String(repeating: "A", count: 60), count: 72) + [String(repeating: "B", count: 88)]).map { $0 + "\r\n" }.joined()
        let message = """
            MIME-Version: 1.0\r
            Content-Type: MULTIPART/MIXED; BOUNDARY="4077"\r
            \r
            --4077\r
            Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r
            \r
            \(text)\r
            --4077\r
            Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r
            Content-ID: <960723163407.20117h@cac.washington.edu>\r
            Content-Description: Compiler diff\r
            Content-Transfer-Encoding: BASE64\r
            \r
            \(b64)\r
            --4077--\r

            """
        return Array(message.utf8)
    }

    @Test func rfc3501Body() {
        let m = ParsedMessage(parsing: Self.rfc3501Example)
        #expect(
            Fixtures.text(m.bodyStructure(extensible: false))
                == #"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")"#
        )
    }

    /// (fixture, extensible, exact bytes)
    static let structures: [(String, [UInt8], Bool, String)] = [
        (
            "rfc3501", Fixtures.rfc3501, true,
            #"("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 8 1 NIL NIL NIL NIL)"#
        ),
        ("simple", Fixtures.simple, false, #"("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 14 2)"#),
        (
            "nested", Fixtures.nested, true,
            #"(((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 16 0 NIL NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 19 0 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "alt") NIL NIL NIL)("APPLICATION" "PDF" ("NAME" "report.pdf") NIL NIL "BASE64" 12 NIL ("ATTACHMENT" ("FILENAME" "report.pdf")) NIL NIL) "MIXED" ("BOUNDARY" "mix") NIL NIL NIL)("IMAGE" "PNG" NIL "<logo@example.com>" NIL "BASE64" 12 NIL ("INLINE" NIL) NIL NIL) "RELATED" ("BOUNDARY" "rel" "TYPE" "multipart/mixed") NIL NIL NIL)"#
        ),
        (
            "nested", Fixtures.nested, false,
            #"(((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 16 0)("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 19 0) "ALTERNATIVE")("APPLICATION" "PDF" ("NAME" "report.pdf") NIL NIL "BASE64" 12) "MIXED")("IMAGE" "PNG" NIL "<logo@example.com>" NIL "BASE64" 12) "RELATED")"#
        ),
        // message/rfc822: envelope, body and line count of the encapsulated message.
        (
            "forwarded", Fixtures.forwarded, true,
            #"(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 0 NIL NIL NIL NIL)("MESSAGE" "RFC822" NIL NIL "forwarded" "7BIT" 115 ("Tue, 1 Apr 2025 12:00:00 +0200" "Lunch" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) ((NIL NIL "bob" "example.net")) NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 5 0 NIL NIL NIL NIL) 5 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b1") NIL NIL NIL)"#
        ),
        (
            "forwarded-multipart", Fixtures.forwardedMultipart, false,
            #"(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 3 0)("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 198 (NIL "inner" ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) NIL NIL NIL NIL NIL) (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 5 0)("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 11 0) "ALTERNATIVE") 12) "MIXED")"#
        ),
        // RFC 2231 values that are not ASCII go back out as RFC 2231 UTF-8.
        (
            "rfc2231", Fixtures.rfc2231, true,
            #"(("APPLICATION" "OCTET-STREAM" ("NAME*" "utf-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt") NIL NIL "7BIT" 4 NIL ("ATTACHMENT" ("FILENAME*" "utf-8''r%C3%A9sum%C3%A9.pdf")) NIL NIL) "MIXED" ("BOUNDARY" "x") NIL NIL NIL)"#
        ),
        (
            "digest", Fixtures.digest, false,
            #"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 21 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 5 0) 2)("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 22 (NIL "two" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 6 0) 2) "DIGEST")"#
        ),
        (
            "bare LF", Fixtures.bareLF, false,
            #"(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 3 0)("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 9 1) "MIXED")"#
        ),
        (
            "missing final boundary", Fixtures.missingFinalBoundary, false,
            #"(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 5 0)("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 15 0) "MIXED")"#
        ),
        ("no blank line", Fixtures.noBlankLine, false, #"("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0)"#),
        // A multipart without boundary, or with no parts, is shown as text (IMAP needs ≥1 body).
        (
            "no boundary", Fixtures.crlf("Content-Type: multipart/mixed\n\nhello\n"), false,
            #"("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 7 1)"#
        ),
        (
            "no parts", Fixtures.crlf("Content-Type: multipart/mixed; boundary=b\n\nhello\n--b--\n"), false,
            #"("TEXT" "PLAIN" ("CHARSET" "us-ascii" "BOUNDARY" "b") NIL NIL "7BIT" 14 2)"#
        ),
        // A base64 message/rfc822 is not parsed inside, so it is an opaque attachment.
        (
            "encoded rfc822", Fixtures.crlf("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA==\n"), false,
            #"("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 18)"#
        ),
        (
            "language and location", Fixtures.crlf("Content-Type: text/plain; charset=\"utf-8\" (comment)\nContent-Language: en, de\nContent-Location: http://x/y\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\nContent-Disposition: inline; filename=a.txt\n\nx"), true,
            #"("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 1 0 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("INLINE" ("FILENAME" "a.txt")) ("en" "de") "http://x/y")"#
        ),
    ]

    @Test(arguments: structures)
    func bodyStructure(name: String, bytes: [UInt8], extensible: Bool, expected: String) {
        #expect(Fixtures.text(ParsedMessage(parsing: bytes).bodyStructure(extensible: extensible)) == expected, "\(name)")
    }

    @Test func bodyStructureOfEncapsulatedMessage() throws {
        let m = ParsedMessage(parsing: Fixtures.forwarded)
        let inner = try #require(m.part(at: [2])?.message)
        #expect(Fixtures.text(m.envelope(of: inner)).hasPrefix(#"("Tue, 1 Apr 2025 12:00:00 +0200" "Lunch""#))
        #expect(Fixtures.text(m.bodyStructure(of: inner, extensible: false)) == #"("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 5 0)"#)
    }
}
