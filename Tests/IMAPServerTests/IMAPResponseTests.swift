import Testing

import struct IMAP.ThreadForest
import struct IMAP.ThreadNode

@testable import IMAPServer

/// Each response kind encoded once, byte for byte as RFC 9051 §7 writes it.
@Suite struct IMAPResponseTests {
    static let cases: [(IMAPResponse, String)] = [
        (.tagged("a1", .ok, "NOOP completed"), "a1 OK NOOP completed\r\n"),
        (.tagged("a2", .ok, code: "READ-WRITE", "SELECT completed"), "a2 OK [READ-WRITE] SELECT completed\r\n"),
        (.tagged("a3", .no, code: "TRYCREATE", "No mailbox X"), "a3 NO [TRYCREATE] No mailbox X\r\n"),
        (.tagged("a4", .no, code: nil, "Not now"), "a4 NO Not now\r\n"),
        (.tagged("a5", .bad, "Invalid command"), "a5 BAD Invalid command\r\n"),
        (.tagged("*", .no, code: "TOOBIG", "Too large"), "* NO [TOOBIG] Too large\r\n"),
        (.untagged(.ok, code: "UIDNEXT 4", "Predicted next UID"), "* OK [UIDNEXT 4] Predicted next UID\r\n"),
        (.untagged(.ok, code: "PERMANENTFLAGS ()", "Flags permitted"), "* OK [PERMANENTFLAGS ()] Flags permitted\r\n"),
        (.untagged(.no, "Disk almost full"), "* NO Disk almost full\r\n"),
        (.bye("Logging out"), "* BYE Logging out\r\n"),
        (.continuation("idling"), "+ idling\r\n"),
        // An empty SASL challenge: the space stays (RFC 9051 §7.5).
        (.continuation(""), "+ \r\n"),
        (.capability(["IMAP4rev1", "IDLE"]), "* CAPABILITY IMAP4rev1 IDLE\r\n"),
        (.enabled(["CONDSTORE", "QRESYNC"]), "* ENABLED CONDSTORE QRESYNC\r\n"),
        (.flags(["\\Seen", "$Junk"]), "* FLAGS (\\Seen $Junk)\r\n"),
        (.flags([]), "* FLAGS ()\r\n"),
        (.exists(0), "* 0 EXISTS\r\n"),
        (.exists(172), "* 172 EXISTS\r\n"),
        (.recent(1), "* 1 RECENT\r\n"),
        (.expunge(44), "* 44 EXPUNGE\r\n"),
        (.vanished(earlier: false, [3, 4, 5, 9]), "* VANISHED 3:5,9\r\n"),
        (.vanished(earlier: true, [7]), "* VANISHED (EARLIER) 7\r\n"),
    ]

    /// Responses that carry names, number lists and nested data.
    static let dataCases: [(IMAPResponse, String)] = [
        (.id(["name", "Mailroom"]), "* ID (\"name\" \"Mailroom\")\r\n"),
        (.namespace(personal: ""), "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"),
        (.flagUpdate(3, uid: 17, flags: ["\\Seen", "\\Recent"], modseq: 9), "* 3 FETCH (UID 17 FLAGS (\\Seen \\Recent) MODSEQ (9))\r\n"),
        (.flagUpdate(1, uid: nil, flags: [], modseq: nil), "* 1 FETCH (FLAGS ())\r\n"),
        (.flagUpdate(2, uid: 5, flags: nil, modseq: 12), "* 2 FETCH (UID 5 MODSEQ (12))\r\n"),
    ]

