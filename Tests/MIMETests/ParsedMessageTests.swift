import Foundation
import Testing

@testable import MIME

@Suite struct ParsedMessageTests {
    /// (fixture, section path, expected "type/subtype", or nil if the section does not exist)
    static let sections: [(String, [UInt8], [Int], String?)] = [
        ("simple", Fixtures.simple, [], "text/plain"),
        ("simple", Fixtures.simple, [1], "text/plain"),
        ("simple", Fixtures.simple, [2], nil),
        ("simple", Fixtures.simple, [1, 1], nil),
        ("nested", Fixtures.nested, [], "multipart/related"),
        ("nested", Fixtures.nested, [1], "multipart/mixed"),
        ("nested", Fixtures.nested, [1, 1], "multipart/alternative"),
        ("nested", Fixtures.nested, [1, 1, 1], "text/plain"),
        ("nested", Fixtures.nested, [1, 1, 2], "text/html"),
        ("nested", Fixtures.nested, [1, 2], "application/pdf"),
        ("nested", Fixtures.nested, [2], "image/png"),
        ("nested", Fixtures.nested, [3], nil),
        ("nested", Fixtures.nested, [0], nil),
        ("forwarded", Fixtures.forwarded, [2], "message/rfc822"),
        ("forwarded", Fixtures.forwarded, [2, 1], "text/plain"),
        ("forwarded", Fixtures.forwarded, [2, 2], nil),
        ("forwarded-multipart", Fixtures.forwardedMultipart, [2], "message/rfc822"),
        ("forwarded-multipart", Fixtures.forwardedMultipart, [2, 1], "text/plain"),
        ("forwarded-multipart", Fixtures.forwardedMultipart, [2, 2], "text/html"),
        ("forwarded-multipart", Fixtures.forwardedMultipart, [2, 3], nil),
        ("digest", Fixtures.digest, [1], "message/rfc822"),
        ("digest", Fixtures.digest, [2, 1], "text/plain"),
        ("bare-lf", Fixtures.bareLF, [2], "text/plain"),
        ("missing-final-boundary", Fixtures.missingFinalBoundary, [2], "text/plain"),
    ]

    @Test(arguments: sections)
    func section(name: String, bytes: [UInt8], path: [Int], expected: String?) {
        let part = ParsedMessage(parsing: bytes).part(at: path)
        #expect(part.map { "\($0.type)/\($0.subtype)" } == expected, "\(name) \(path)")
    }

    /// The body bytes of a section, as FETCH BODY[n] returns them.
    static let bodies: [([UInt8], [Int], String)] = [
        (Fixtures.simple, [1], "Noon?\r\nAlice\r\n"),
        (Fixtures.nested, [1, 1, 1], "Caf=C3=A9 report"),
        (Fixtures.nested, [1, 2], "JVBERi0xLjQK"),
        (Fixtures.forwarded, [2, 1], "Noon?"),
        (Fixtures.forwardedMultipart, [2, 2], "<b>html</b>"),
        (Fixtures.bareLF, [2], "two\nthree"),
        (Fixtures.missingFinalBoundary, [2], "second and last"),
        (Fixtures.noBlankLine, [1], ""),
    ]

    @Test(arguments: bodies)
    func body(bytes: [UInt8], path: [Int], expected: String) throws {
        let part = try #require(ParsedMessage(parsing: bytes).part(at: path))
        #expect(Fixtures.text(Array(bytes[part.bodyRange])) == expected)
    }

    @Test func headerRangeIncludesEmptyLine() throws {
        let m = ParsedMessage(parsing: Fixtures.simple)
        let header = Fixtures.text(Array(Fixtures.simple[m.root.headerRange]))
        #expect(header.hasPrefix("From: Alice"))
        #expect(header.hasSuffix("Message-ID: <lunch.1@example.org>\r\n\r\n"))
        let noBlank = ParsedMessage(parsing: Fixtures.noBlankLine)
        #expect(noBlank.root.headerRange == 0..<Fixtures.noBlankLine.count)
        #expect(noBlank.root.bodyRange.isEmpty)
    }

    @Test func partFields() throws {
        let m = ParsedMessage(parsing: Fixtures.nested)
        let pdf = try #require(m.part(at: [1, 2]))
        #expect(pdf.encoding == "base64")
        #expect(pdf.disposition == MIMEDisposition(type: "attachment", parameters: [MIMEParameter(name: "filename", value: "report.pdf")]))
        #expect(m.part(at: [2])?.id == "<logo@example.com>")
        #expect(m.root.parameter("type") == "multipart/mixed")
        // "Caf=C3=A9 report" then the boundary: the CRLF before it is the boundary's.
        #expect(m.part(at: [1, 1, 1])?.bodyLines == 0)
    }

    /// body-fld-lines counts a body's line breaks; in a multipart, the CRLF before a boundary
    /// belongs to the boundary (RFC 2046 §5.1.1), so a part's last line adds none.
    @Test(arguments: [
        ("one line", 0), ("one line\r\n", 1), ("a\r\nb", 1), ("a\r\nb\r\n", 2), ("a\nb\n\n", 3), ("", 0),
    ])
    func linesOfAPartCountItsOwnLineBreaks(body: String, lines: Int) throws {
        let message = Array("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n\(body)\r\n--b--\r\n".utf8)
        #expect(ParsedMessage(parsing: message).part(at: [1])?.bodyLines == lines)
        // A single-part message counts the same way.
        #expect(ParsedMessage(parsing: Array("Subject: x\r\n\r\n\(body)".utf8)).root.bodyLines == lines)
    }

    @Test func rfc2231Parameters() throws {
        let m = ParsedMessage(parsing: Fixtures.rfc2231)
        let part = try #require(m.part(at: [1]))
        #expect(part.parameter("name") == "日本語.txt")
        #expect(part.parameters.first?.charset == "utf-8")
        #expect(part.disposition?.parameters.first?.value == "résumé.pdf")
    }

    @Test func searchFields() {
        let s = ParsedMessage(parsing: Fixtures.encodedSubjects).searchFields()
        #expect(s.subject == "Hello World ✓")
        #expect(s.from == "André Pirard <PIRARD@vm1.ulg.ac.be>")
        #expect(s.to == "Иван <ivan@example.ru>")
        #expect(s.body == "Grüße aus Köln\r\n")
        #expect(s.headers.hasPrefix("From: André Pirard <PIRARD@vm1.ulg.ac.be>\nTo: "))
        // Attachments contribute nothing; text inside message/rfc822 does.
        #expect(ParsedMessage(parsing: Fixtures.nested).searchFields().body == "Café report\n<p>Café report</p>")
        #expect(ParsedMessage(parsing: Fixtures.forwarded).searchFields().body == "See below.\nNoon?")
    }

    @Test func dateAndMessageID() {
        let m = ParsedMessage(parsing: Fixtures.rfc3501)
        #expect(m.messageID == "B27397-0100000@cac.washington.edu")
        #expect(m.sentDate == Date(timeIntervalSince1970: 837_595_405))  // 1996-07-17 09:23:25 UTC
        #expect(ParsedMessage(parsing: Fixtures.noBlankLine).sentDate == nil)
        #expect(ParsedMessage(parsing: Fixtures.noBlankLine).messageID == nil)
    }

    @Test func codableRoundTrip() throws {
        let m = ParsedMessage(parsing: Fixtures.forwardedMultipart)
        let again = try JSONDecoder().decode(ParsedMessage.self, from: JSONEncoder().encode(m))
        #expect(again.root == m.root)
        #expect(again.bodyStructure(extensible: true) == m.bodyStructure(extensible: true))
    }
}
