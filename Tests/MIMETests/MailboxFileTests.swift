import Foundation
import Testing

@testable import MIME

/// mbox reading and writing, and Maildir names: tables of files and what they hold.
@Suite struct MailboxFileTests {
    static let dec3 = Date(timeIntervalSince1970: 1_796_309_724)  // Thu Dec  3 14:55:24 2026 UTC

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var file: String
        var variant: Mbox.Variant = .mboxrd
        var messages: [MboxMessage]
        var description: String { name }
    }

    static func msg(_ data: String, sender: String = "alice@example.org", date: Date? = dec3, flags: [String] = [])
        -> MboxMessage
    {
        MboxMessage(sender: sender, date: date, flags: flags, data: Array(data.utf8))
    }

    static let cases: [Case] = [
        Case(name: "empty file", file: "", messages: []),
        Case(
            name: "two messages, LF, blank line between",
            file:
                "From alice@example.org Thu Dec  3 14:55:24 2026\nSubject: a\n\nbody a\n\nFrom bob Thu Dec  3 14:55:24 2026\nSubject: b\n\nbody b\n",
            messages: [msg("Subject: a\r\n\r\nbody a\r\n"), msg("Subject: b\r\n\r\nbody b\r\n", sender: "bob")]),
        Case(
            name: "CRLF file, no final newline",
            file: "From alice@example.org Thu Dec  3 14:55:24 2026\r\nSubject: a\r\n\r\nbody",
            messages: [msg("Subject: a\r\n\r\nbody\r\n")]),
        Case(
            name: "mboxrd unquotes one >",
            file:
                "From alice@example.org Thu Dec  3 14:55:24 2026\nS: x\n\n>From here\n>>From there\n> From not\n>Fromage\n",
            messages: [msg("S: x\r\n\r\nFrom here\r\n>From there\r\n> From not\r\n>Fromage\r\n")]),
        Case(
            name: "mboxo keeps quoting",
            file: "From alice@example.org Thu Dec  3 14:55:24 2026\nS: x\n\n>From here\n>>From there\n",
            variant: .mboxo,
            messages: [msg("S: x\r\n\r\n>From here\r\n>>From there\r\n")]),
        Case(
            name: "Status and X-Status become flags and leave the header",
            file:
                "From alice@example.org Thu Dec  3 14:55:24 2026\nSubject: a\nStatus: RO\nX-Status: AF\n\nStatus: body line stays\n",
            messages: [
                msg("Subject: a\r\n\r\nStatus: body line stays\r\n", flags: ["\\Seen", "\\Answered", "\\Flagged"])
            ]),
        Case(
            name: "O alone is not seen; D in X-Status is deleted",
            file: "From alice@example.org Thu Dec  3 14:55:24 2026\nstatus: O\nx-status: D\nA: b\n\n",
            messages: [msg("A: b\r\n", flags: ["\\Deleted"])]),
        Case(
            name: "From line with a zone and odd spacing; bare sender",
            file: "From  alice@example.org  Thu Dec 3 14:55:24 +0000 2026\nA: b\n",
            messages: [msg("A: b\r\n")]),
        Case(
            name: "From line without a date, without a sender",
            file: "From x\nA: b\n\nFrom \nA: c\n",
            messages: [msg("A: b\r\n", sender: "x", date: nil), msg("A: c\r\n", sender: "MAILER-DAEMON", date: nil)]),
        Case(
            name: "mboxcl2: a Content-Length that holds keeps a From body line in its message",
            file:
                "From alice@example.org Thu Dec  3 14:55:24 2026\nContent-Length: 16\n\nFrom inside\nend\n\nFrom bob Thu Dec  3 14:55:24 2026\nSubject: b\n\nb\n",
            messages: [msg("Content-Length: 16\r\n\r\nFrom inside\r\nend\r\n"), msg("Subject: b\r\n\r\nb\r\n", sender: "bob")]),
        Case(
            name: "mboxcl2: nothing is unquoted, the length may end the file, the name is any case",
            file: "From alice@example.org Thu Dec  3 14:55:24 2026\ncontent-LENGTH:  8 \nStatus: RO\n\n>From x\n",
            messages: [msg("content-LENGTH:  8 \r\n\r\n>From x\r\n", flags: ["\\Seen"])]),
        Case(
            name: "a Content-Length that does not end at a From line is not followed",
            file: "From alice@example.org Thu Dec  3 14:55:24 2026\nContent-Length: 3\n\nFrom inside\nend\n",
            messages: [msg("Content-Length: 3\r\n"), msg("end\r\n", sender: "inside", date: nil)]),
        Case(
            name: "a field that is Content-Length only with its bytes ORed with 0x20 is not one (CR for -)",
            file: "From alice@example.org Thu Dec  3 14:55:24 2026\nContent\rLength: 16\n\nFrom inside\nend\n",
            messages: [msg("Content\rLength: 16\r\n"), msg("end\r\n", sender: "inside", date: nil)]),
        Case(
            name: "a Content-Length past the end of the file is not followed",
            file: "From alice@example.org Thu Dec  3 14:55:24 2026\nContent-Length: 999\n\n>From x\n",
            messages: [msg("Content-Length: 999\r\n\r\nFrom x\r\n")]),
        Case(
            name: "leading blank lines are skipped",
            file: "\n\nFrom alice@example.org Thu Dec  3 14:55:24 2026\nA: b\n",
            messages: [msg("A: b\r\n")]),
    ]

    @Test(arguments: cases)
    func parses(_ c: Case) throws {
        let parsed = try Mbox.parse(Array(c.file.utf8), variant: c.variant)
        #expect(parsed == c.messages)
        // What we write reads back the same (mboxrd).
        #expect(try Mbox.parse(Mbox.write(parsed)) == parsed)
    }

    @Test(arguments: ["Subject: x\n", "  \nSubject: x\n", ">From a Thu Dec  3 14:55:24 2026\n", "\u{FEFF}From a\n"])
    func refusesWhatIsNotMbox(_ file: String) {
        #expect(throws: Mbox.ParseError.self) { try Mbox.parse(Array(file.utf8)) }
    }

    @Test func writesMboxrdWithFromLineAndStatus() {
        let m = Self.msg(
            "Subject: a\r\nStatus: U\r\n\r\nFrom me\r\n>From you\r\n",
            flags: ["\\Seen", "\\Flagged", "\\Draft", "$Junk"])
        let text = String(decoding: Mbox.write([m]), as: UTF8.self)
        #expect(
            text
                == "From alice@example.org Thu Dec  3 14:55:24 2026\nSubject: a\nStatus: RO\nX-Status: FT\n\n>From me\n>>From you\n\n"
        )
    }

    @Test(arguments: [
        ("Subject: a\r\n\r\nbody\r\n", [String]()),
        ("Subject: a\r\n\r\nFrom x\r\n\r\n\r\n>>>From y\r\n", ["\\Deleted", "\\Answered"]),
        ("Subject: a\r\n", ["\\Seen"]),
        ("", ["\\Seen"]),
        ("\r\n\r\nbody only\r\n", []),
    ])
    func roundTrips(_ data: String, _ flags: [String]) throws {
        let m = Self.msg(data, flags: flags)
        let back = try Mbox.parse(Mbox.write([m, m]))
        #expect(back.count == 2)
        #expect(
            back.allSatisfy {
                $0.data == m.data && Set($0.flags) == Set(flags) && $0.date == m.date && $0.sender == m.sender
            })
    }

    @Test(arguments: [
        ("1733237724.M1P2.host:2,FRS", ["\\Flagged", "\\Answered", "\\Seen"]),
        ("1733237724.M1P2.host:2,DTab", ["\\Draft", "\\Deleted", "$Junk", "work"]),
        ("1733237724.M1P2.host:2,z", []),
        ("1733237724.M1P2.host", []),
        ("1733237724.M1P2.host:1,S", []),
        ("x:2,SS", ["\\Seen"]),
    ])
    func maildirFlags(_ name: String, _ flags: [String]) {
        #expect(Maildir.flags(fileName: name, keywords: ["$Junk", "work"]) == flags)
    }

    @Test func maildirSuffixAddsKeywords() {
        var keywords = ["work"]
        #expect(
            Maildir.suffix(["\\Seen", "\\Draft", "$Junk", "work", "\\Answered"], keywords: &keywords) == ":2,DRSab")
        #expect(keywords == ["work", "$Junk"])
        #expect(
            Maildir.flags(fileName: "x:2,DRSab", keywords: keywords).sorted() == [
                "$Junk", "\\Answered", "\\Draft", "\\Seen", "work",
            ])
        #expect(Maildir.parseKeywords(Maildir.formatKeywords(keywords)) == keywords)
        #expect(Maildir.parseKeywords("0 $Junk\n2 later\nbad\n99 far\n") == ["$Junk", "", "later"])
    }

    @Test(arguments: [(".Sent", "Sent"), (".Lists.swift", "Lists/swift")])
    func maildirFolders(_ dir: String, _ name: String) {
        #expect(Maildir.folderName(directory: dir) == name)
        #expect(Maildir.directory(folder: name) == dir)
    }

    @Test(arguments: [".", "..", "cur", ".a..b", ".a.", "tmp"])
    func notMaildirFolders(_ dir: String) {
        #expect(Maildir.folderName(directory: dir) == nil)
    }
}
