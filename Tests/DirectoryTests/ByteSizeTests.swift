import Testing

@testable import Directory

@Suite struct ByteSizeTests {
    static let parses: [(String, Int64?)] = [
        ("5G", 5 << 30), ("5g", 5 << 30), ("5 GB", 5 << 30), ("500M", 500 << 20), ("1.5G", 1_610_612_736),
        ("1024", 1024), ("1K", 1024), ("2TiB", 2 << 40), ("unlimited", 0), ("0", 0), ("none", 0),
        ("", nil), ("-1G", nil), ("5X", nil), ("G", nil), ("1e30", nil), ("nan", nil),
    ]

    @Test(arguments: parses)
    func parse(text: String, bytes: Int64?) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test func formatRoundTrips() {
        for n: Int64 in [0, 1024, 5 << 30, 500 << 20, 1_610_612_736, 7] {
            #expect(ByteSize.parse(ByteSize.format(n)) == n)
        }
    }
}
