import SMTP
import Testing

@Suite struct SMTPReplyParserTests {
    static let roundTrip: [SMTPReply] = [
        SMTPReply(250, nil, "OK"),
        SMTPReply(220, nil, "mx.example.org ESMTP"),
        SMTPReply(250, "2.1.5", "recipient OK"),
        SMTPReply(550, "5.1.1", ["no such user", "see https://example.org/help"]),
        SMTPReply(250, nil, ["mx.example.org", "PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"]),
        SMTPReply(421, "4.3.2", "shutting down"),
        SMTPReply(354, nil, "end data with <CR><LF>.<CR><LF>"),
        SMTPReply(250, nil, ""),
        SMTPReply(452, "4.5.3", ["too many", "", "recipients"]),
        SMTPReply(554, "5.7.1", "relay denied: ünïcode text"),
    ]

    @Test(arguments: roundTrip)
    func encodeThenParse(_ reply: SMTPReply) throws {
        var parser = SMTPReplyParser(enhancedStatusCodes: true)
        parser.append(reply.encoded())
        #expect(try parser.next() == reply)
        #expect(try parser.next() == nil)
        #expect(parser.bufferedCount == 0)
    }

    @Test(arguments: roundTrip)
    func parseByteByByte(_ reply: SMTPReply) throws {
        var parser = SMTPReplyParser(enhancedStatusCodes: true)
        var got: [SMTPReply] = []
        for byte in reply.encoded() + reply.encoded() {
            parser.append([byte])
            while let r = try parser.next() { got.append(r) }
        }
        #expect(got == [reply, reply])
    }

    @Test func enhancedCodesOnlyWhenAnnounced() throws {
        var parser = SMTPReplyParser()
        parser.append(Array("550 5.1.1 no such user\r\n".utf8))
        #expect(try parser.next() == SMTPReply(550, nil, "5.1.1 no such user"))
        parser.enhancedStatusCodes = true
        parser.append(Array("550 5.1.1 no such user\r\n250 5.0.0 class differs\r\n250 2.0.0\r\n".utf8))
        #expect(try parser.next() == SMTPReply(550, "5.1.1", "no such user"))
        #expect(try parser.next() == SMTPReply(250, nil, "5.0.0 class differs"))
        #expect(try parser.next() == SMTPReply(250, "2.0.0", ""))
    }

    @Test func bareCodeIsAReply() throws {
        var parser = SMTPReplyParser()
        parser.append(Array("250\r\n250-\r\n250 \r\n".utf8))
        #expect(try parser.next() == SMTPReply(250, nil, ""))
        #expect(try parser.next() == SMTPReply(250, nil, ["", ""]))
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        var input: String
        var error: SMTPReplyParser.ParseError
        var testDescription: String { input.debugDescription }
    }

    static let malformed: [Malformed] = [
        Malformed(input: "25O ok\r\n", error: .badReplyCode("25O ok")),
        Malformed(input: "ok\r\n", error: .badReplyCode("ok")),
        Malformed(input: "\r\n", error: .badReplyCode("")),
        Malformed(input: "650 no\r\n", error: .badReplyCode("650 no")),
        Malformed(input: "190 no\r\n", error: .badReplyCode("190 no")),
        Malformed(input: "2500 four digits\r\n", error: .badSeparator("2500 four digits")),
        Malformed(input: "250_x\r\n", error: .badSeparator("250_x")),
        Malformed(input: "250 ok\n", error: .bareLineEnding),
        Malformed(input: "250 o\rk\r\n", error: .bareLineEnding),
        Malformed(input: "\n", error: .bareLineEnding),
        Malformed(input: "250-a\r\n550 b\r\n", error: .codeMismatch(first: 250, line: "550 b")),
        Malformed(input: "250 " + String(repeating: "x", count: 5000) + "\r\n", error: .lineTooLong(limit: 4096)),
        Malformed(input: String(repeating: "250-x\r\n", count: 300), error: .tooManyLines(limit: 200)),
        Malformed(input: "250-" + String(repeating: "y", count: 10000), error: .lineTooLong(limit: 4096)),
    ]

    @Test(arguments: malformed)
    func malformedRepliesThrow(_ fixture: Malformed) {
        var parser = SMTPReplyParser(enhancedStatusCodes: true)
        parser.append(Array(fixture.input.utf8))
        #expect(throws: fixture.error) {
            while try parser.next() != nil {}
        }
    }

    @Test func incompleteIsNotAnError() throws {
        var parser = SMTPReplyParser()
        for partial in ["2", "250", "250-a\r\n", "250-a\r\n250 b\r"] {
            parser.reset()
            parser.append(Array(partial.utf8))
            #expect(try parser.next() == nil)
        }
    }

    @Test func endlessLinesStayBounded() {
        var parser = SMTPReplyParser()
        let chunk = [UInt8](repeating: UInt8(ascii: "z"), count: 1024)
        var thrown = false
        for _ in 0..<100 {
            parser.append(chunk)
            do { _ = try parser.next() } catch { thrown = true; break }
        }
        #expect(thrown)
        #expect(parser.bufferedCount < 8 * 1024)
    }

    /// Random bytes never crash the parser.
    @Test func randomInputNeverCrashes() {
        var rng = SplitMix(seed: 42)
        let alphabet = Array("0123456789 -\r\n.abcZ".utf8) + [0, 0xFF, 0xC3]
        for _ in 0..<2000 {
            var parser = SMTPReplyParser(enhancedStatusCodes: rng.next() % 2 == 0)
            let count = Int(rng.next() % 64)
            parser.append((0..<count).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            for _ in 0..<10 { _ = try? parser.next() }
        }
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
