import Testing

@testable import Directory

@Suite struct CSVTests {
    static let good: [(String, [[String]], [Int])] = [
        ("a,b,c\n1,2,3\n", [["a", "b", "c"], ["1", "2", "3"]], [1, 2]),
        ("a,b\r\n1,2\r\n", [["a", "b"], ["1", "2"]], [1, 2]),
        ("a,b\n1,2", [["a", "b"], ["1", "2"]], [1, 2]),
        ("\"x, y\",z\n", [["x, y", "z"]], [1]),
        ("\"say \"\"hi\"\"\",2\n", [["say \"hi\"", "2"]], [1]),
        ("\"multi\nline\",2\nnext,3\n", [["multi\nline", "2"], ["next", "3"]], [1, 3]),
        ("a,,c\n", [["a", "", "c"]], [1]),
        ("\n\na\n\n", [["a"]], [3]),
        ("\u{FEFF}address\nx@example.org\n", [["address"], ["x@example.org"]], [1, 2]),
        ("\"\"\n", [[""]], [1]),
    ]

    @Test(arguments: good)
    func parses(text: String, fields: [[String]], lines: [Int]) throws {
        let records = try CSV.parse(text)
        #expect(records.map(\.fields) == fields)
        #expect(records.map(\.line) == lines)
    }

    static let bad: [(String, Int)] = [
        ("a,\"unclosed\n", 1),
        ("a,b\nx\"y,2\n", 2),
        ("\"a\"b,c\n", 1),
    ]

    @Test(arguments: bad)
    func refuses(text: String, line: Int) {
        #expect(throws: CSV.ParseError.self) { try CSV.parse(text) }
        do { _ = try CSV.parse(text) } catch { #expect(error.line == line) }
    }

    @Test func formatRoundTrips() throws {
        // "\r\n" is one Character in Swift: the CRLF field must still be quoted (found by fuzzing).
        let rows = [["plain", "with,comma", "with \"quote\"", "=cmd()", "line\nbreak", "crlf\r\nbreak", "lone\rcr",
            "quote then combining mark: \"\u{07AD}", "\u{07AD}\"", ""]]
        let text = rows.map(CSV.format).joined(separator: "\n")
        #expect(try CSV.parse(text).map(\.fields) == rows)
    }
}