    static let listCases: [(IMAPResponse, String)] = [
        (.list(["\\HasNoChildren"], .init(name: "Sent", utf8: false)), "* LIST (\\HasNoChildren) \"/\" Sent\r\n"),
        (.list(["\\Noselect"], .init(name: "", utf8: false)), "* LIST (\\Noselect) \"/\" \"\"\r\n"),
        // Names: modified UTF-7 until the client enables UTF-8; a space makes a quoted string.
        (.list([], .init(name: "Entwürfe", utf8: false)), "* LIST () \"/\" Entw&APw-rfe\r\n"),
        (.list([], .init(name: "Entwürfe", utf8: true)), "* LIST () \"/\" \"Entwürfe\"\r\n"),
        (.list([], .init(name: "My \"Box\"", utf8: false)), "* LIST () \"/\" \"My \\\"Box\\\"\"\r\n"),
        (.list(["\\NonExistent", "\\HasChildren"], .init(name: "Lists", utf8: false), childInfo: ["SUBSCRIBED"]),
         "* LIST (\\NonExistent \\HasChildren) \"/\" Lists (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"),
        (.lsub(["\\Noselect"], .init(name: "a/b", utf8: false)), "* LSUB (\\Noselect) \"/\" a/b\r\n"),
        (.status(.init(name: "INBOX", utf8: false), [.init(attribute: .messages, value: 231), .init(attribute: .uidNext, value: 44292)]),
         "* STATUS INBOX (MESSAGES 231 UIDNEXT 44292)\r\n"),
    ]

    static let numberCases: [(IMAPResponse, String)] = [
        (.search([2, 84, 882], modseq: nil), "* SEARCH 2 84 882\r\n"),
        (.search([], modseq: nil), "* SEARCH\r\n"),
        (.search([4], modseq: 917162500), "* SEARCH 4 (MODSEQ 917162500)\r\n"),
        (.sort([5, 3, 4], modseq: nil), "* SORT 5 3 4\r\n"),
        (.esearch(tag: "A282", uid: false, [.min(2), .count(3)]), "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n"),
        (.esearch(tag: "A283", uid: true, [.all([4, 5, 6, 9, 2, 3]), .modseq(12)]), "* ESEARCH (TAG \"A283\") UID ALL 4:6,9,2:3 MODSEQ 12\r\n"),
        (.esearch(tag: "t", uid: false, [.partial(1...2, [7, 8]), .partial(9...10, [])]), "* ESEARCH (TAG \"t\") PARTIAL (1:2 7:8) PARTIAL (9:10 NIL)\r\n"),
        (.esearch(tag: "t", uid: false, []), "* ESEARCH (TAG \"t\")\r\n"),
        (.thread(ThreadForest()), "* THREAD\r\n"),
        (.thread(ThreadForest([ThreadNode(2), ThreadNode(3, [ThreadNode(6, [ThreadNode(4)])])])), "* THREAD (2)(3 6 4)\r\n"),
        (.quotaRoot(.init(name: "INBOX", utf8: false), roots: [""]), "* QUOTAROOT INBOX \"\"\r\n"),
        (.quotaRoot(.init(name: "INBOX", utf8: false), roots: []), "* QUOTAROOT INBOX\r\n"),
        (.quota(root: "", [.init(name: "STORAGE", usage: 10, limit: 512)]), "* QUOTA \"\" (STORAGE 10 512)\r\n"),
    ]

    @Test(arguments: cases + dataCases + listCases + numberCases)
    func encodes(_ response: IMAPResponse, _ expected: String) {
        #expect(String(decoding: response.bytes, as: UTF8.self) == expected)
    }

    @Test func aWriterSendsTheEncodedBytes() {
        var sent: [UInt8] = []
        let out = ResponseWriter { sent += $0 }
        out.write(.exists(3))
        out.write(.tagged("t", .ok, code: "CLOSED", "done"))
        out.flush()
        #expect(String(decoding: sent, as: UTF8.self) == "* 3 EXISTS\r\nt OK [CLOSED] done\r\n")
    }

    @Test func permanentFlagsCodeListsTheFlags() {
        #expect(IMAPSession.permanentFlagsCode(["\\Seen", "\\*"]) == "PERMANENTFLAGS (\\Seen \\*)")
        #expect(IMAPSession.permanentFlagsCode([]) == "PERMANENTFLAGS ()")
    }
}
