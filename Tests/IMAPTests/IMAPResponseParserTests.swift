import Foundation
import Testing

@testable import IMAP

/// The client side's response parser (for `mailroom migrate imap`): fixtures from Dovecot and
/// RFC 9051, encode→parse round trips, and input that must be refused.
struct IMAPResponseParserTests {
    static func parse(_ s: String) throws -> IMAPResponse { try IMAPResponseParser.parse(Array((s + "\r\n").utf8)) }

    static let fixtures: [(String, IMAPResponse)] = [
        (
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.",
            .untagged(
                .status(
                    IMAPStatusResponse(
                        .ok,
                        code: .capability([
                            "IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "STARTTLS",
                            "AUTH=PLAIN",
                        ]), text: "Dovecot (Debian) ready.")))
        ),
        ("* CAPABILITY IMAP4rev1 IDLE", .untagged(.capability(["IMAP4rev1", "IDLE"]))),
        ("m1 OK Logged in", .tagged(tag: "m1", IMAPStatusResponse(.ok, text: "Logged in"))),
        (
            "m2 NO [AUTHENTICATIONFAILED] Authentication failed.",
            .tagged(
                tag: "m2",
                IMAPStatusResponse(.no, code: .other("AUTHENTICATIONFAILED", nil), text: "Authentication failed."))
        ),
        ("m3 BAD", .tagged(tag: "m3", IMAPStatusResponse(.bad, text: ""))),
        ("m4 OK [READ-ONLY]", .tagged(tag: "m4", IMAPStatusResponse(.ok, code: .other("READ-ONLY", nil), text: ""))),
        (
            "* OK [UIDVALIDITY 1764780000] UIDs valid",
            .untagged(.status(IMAPStatusResponse(.ok, code: .uidValidity(1_764_780_000), text: "UIDs valid")))
        ),
        (
            "* OK [UIDNEXT 4392] Predicted next UID",
            .untagged(.status(IMAPStatusResponse(.ok, code: .uidNext(4392), text: "Predicted next UID")))
        ),
        (
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
            .untagged(
                .status(
                    IMAPStatusResponse(
                        .ok, code: .other("PERMANENTFLAGS", "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)"),
                        text: "Flags permitted.")))
        ),
        ("* BYE Logging out", .untagged(.status(IMAPStatusResponse(.bye, text: "Logging out")))),
        ("* FLAGS (\\Answered \\Flagged $Forwarded)", .untagged(.flags(["\\Answered", "\\Flagged", "$Forwarded"]))),
        ("* 23 EXISTS", .untagged(.exists(23))),
        ("* 0 RECENT", .untagged(.recent(0))),
        ("* 4 EXPUNGE", .untagged(.expunge(4))),
        (
            "* LIST (\\HasNoChildren \\Sent) \"/\" Sent",
            .untagged(
                .list(
                    IMAPListEntry(attributes: ["\\HasNoChildren", "\\Sent"], delimiter: 0x2F, name: Array("Sent".utf8)))
            )
        ),
        (
            "* LIST (\\HasNoChildren) \".\" \"INBOX.Sent Items\"",
            .untagged(
                .list(
                    IMAPListEntry(
                        attributes: ["\\HasNoChildren"], delimiter: 0x2E, name: Array("INBOX.Sent Items".utf8))))
        ),
        (
            "* LIST () \"\\\\\" {3}\r\na\"b",
            .untagged(.list(IMAPListEntry(attributes: [], delimiter: 0x5C, name: Array("a\"b".utf8))))
        ),
        (
            "* LIST (\\Noselect) NIL \"\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            .untagged(
                .list(
                    IMAPListEntry(
                        attributes: ["\\Noselect"], delimiter: nil, name: [],
                        extended: Array("(\"CHILDINFO\" (\"SUBSCRIBED\"))".utf8))))
        ),
        (
            "* 3 FETCH (UID 17 RFC822.SIZE 5 FLAGS (\\Seen $Label1) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" BODY[] {5}\r\nhello)",
            .untagged(
                .fetch(
                    3,
                    [
                        .uid(17), .rfc822Size(5), .flags(["\\Seen", "$Label1"]),
                        .internalDate("17-Jul-1996 02:44:25 -0700"),
                        .body(section: "", origin: nil, data: Array("hello".utf8)),
                    ]))
        ),
        ("* 1 FETCH (FLAGS ())", .untagged(.fetch(1, [.flags([])]))),
        (
            "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)]<0> NIL)",
            .untagged(.fetch(1, [.body(section: "HEADER.FIELDS (SUBJECT)", origin: 0, data: nil)]))
        ),
        ("* 2 FETCH (RFC822 \"x\")", .untagged(.fetch(2, [.body(section: "", origin: nil, data: [0x78])]))),
        (
            "* 2 FETCH (MODSEQ (12) BODY (\"text\" \"plain\" NIL NIL NIL \"7bit\" 2 1))",
            .untagged(
                .fetch(
                    2,
                    [
                        .other("MODSEQ", Array("(12)".utf8)),
                        .other("BODY", Array("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 2 1)".utf8)),
                    ]))
        ),
        (
            "* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL",
            .untagged(.other("NAMESPACE", Array("((\"INBOX.\" \".\")) NIL NIL".utf8)))
        ),
        ("* SEARCH", .untagged(.other("SEARCH", []))),
        ("* 5 XWEIRD 1 2", .untagged(.other("5 XWEIRD", Array("1 2".utf8)))),
        ("+ ", .continuation("")),
        ("+ Ready for literal data", .continuation("Ready for literal data")),
        ("+", .continuation("")),
    ]

    @Test(arguments: fixtures)
    func parses(_ text: String, _ expected: IMAPResponse) throws {
        #expect(try Self.parse(text) == expected)
        // And what we would write parses back to the same value.
        #expect(try IMAPResponseParser.parse(expected.encoded()) == expected)
    }

    static let malformed: [String] = [
        "",  // nothing
        "m1",  // no status
        "m1 MAYBE all good",  // not a condition
        "m1 BYE bye",  // tagged BYE
        "+x OK",  // a tag cannot hold +
        "* 0 FETCH (UID 1)",  // message 0
        "* 1 FETCH (UID 0)",  // UID 0
        "* 1 FETCH UID 1",  // no parentheses
        "* 1 FETCH (UID 1",  // unclosed
        "* 1 FETCH (RFC822.SIZE x)",
        "* 1 FETCH (INTERNALDATE \"31-Feb-2026 00:00:00 +0000\")",  // no such day
        "* 1 FETCH (INTERNALDATE \"yesterday\")",
        "* 1 FETCH (BODY[] {10}\r\nshort)",  // literal shorter than announced
        "* 1 FETCH (BODY[]<x> NIL)",
        "* 1 FETCH (BODY[ NIL)",
        "* 1 FETCH (X " + String(repeating: "(", count: 40) + String(repeating: ")", count: 40) + ")",  // too deep
        "* 99999999999 EXISTS",  // over 32 bits
        "* LIST (\\Sent) \"ab\" Sent",  // two-character delimiter
        "* LIST (\\Sent) \"/\"",  // no name
        "* OK [UIDVALIDITY 0] zero",
        "* OK [UIDVALIDITY x] x",
        "* OK [CAPABILITY IMAP4rev1 no bracket",
        "m1 OK text {3}\r\nabc",  // a literal inside text
        "* CAPABILITY",
        "* FLAGS (\\Seen",
    ]

    @Test(arguments: malformed)
    func refuses(_ text: String) {
        #expect(throws: IMAPParseError.self) { try Self.parse(text) }
    }

    @Test func framesResponsesAcrossReads() throws {
        // A FETCH with a literal split over reads, then the tagged answer, through the framer.
        let wire = Array("* 1 FETCH (UID 9 BODY[] {12}\r\nhello\r\nworld)\r\nm5 OK done\r\n".utf8)
        var framer = IMAPFramer(limits: IMAPLimits())
        var responses: [IMAPResponse] = []
        for chunk in stride(from: 0, to: wire.count, by: 7).map({ Array(wire[$0..<min($0 + 7, wire.count)]) }) {
            framer.append(chunk)
            while let e = framer.next() {
                if case .command(let frame) = e {
                    responses.append(
                        try #require(
                            try? IMAPResponseParser.parse(frame),
                            "\(String(decoding: frame, as: UTF8.self).debugDescription)"))
                }
            }
        }
        #expect(
            responses == [
                .untagged(.fetch(1, [.uid(9), .body(section: "", origin: nil, data: Array("hello\r\nworld".utf8))])),
                .tagged(tag: "m5", IMAPStatusResponse(.ok, text: "done")),
            ])
    }

    @Test func readsDates() {
        let d = IMAPDateTime.parse("17-Jul-1996 02:44:25 -0700")
        #expect(d == Date(timeIntervalSince1970: 837_596_665))
        #expect(IMAPDateTime.parse(" 3-Dec-2026 14:55:24 +0000") == IMAPDateTime.parse("03-Dec-2026 14:55:24 +0000"))
        #expect(IMAPDateTime.format(d!) == "17-Jul-1996 09:44:25 +0000")
        #expect(IMAPDateTime.parse("17-Jux-1996 02:44:25 -0700") == nil)
    }

    @Test func readsTheNamespace() {
        let n = IMAPResponseParser.personalNamespace(Array("((\"INBOX.\" \".\")) NIL NIL".utf8))
        #expect(n?.prefix == Array("INBOX.".utf8) && n?.delimiter == 0x2E)
        #expect(IMAPResponseParser.personalNamespace(Array("NIL NIL NIL".utf8)) == nil)
    }

    /// Found by the imap-response fuzz target: the tag of an oversized literal's command was
    /// looked for past its line, so it depended on what had been pipelined after it.
    @Test func anOversizedLiteralsTagIsOnItsOwnLine() {
        var limits = IMAPLimits()
        limits.maxLiteralSize = 10
        for pipelined in ["", "next command\r\n"] {
            var framer = IMAPFramer(limits: limits)
            framer.append(Array(("A1}{99}\r\n" + pipelined).utf8))
            #expect(framer.next() == .literalTooLarge(tag: nil, size: 99, limit: 10))
            var tagged = IMAPFramer(limits: limits)
            tagged.append(Array(("a1 X {99}\r\n" + pipelined).utf8))
            #expect(tagged.next() == .literalTooLarge(tag: "a1", size: 99, limit: 10))
        }
    }
}
