import Testing

@testable import MailCore

@Suite struct TextHelperTests {
    @Test(arguments: [
        ([UInt8](), ""),
        ([0x00], "00"),
        ([0x0F, 0xF0, 0xAB], "0ff0ab"),
        ([0xDE, 0xAD, 0xBE, 0xEF, 0x01], "deadbeef01"),
    ])
    func lowercaseHexWritesTwoDigitsPerByte(bytes: [UInt8], hex: String) {
        #expect(bytes.lowercaseHex == hex)
    }

    @Test func lowercaseHexCoversEveryByte() {
        let all = (0...255).map { UInt8($0) }.lowercaseHex
        #expect(all.count == 512)
        for n in 0...255 {
            let start = all.index(all.startIndex, offsetBy: 2 * n)
            let digits = String(all[start..<all.index(start, offsetBy: 2)])
            #expect(UInt8(digits, radix: 16) == UInt8(n))
        }
    }

    @Test(arguments: [
        ("", ""),
        ("   ", ""),
        ("\t x \t", "x"),
        ("a b", "a b"),
        ("  SIZE=10 BODY=8BITMIME ", "SIZE=10 BODY=8BITMIME"),
        ("\u{00A0}x\u{00A0}", "\u{00A0}x\u{00A0}"),  // only protocol white space
        (" été ", "été"),
        ("\r\nx\r\n", "\r\nx\r\n"),
    ])
    func trimmingASCIISpacesTakesSpacesAndTabsOffBothEnds(text: String, trimmed: String) {
        #expect(text.trimmingASCIISpaces() == trimmed)
        #expect(text[...].trimmingASCIISpaces() == trimmed)
    }
}
