import Foundation
@testable import EmailAuth
import Testing

@Suite("DKIM canonicalisation")
struct DKIMCanonicalTests {
    /// RFC 6376 §3.4.6.
    static let rfcExample = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n"

    @Test func rfc6376Example() {
        let message = DKIMMessage(Array(Self.rfcExample.utf8))
        #expect(message.headerFields.count == 2)
        let relaxed = message.headerFields.compactMap(DKIMCanonical.relaxedHeader).map(text)
        #expect(relaxed == ["a:X\r\n", "b:Y Z\r\n"])
        #expect(text(DKIMCanonical.relaxedBody(message.body)) == " C\r\nD E\r\n")
        #expect(
            message.headerFields.map { text(DKIMCanonical.simpleHeader($0)) } == ["A: X\r\n", "B : Y\t\r\n\tZ  \r\n"])
        #expect(text(DKIMCanonical.simpleBody(message.body)) == " C \r\nD \t E\r\n")
    }

    /// Bare LF becomes CRLF wherever it is; CRLF and a lone CR stay. Also through a slice and a
    /// non-contiguous collection, which take different paths.
    @Test(arguments: [
        ("", ""), ("a\r\nb\r\n", "a\r\nb\r\n"), ("\n", "\r\n"), ("a\nb", "a\r\nb"),
        ("a\r\nb\nc\r\n\n", "a\r\nb\r\nc\r\n\r\n"), ("a\rb\n", "a\rb\r\n"), ("\r\r\n\n", "\r\r\n\r\n"),
        ("x\n\n\n", "x\r\n\r\n\r\n"),
    ])
    func crlfLineEnds(input: String, expected: String) {
        let bytes = Array(input.utf8)
        #expect(text(DKIMCanonical.crlfLineEnds(bytes)) == expected)
        #expect(text(DKIMCanonical.crlfLineEnds(([0x41] + bytes)[1...])) == expected)
        #expect(text(DKIMCanonical.crlfLineEnds(bytes.lazy.map { $0 })) == expected)
    }

    @Test(arguments: [
        // (name, value, relaxed)
        ("Subject", " Hello  world ", "subject:Hello world\r\n"),
        ("SUBJECT ", "\tfolded\r\n  across\r\n\tlines\t", "subject:folded across lines\r\n"),
        ("X-Empty", "", "x-empty:\r\n"),
        ("X-Spaces", "   \t ", "x-spaces:\r\n"),
        ("X-8bit", " Grüße\t ", "x-8bit:Grüße\r\n"),
        ("X-CR", " a\rb ", "x-cr:a\rb\r\n"),
        ("X-CRLF-no-WSP", " a\r\nb", "x-crlf-no-wsp:ab\r\n"),
        ("X-Trailing-CR", " a\r", "x-trailing-cr:a\r\r\n"),
    ])
    func relaxedHeader(name: String, value: String, expected: String) {
        #expect(text(DKIMCanonical.relaxedHeader(name: Array(name.utf8), value: Array(value.utf8))) == expected)
    }

    @Test(arguments: [
        // (body, relaxed, simple)
        ("", "", "\r\n"),
        ("\r\n", "", "\r\n"),
        ("\r\n\r\n\r\n", "", "\r\n"),
        (" \t \r\n\t\r\n", "", " \t \r\n\t\r\n"),
        ("no final newline", "no final newline\r\n", "no final newline\r\n"),
        ("a  \t b \t\r\n\r\nc\r\n\r\n", "a b\r\n\r\nc\r\n", "a  \t b \t\r\n\r\nc\r\n"),
        ("bare\nLF\n\n", "bare\r\nLF\r\n", "bare\r\nLF\r\n"),
        ("lone\rCR\r\n", "lone\rCR\r\n", "lone\rCR\r\n"),
        ("ends in CR\r", "ends in CR\r\r\n", "ends in CR\r\r\n"),
        ("\r\n\r\nx", "\r\n\r\nx\r\n", "\r\n\r\nx\r\n"),
        ("one space each\r\n line\r\n", "one space each\r\n line\r\n", "one space each\r\n line\r\n"),
        ("x\r\n\r\n\r\n", "x\r\n", "x\r\n"),
        ("space at the very end ", "space at the very end\r\n", "space at the very end \r\n"),
        ("a \rb\r\n", "a \rb\r\n", "a \rb\r\n"),
    ])
    func bodies(body: String, relaxed: String, simple: String) {
        #expect(text(DKIMCanonical.relaxedBody(Array(body.utf8))) == relaxed)
        #expect(text(DKIMCanonical.simpleBody(Array(body.utf8))) == simple)
    }

    /// relaxedBody copies the lines it need not change whole and relaxes the others byte by
    /// byte; the RFC's rules applied to every line of every body must give the same bytes.
    @Test func relaxedBodyAgreesWithTheRulesLineByLine() {
        let pieces = ["a", "b", " ", "  ", "\t", " \t", "\r\n", "\r", "\n", " \r\n", "\r\n\r\n", "-- \r\n"].map {
            Array($0.utf8)
        }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        for _ in 0..<5000 {
            let body = (0..<next(24)).flatMap { _ in pieces[next(pieces.count)] }
            #expect(DKIMCanonical.relaxedBody(body) == Self.relaxedByTheRules(body), "\(text(body).debugDescription)")
        }
        let letter = Array("Hello,\r\n\r\nthe report  is attached.\r\n-- \r\nAnn\t \r\n\r\n".utf8)
        #expect(text(DKIMCanonical.relaxedBody(letter)) == "Hello,\r\n\r\nthe report is attached.\r\n--\r\nAnn\r\n")
    }

    /// RFC 6376 §3.4.4 applied line by line, as plainly as it reads: the oracle for the above.
    static func relaxedByTheRules(_ body: [UInt8]) -> [UInt8] {
        var lines = text(DKIMCanonical.crlfLineEnds(body)).components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }  // the CRLF that ends the last line
        lines = lines.map { line in
            var relaxed = ""
            var space = false
            for c in line.unicodeScalars {
                if c == " " || c == "\t" {
                    space = true
                } else {
                    if space { relaxed += " " }
                    space = false
                    relaxed.unicodeScalars.append(c)
                }
            }
            return relaxed
        }
        while lines.last == "" { lines.removeLast() }
        return Array(lines.map { $0 + "\r\n" }.joined().utf8)
    }

    @Test func emptyBodyHash() {
        // SHA-256 of the empty string: what dkimpy and OpenDKIM use for an empty relaxed body.
        let empty = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        #expect(DKIMSigner.bodyHash(of: DKIMMessage(Array("From: a@b.example\r\n".utf8))) == empty)
        #expect(DKIMSigner.bodyHash(of: DKIMMessage(Array("From: a@b.example\r\n\r\n".utf8))) == empty)
        #expect(DKIMSigner.bodyHash(of: DKIMMessage(Array("From: a@b.example\r\n\r\n\r\n\r\n".utf8))) == empty)
    }

    @Test func malformedHeaderLines() {
        let raw = """
            From joe@example.org Mon Jan  1 00:00:00 2024\r
             leading continuation\r
            From: Joe <joe@example.org>\r
            No colon here\r
            Bad Name: x\r
            : empty name\r
            Subject : obsolete space before colon\r
             continued\r
            \r
            body\r

            """
        let message = DKIMMessage(Array(raw.utf8))
        #expect(message.headerFields.map(\.lowercasedName) == [nil, "from", nil, nil, nil, "subject"])
        #expect(message.count(of: "From") == 1)
        #expect(text(message.body) == "body\r\n")
        let subject = try! #require(message.headerFields.last)
        #expect(DKIMCanonical.relaxedHeader(subject).map(text) == "subject:obsolete space before colon continued\r\n")
        #expect(DKIMCanonical.relaxedHeader(message.headerFields[0]) == nil)
    }

    @Test func headerOnlyAndEmptyMessages() {
        #expect(DKIMMessage([]).headerFields.isEmpty)
        #expect(DKIMMessage([]).body.isEmpty)
        let noBody = DKIMMessage(Array("From: a@b.example\r\nSubject: x".utf8))
        #expect(noBody.headerFields.map(\.lowercasedName) == ["from", "subject"])
        #expect(noBody.body.isEmpty)
        #expect(noBody.headerFields.last.map { text(Array($0.value)) } == " x")
        let onlyCRLFs = DKIMMessage(Array("\r\n\r\n\r\n".utf8))
        #expect(onlyCRLFs.headerFields.isEmpty)
        #expect(text(onlyCRLFs.body) == "\r\n\r\n")
    }

    @Test func bareLFMessage() {
        let message = DKIMMessage(Array("From: a@b.example\nSubject: hi\n  there\n\nbody\n".utf8))
        #expect(message.headerFields.map(\.lowercasedName) == ["from", "subject"])
        #expect(
            message.headerFields.compactMap(DKIMCanonical.relaxedHeader).map(text) == [
                "from:a@b.example\r\n", "subject:hi there\r\n",
            ])
        #expect(text(message.body) == "body\r\n")
    }

    @Test func signedHeadersAreTakenBottomUp() {
        let message = DKIMMessage(Array("Received: 1\r\nFrom: a\r\nReceived: 2\r\nreceived: 3\r\n\r\n".utf8))
        let fields = message.fields(forSignedHeaders: ["received", "from", "RECEIVED", "from", "received", "received"])
        #expect(fields.map { text(Array($0.value)) } == [" 3", " a", " 2", " 1"])
    }
}

func text(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: Array(bytes), as: UTF8.self)
}
