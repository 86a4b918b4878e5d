import Testing

@testable import EmailAuth

/// Record texts are parsed once each, and the table stays bounded.
struct ParsedRecordsTests {
    @Test func eachTextIsParsedOnceAndTheTableIsBounded() {
        let records = ParsedRecords<Int>(capacity: 2)
        var parsed: [String] = []
        func value(_ text: String) -> Int {
            records.value(for: text) { text in
                parsed.append(text)
                return text.utf8.count
            }
        }
        #expect(value("v=spf1 -all") == 11)
        #expect(value("v=spf1 -all") == 11)
        #expect(value("v=DMARC1; p=reject") == 18)
        #expect(parsed == ["v=spf1 -all", "v=DMARC1; p=reject"])
        // A third text fills the table: it starts again, and what it held is parsed anew.
        #expect(value("v=DKIM1; p=") == 11)
        #expect(value("v=spf1 -all") == 11)
        #expect(parsed == ["v=spf1 -all", "v=DMARC1; p=reject", "v=DKIM1; p=", "v=spf1 -all"])
    }
}
