import SMTP
import Testing

@Suite struct DotStufferTests {
    static let cases: [(String, String)] = [
        ("", ".\r\n"),
        ("a\r\n", "a\r\n.\r\n"),
        ("a", "a\r\n.\r\n"),
        (".\r\n", "..\r\n.\r\n"),
        (".a\r\n.b\r\n", "..a\r\n..b\r\n.\r\n"),
        ("x.\r\n..\r\n", "x.\r\n...\r\n.\r\n"),
        ("a\nb\n", "a\r\nb\r\n.\r\n"),
        ("a\n.b", "a\r\n..b\r\n.\r\n"),
        ("\r\n.\r\n", "\r\n..\r\n.\r\n"),
        ("\n", "\r\n.\r\n"),
        ("a\r", "a\r\r\n.\r\n"),
    ]

    @Test(arguments: cases)
    func stuffs(_ input: String, _ expected: String) {
        #expect(DotStuffer.stuffed(Array(input.utf8)) == Array(expected.utf8))
    }

    /// Output room of any size gives the same bytes as one call with room for everything.
    @Test func chunkedOutputMatches() {
        var rng = SplitMix(seed: 7)
        let alphabet = Array("ab.\r\n".utf8)
        for _ in 0..<300 {
            let input = (0..<Int(rng.next() % 200)).map { _ in alphabet[Int(rng.next() % 5)] }
            let whole = DotStuffer.stuffed(input)
            var out: [UInt8] = []
            input.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let room = 2 + Int(rng.next() % 7)
                    var chunk = [UInt8](repeating: 0, count: room)
                    let n = chunk.withUnsafeMutableBytes { DotStuffer.encode(raw, offset: &offset, into: $0) }
                    out += chunk[..<n]
                }
                var tail = [UInt8](repeating: 0, count: DotStuffer.maximumTrailerSize)
                let n = tail.withUnsafeMutableBytes { DotStuffer.finish(raw, into: $0) }
                out += tail[..<n]
            }
            #expect(out == whole)
        }
    }
}
