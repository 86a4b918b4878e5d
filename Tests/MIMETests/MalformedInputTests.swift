import Testing

@testable import MIME

/// Hostile and broken input: never a crash, always balanced output and ranges inside the input.
@Suite struct MalformedInputTests {
    static func nestedMultiparts(_ n: Int) -> [UInt8] {
        var s = "Subject: deep\r\n"
        for i in 0..<n { s += "Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n" }
        s += "Content-Type: text/plain\r\n\r\nbottom\r\n"
        for i in (0..<n).reversed() { s += "--b\(i)--\r\n" }
        return Array(s.utf8)
    }

    static func nestedMessages(_ n: Int) -> [UInt8] {
        Array((String(repeating: "Content-Type: message/rfc822\r\n\r\n", count: n) + "Subject: x\r\n\r\nbody").utf8)
    }

    static func random(_ n: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    static let inputs: [(String, [UInt8])] = [
        ("empty", []),
        ("one CR", [13]),
        ("one LF", [10]),
        ("truncated header", Array("Subject: hel".utf8)),
        ("truncated fold", Array("Subject: a\r\n ".utf8)),
        ("colonless lines", Array("garbage\r\nmore garbage\r\n\r\nbody".utf8)),
        ("leading continuation", Array(" folded\r\nSubject: x\r\n\r\n".utf8)),
        ("NUL bytes", Array("Subject: a\0b\r\nFrom: \0@\0\r\n\r\n\0\0".utf8)),
        ("8-bit", [0x53, 0x3A, 0xFF, 0xFE, 13, 10, 13, 10, 0x80, 0x81]),
        ("boundary never closed", Array("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n".utf8)),
        ("delimiter at end", Array("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x".utf8)),
        ("empty boundary", Array("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n".utf8)),
        ("only delimiters", Array("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x\r\n--x\r\n--x--".utf8)),
        ("unclosed comment", Array("Content-Type: text/plain (oops\r\nFrom: (a (b) <x@y>\r\n\r\n".utf8)),
        // Found by fuzzing: the quoted-pair's backslash at the very end stepped past the value.
        ("comment ending in a backslash", Array("Content-Type: (x\\\r\n\r\nbody".utf8)),
        ("type then comment ending in a backslash", Array("Content-Type: text/(\\\r\nContent-Disposition: (\\\r\n\r\n".utf8)),
        ("unclosed quotes", Array("From: \"a <x@y>\r\nContent-Type: text/plain; name=\"x\r\n\r\n".utf8)),
        ("address specials", Array("To: <<<>>>@@@,,,;;;:::\r\nCc: :;:;:;\r\nBcc: [[[\r\n\r\n".utf8)),
        ("1000 nested multiparts", nestedMultiparts(1000)),
        ("1000 nested messages", nestedMessages(1000)),
        ("huge header line", Array(("Subject: " + String(repeating: "=?UTF-8?Q?", count: 20_000) + "\r\n\r\n").utf8)),
        ("huge parameter list", Array(("Content-Type: text/plain" + String(repeating: "; a*1*=%41", count: 5_000) + "\r\n\r\n").utf8)),
        ("many parts", Array(("Content-Type: multipart/mixed; boundary=x\r\n\r\n" + String(repeating: "--x\r\n\r\n", count: 20_000)).utf8)),
        ("random 1", random(4096, seed: 1)),
        ("random 2", random(65536, seed: 2)),
    ]

    @Test(arguments: inputs)
    func survives(name: String, bytes: [UInt8]) {
        #expect(IMAPSyntax.check(bytes), "\(name)")
        let m = ParsedMessage(parsing: bytes)
        _ = m.searchFields()
        _ = m.sentDate
        _ = m.messageID
        _ = m.part(at: [1, 1, 1, 1])
    }

    @Test func depthAndPartLimits() {
        let deep = ParsedMessage(parsing: Self.nestedMultiparts(1000))
        var depth = 0
        var part = deep.root
        while let child = part.children.first {
            part = child
            depth += 1
        }
        #expect(depth == MIME.Limits.maxDepth)
        #expect(part.type == "text")  // the multipart at the limit is an opaque leaf
        let many = ParsedMessage(parsing: Array(("Content-Type: multipart/mixed; boundary=x\r\n\r\n" + String(repeating: "--x\r\n\r\n", count: 20_000)).utf8))
        #expect(many.root.children.count < MIME.Limits.maxParts)
    }

    /// Seeded mutations of the fixtures: flip, insert and delete bytes, splice fixtures.
    @Test func fuzzMutations() {
        var rng = SplitMix64(seed: 0x4D49_4D45)
        let seeds = Fixtures.all.map(\.1)
        for iteration in 0..<2_000 {
            var bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + rng.next() % 8) where !bytes.isEmpty {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 5 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.insert([13, 10, 45, 58, 59, 34, 40, 61, 63][Int(rng.next() % 9)], at: at)
                case 2: bytes.remove(at: at)
                case 3: bytes.removeSubrange(at..<min(bytes.count, at + Int(rng.next() % 64)))
                default:
                    let other = seeds[Int(rng.next() % UInt64(seeds.count))]
                    let from = Int(rng.next() % UInt64(other.count))
                    bytes.insert(contentsOf: other[from..<min(other.count, from + Int(rng.next() % 200))], at: at)
                }
            }
            #expect(IMAPSyntax.check(bytes), "iteration \(iteration): \(bytes)")
        }
    }
}

/// A small seeded generator so the fuzz loop is reproducible.
struct SplitMix64: RandomNumberGenerator {
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
