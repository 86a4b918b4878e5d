import Testing

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

    @Test(arguments: cases)
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
