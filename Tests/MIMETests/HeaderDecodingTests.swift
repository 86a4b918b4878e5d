import Foundation
import Testing

@testable import MIME

@Suite struct HeaderDecodingTests {
    /// (encoded header text, decoded)
    static let encodedWords: [(String, String)] = [
        ("=?UTF-8?B?SGVsbG8=?=", "Hello"),
        ("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"),
        ("=?iso-8859-1?q?this=20is=20some=20text?=", "this is some text"),
        // RFC 2047 §8: whitespace between adjacent encoded words disappears.
        ("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"),
        ("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"),
        ("(=?ISO-8859-1?Q?a_b?=)", "(a b)"),
        ("(=?ISO-8859-1?Q?a?= b)", "(a b)"),
        ("=?UTF-8?B?SGVsbG8g?= =?UTF-8?B?V29ybGQg4pyT?=", "Hello World ✓"),
        // A UTF-8 character split across two words.
        ("=?UTF-8?Q?=E2=9C?= =?UTF-8?Q?=93?=", "✓"),
        ("=?windows-1252?Q?=80uro?=", "€uro"),
        ("=?ISO-8859-15?Q?=A4?=", "€"),
        ("=?KOI8-R?B?8NLJ18XU?=", "Привет"),
        ("=?UTF-8*en?Q?hi?=", "hi"),
        // Malformed words are left as they are.
        ("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="),
        ("=?UTF-8?Q?no end", "=?UTF-8?Q?no end"),
        ("=??Q?x?=", "=??Q?x?="),
        ("=?UTF-8?Q?has space?=", "=?UTF-8?Q?has space?="),
        ("plain text", "plain text"),
        ("", ""),
        ("=?x-unknown?Q?abc?=", "abc"),
    ]

    @Test(arguments: encodedWords)
    func encodedWord(input: String, expected: String) {
        #expect(EncodedWord.decode(input) == expected)
    }

