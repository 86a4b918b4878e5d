import EmailAuth
import Foundation
import Testing

@Suite("DKIM signer")
struct DKIMSignerTests {
    static let ed25519 = DKIMKey.generate(.ed25519)
    static let time = Date(timeIntervalSince1970: 1_528_637_909)

    /// The value of a tag in a signature field (unfolded, white space removed).
    static func tag(_ name: String, in field: String) -> String? {
        let unfolded = field.replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: " ", with: "")
            .replacingOccurrences(of: "\t", with: "")
        let body = unfolded.dropFirst("DKIM-Signature:".count)
        for item in body.split(separator: ";") {
            let parts = item.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return String(parts[1]) }
        }
        return nil
    }

    @Test func rfcMessageFields() throws {
        let signer = DKIMSigner(domain: "Football.Example.COM.", selector: "brisbane", key: Self.ed25519)
        let field = signer.signature(for: Array(RFC8463Tests.message.utf8), at: Self.time)
        let unfolded = field.replacingOccurrences(of: "\r\n ", with: " ")
        #expect(unfolded.hasPrefix("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=football.example.com;"))
        #expect(field.hasSuffix("\r\n"))
        #expect(Self.tag("s", in: field) == "brisbane")
        #expect(Self.tag("t", in: field) == "1528637909")
        #expect(Self.tag("bh", in: field) == RFC8463Tests.bodyHash)
        // present fields once per instance; From, Reply-To, Subject, To, Cc once more.
        #expect(Self.tag("h", in: field) == "from:from:reply-to:subject:subject:date:message-id:to:to:cc")
        #expect(Self.tag("b", in: field)?.count == 88)
        #expect(
            Self.tag(
                "a",
                in: DKIMSigner(domain: "x.org", selector: "s", key: DKIMKey.generate(.rsa2048))
                    .signature(for: Array(RFC8463Tests.message.utf8))) == "rsa-sha256")
    }

    @Test func fromIsAlwaysSignedAndOversigned() {
        let signer = DKIMSigner(
            domain: "example.org", selector: "s", key: Self.ed25519, headers: ["Subject", "x-bad name"],
            oversignedHeaders: [])
        #expect(signer.headers == ["from", "subject"])
        let message = Array("From: a@example.org\r\nFrom: b@example.org\r\nSubject: x\r\n\r\n".utf8)
        let field = signer.signature(for: message, at: Self.time)
        #expect(Self.tag("h", in: field) == "from:from:subject")
        let noFrom = signer.signature(for: Array("Subject: x\r\n\r\nbody".utf8), at: Self.time)
        #expect(Self.tag("h", in: noFrom) == "subject")  // nothing to sign but absence would need oversigning

        let oversigning = DKIMSigner(domain: "example.org", selector: "s", key: Self.ed25519)
        #expect(
            Self.tag("h", in: oversigning.signature(for: message, at: Self.time))
                == "from:from:from:reply-to:subject:subject:to:cc")
        #expect(Self.tag("h", in: oversigning.signature(for: [], at: Self.time)) == "from:reply-to:subject:to:cc")
    }

    @Test func foldsManyHeadersBelow78Columns() {
        var message = ""
        for index in 0..<40 {
            message += "Resent-To: r\(index)@example.net\r\nList-Post: <mailto:l\(index)@example.net>\r\n"
        }
        message += RFC8463Tests.message
        let signer = DKIMSigner(domain: "example.org", selector: "s", key: DKIMKey.generate(.rsa2048))
        let field = signer.signature(for: Array(message.utf8), at: Self.time)
        let lines = field.dropLast(2).components(separatedBy: "\r\n")
        #expect(lines.count > 10)
        #expect(lines.allSatisfy { $0.count <= 76 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(!field.dropLast(2).contains("\n\r\n"))
        let signedCount = Self.tag("h", in: field)?.split(separator: ":").count
        #expect(signedCount == 90)  // 40 + 40 listed, 5 RFC fields, 3 oversigned present, 2 absent
    }

    @Test func deterministicForEqualInput() {
        let signer = DKIMSigner(domain: "example.org", selector: "s", key: Self.ed25519)
        let message = Array(RFC8463Tests.message.utf8)
        #if !canImport(Darwin)
            #expect(signer.signature(for: message, at: Self.time) == signer.signature(for: message, at: Self.time))
        #endif
        // Bare LF and CRLF line ends sign the same (see DKIMMessage).
        let lf = Array(RFC8463Tests.message.replacingOccurrences(of: "\r\n", with: "\n").utf8)
        #expect(Self.tag("bh", in: signer.signature(for: lf, at: Self.time)) == RFC8463Tests.bodyHash)
    }

    /// Odd inputs: nothing traps, the field stays one well-formed ASCII header.
    @Test(arguments: Self.oddInputs())
    func oddInputsDoNotCrash(input: [UInt8]) {
        let signer = DKIMSigner(domain: "example.org", selector: "s", key: Self.ed25519)
        let field = signer.signature(for: input, at: Self.time)
        #expect(field.hasPrefix("DKIM-Signature: v=1;"))
        #expect(field.hasSuffix("\r\n"))
        #expect(field.utf8.allSatisfy { $0 < 128 })
        #expect(Self.tag("b", in: field)?.count == 88)
        _ = DKIMCanonical.relaxedBody(input)
        _ = DKIMCanonical.simpleBody(input)
        _ = DKIMMessage(input).headerFields.map { DKIMCanonical.relaxedHeader($0) }
    }

    static func oddInputs() -> [[UInt8]] {
        var inputs: [[UInt8]] = [
            [], [0x0D], [0x0A], [0x0D, 0x0A], [0x0A, 0x0D], [0x3A], [0x20], [0x09, 0x0D, 0x0A],
            Array("\r\n\r\n\r\n".utf8), Array("\n\n".utf8), Array("\r\r\r".utf8),
            Array("From:".utf8), Array("From".utf8), Array(":\r\n:\r\n\r\n".utf8),
            Array(" From: leading space\r\n\r\nx".utf8),
            Array("From: a\r\n\tcontinued\r\n \r\n\r\n \t \r\n".utf8),
            Array("From: a\rSubject: b\r\r\n\r\nbody\r".utf8),
            Array("From: \u{0}\u{1}\u{7F}\r\n\r\n\u{0}".utf8),
            [0x46, 0x72, 0x6F, 0x6D, 0x3A, 0xFF, 0xFE, 0xC3, 0x28, 0x0D, 0x0A, 0x0D, 0x0A, 0xF0, 0x9F, 0x98],
            Array(repeating: 0x20, count: 5000), Array(repeating: 0x0A, count: 5000),
            Array(repeating: 0x3A, count: 5000),
            Array(("Subject: " + String(repeating: "x", count: 20000) + "\r\n\r\n").utf8),
            Array(String(repeating: "From: a@b\r\n", count: 500).utf8),
        ]
        var generator = SplitMix64(seed: 0x6D61_696C_726F_6F6D)
        let alphabet: [UInt8] = Array("\r\n\t :Fromsubject\u{7F}".utf8) + [0x00, 0x80, 0xFF]
        for _ in 0..<200 {
            let length = Int(generator.next() % 300)
            inputs.append((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        }
        return inputs
    }
}

/// A small deterministic generator, so the random inputs are the same every run.
struct SplitMix64 {
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