    /// (Content-Type value, type/subtype, parameters as "name=value")
    static let contentTypes: [(String, String?, [String])] = [
        ("text/plain", "text/plain", []),
        ("TEXT/HTML; CHARSET=UTF-8", "text/html", ["charset=UTF-8"]),
        (#"multipart/mixed; boundary="----=_Part_1""#, "multipart/mixed", ["boundary=----=_Part_1"]),
        ("multipart/mixed; boundary=----=_Part_1", "multipart/mixed", ["boundary=----=_Part_1"]),
        ("text/plain;charset=us-ascii;format=flowed", "text/plain", ["charset=us-ascii", "format=flowed"]),
        ("text/plain charset=utf-8", "text/plain", ["charset=utf-8"]),  // missing semicolon
        (#"text/plain; name="unclosed"#, "text/plain", ["name=unclosed"]),
        (#"text/plain; name="a \"q\" b""#, "text/plain", [#"name=a "q" b"#]),
        ("text / plain (comment) ; a = b", "text/plain", ["a=b"]),
        ("application/x; name*=utf-8'en'%E2%82%AC", "application/x", ["name=€"]),
        ("application/x; name*0=\"a b\"; name*1*=%41; name*2=c", "application/x", ["name=a bAc"]),
        ("application/x; name*1=second; name*0=first", "application/x", ["name=firstsecond"]),
        ("application/x; name=fallback; name*=utf-8''real", "application/x", ["name=real"]),
        ("application/x; name*=iso-8859-1''caf%E9", "application/x", ["name=café"]),
        ("application/x; name*=''%ZZ", "application/x", ["name=%ZZ"]),
        ("text", nil, []),
        ("/plain", nil, []),
        ("", nil, []),
    ]

    @Test(arguments: contentTypes)
    func contentType(value: String, expected: String?, parameters: [String]) {
        let parsed = MIMEParser<[UInt8]>.parseContentType(Array(value.utf8))
        #expect(parsed.map { "\($0.type)/\($0.subtype)" } == expected)
        #expect((parsed?.parameters ?? []).map { "\($0.name)=\($0.value)" } == parameters)
    }

    /// (Date value, seconds since 1970, or nil)
    static let dates: [(String, Int?)] = [
        ("Mon, 7 Feb 1994 21:52:25 -0800", 760_686_745),
        ("7 Feb 1994 21:52:25 -0800", 760_686_745),
        ("Mon, 07 Feb 1994 21:52 -0800", 760_686_720),
        ("Mon, 7 Feb 94 21:52:25 -0800", 760_686_745),
        ("Mon, 7 Feb 94 21:52:25 PST", 760_686_745),
        ("Tue, 8 Feb 1994 05:52:25 GMT", 760_686_745),
        ("Tue, 8 Feb 1994 05:52:25 UT", 760_686_745),
        ("Tue, 8 Feb 1994 05:52:25", 760_686_745),
        ("Tue, 8 Feb 1994 05:52:25 +0000 (UTC)", 760_686_745),
        ("Tue,  8  Feb  1994  05:52:25  Z", 760_686_745),
        ("Sat, 1 Jan 05 00:00:00 +0000", 1_104_537_600),
        ("1 Jan 2000 00:00:00 EST", 946_702_800),
        ("Tue Feb 8 1994 05:52:25 +0000", 760_686_745),
        ("garbage", nil),
        ("", nil),
        ("Mon, 7 Foo 1994 21:52:25 -0800", nil),
        ("Mon, 7 Feb 1994 25:52:25 -0800", nil),
    ]

    @Test(arguments: dates)
    func date(value: String, expected: Int?) {
        #expect(DateParser.parse(value).map { Int($0.timeIntervalSince1970) } == expected)
    }

    /// The zone as written, in minutes east of UTC (named and missing zones included).
    @Test(arguments: [
        ("Mon, 7 Feb 1994 21:52:25 -0800", -480), ("Mon, 7 Feb 94 21:52:25 PST", -480), ("Tue, 8 Feb 1994 05:52:25", 0),
        ("Thu, 15 Oct 2026 23:30:00 +0530", 330), ("Thu, 15 Oct 2026 23:30:00 -0930", -570), ("1 Jan 2000 00:00:00 EDT", -240),
    ])
    func dateZone(value: String, minutes: Int) {
        #expect(DateParser.parseWithZone(Array(value.utf8))?.zoneMinutes == minutes)
    }

    /// (bytes, IMAP string form)
    static let strings: [([UInt8]?, String)] = [
        (nil, "NIL"),
        ([], #""""#),
        (Array("abc".utf8), #""abc""#),
        (Array(#"a"b\c"#.utf8), #""a\"b\\c""#),
        (Array("a\r\nb".utf8), "{4}\r\na\r\nb"),
        ([0x61, 0], "{2}\r\na\0"),
        (Array("é".utf8), "{2}\r\né"),
    ]

    @Test(arguments: strings)
    func imapString(bytes: [UInt8]?, expected: String) {
        #expect(Fixtures.text(IMAPString.quoted(bytes)) == expected)
    }

    @Test func astring() {
        #expect(Fixtures.text(IMAPString.astring(Array("INBOX".utf8))) == "INBOX")
        #expect(Fixtures.text(IMAPString.astring(Array("a b".utf8))) == #""a b""#)
        #expect(Fixtures.text(IMAPString.astring([])) == #""""#)
    }

    @Test func transferDecoding() {
        #expect(TransferEncoding.base64(Array("SGVs\r\nbG8=".utf8)[...]) == Array("Hello".utf8))
        #expect(TransferEncoding.base64(Array("SGVsbG8".utf8)[...]) == Array("Hello".utf8))
        #expect(TransferEncoding.quotedPrintable(Array("a=3Db=\r\nc=\nd =ZZ=4".utf8)[...]) == Array("a=bcd =ZZ=4".utf8))
    }

    /// Quoted-printable, RFC 2045 §6.7: white space that ends an encoded line was added in
    /// transport and is deleted (rule 3); white space inside a line, or encoded (=20), stays.
    @Test(arguments: [
        ("a  \r\nb", "a\r\nb"), ("a \t \nb", "a\nb"), ("a b\r\n", "a b\r\n"), ("trailing  ", "trailing"),
        ("a=20\r\n", "a \r\n"), ("a=20 \r\n", "a \r\n"), ("soft=  \r\nbreak", "softbreak"), ("   \r\n", "\r\n"),
        ("a \rb", "a \rb"), ("=41 =42", "A B"),
    ])
    func quotedPrintableDropsTransportWhiteSpace(encoded: String, decoded: String) {
        #expect(Fixtures.text(TransferEncoding.quotedPrintable(Array(encoded.utf8)[...])) == decoded)
    }
}
