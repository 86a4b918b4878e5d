import Foundation
import Testing
import TestSupport

/// `mailroom mailbox import|export` through the real server: an mbox file and a Maildir (flags,
/// keywords, a subfolder, a bad message) are imported, IMAP shows their flags and dates, and
/// the exports hold the same bytes.
@Suite struct MailboxFileImportTests {
    /// As our writer lays it out (Status fields last in the header, a blank line after each
    /// message), so that the export must be this file byte for byte; oldest first, the order a
    /// Maildir is imported in.
    static let mbox = """
        From alice@example.org Thu Dec  3 14:55:24 2026
        From: Alice <alice@example.org>
        Subject: one
        Status: RO
        X-Status: F

        first body
        >From the quoted line

        From bob@example.net Sun Jan 10 08:00:00 2027
        From: bob@example.net
        Subject: two

        second body
        >>From twice quoted


        """

    static func write(_ text: String, _ path: String, mtime: Date? = nil) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        if let mtime { try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: path) }
    }

    static func crlf(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: "\r\n") }

    @Test func importsMboxAndMaildirAndExportsTheSameBytes() async throws {
        try await blocking {
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let imap = try s.waitForPorts(["IMAP"])[0]
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)
            let root = s.root.path

            // mbox into a folder that does not exist yet.
            try Self.write(Self.mbox, "\(root)/in.mbox")
            let mboxImport = try s.cli([
                "mailbox", "import", "alice@example.org", "\(root)/in.mbox", "--folder", "Old/2026",
            ])
            #expect(
                mboxImport.status == 0 && mboxImport.out.contains("Old/2026: 2 imported"),
                "\(mboxImport.out)\(mboxImport.err)")

            // A Maildir: LF files in cur/ and new/, a keyword, a subfolder, and an empty file.
            let md = "\(root)/Maildir"
            let seen = "From: carol@example.org\nSubject: three\n\nthird\n"
            let fresh = "From: dan@example.org\nSubject: four\n\nfourth\n"
            let listed = "From: list@example.org\nSubject: five\n\nfifth\n"
            try Self.write(seen, "\(md)/cur/1700000000.M1.host:2,FS", mtime: Date(timeIntervalSince1970: 1_700_000_000))
            try Self.write(fresh, "\(md)/new/1700000100.M2.host", mtime: Date(timeIntervalSince1970: 1_700_000_100))
            try Self.write("", "\(md)/cur/1700000200.M3.host:2,S")
            try Self.write(
                listed, "\(md)/.Lists.swift/cur/1700000300.M4.host:2,Rb",
                mtime: Date(timeIntervalSince1970: 1_700_000_300))
            try Self.write("0 $Junk\n1 $Important\n", "\(md)/.Lists.swift/dovecot-keywords")
            try FileManager.default.createDirectory(atPath: "\(md)/tmp", withIntermediateDirectories: true)
            let mdImport = try s.cli(["mailbox", "import", "alice@example.org", md])
            #expect(mdImport.status != 0, "one message was refused: \(mdImport.out)")
            #expect(
                mdImport.out.contains("INBOX: 2 imported") && mdImport.out.contains("Lists/swift: 1 imported"),
                "\(mdImport.out)")
            #expect(mdImport.out.contains("refused INBOX cur/1700000200.M3.host:2,S: empty message"), "\(mdImport.out)")

            // IMAP sees the flags and internal dates.
            let login = "a LOGIN alice@example.org alice-password-1\r\n"
            let old = Peers.converse(
                port: imap, login + "b SELECT Old/2026\r\nc FETCH 1:* (FLAGS INTERNALDATE)\r\nd LOGOUT\r\n")
            #expect(old.contains("* 2 EXISTS"), "\(old)")
            #expect(
                old.contains(#"* 1 FETCH (FLAGS (\Seen \Flagged \Recent) INTERNALDATE "03-Dec-2026 14:55:24 +0000")"#),
                "\(old)")
            #expect(old.contains(#"* 2 FETCH (FLAGS (\Recent) INTERNALDATE "10-Jan-2027 08:00:00 +0000")"#), "\(old)")
            let inbox = Peers.converse(
                port: imap, login + "b SELECT INBOX\r\nc FETCH 1:* (FLAGS INTERNALDATE)\r\nd LOGOUT\r\n")
            #expect(inbox.contains("* 2 EXISTS"), "\(inbox)")
            #expect(
                inbox.contains(
                    #"* 1 FETCH (FLAGS (\Flagged \Seen \Recent) INTERNALDATE "14-Nov-2023 22:13:20 +0000")"#),
                "\(inbox)")
            #expect(
                inbox.contains(#"* 2 FETCH (FLAGS (\Recent) INTERNALDATE "14-Nov-2023 22:15:00 +0000")"#), "\(inbox)")
            let lists = Peers.converse(
                port: imap, login + "b SELECT Lists/swift\r\nc FETCH 1 (FLAGS BODY.PEEK[])\r\nd LOGOUT\r\n")
            #expect(lists.contains(#"FLAGS (\Answered $Important \Recent)"#), "\(lists)")
            #expect(
                lists.contains("{\(Self.crlf(listed).utf8.count)}\r\n" + Self.crlf(listed)),
                "stored with CRLF: \(lists)")

            // mbox export of what the mbox import made: the same file, byte for byte.
            let mboxOut = try s.cli([
                "mailbox", "export", "alice@example.org", "--format", "mbox", "--output", "\(root)/out.mbox",
                "--folder", "Old/2026",
            ])
            #expect(mboxOut.status == 0 && mboxOut.out.contains("Old/2026: 2 exported"), "\(mboxOut.out)\(mboxOut.err)")
            #expect(try String(contentsOfFile: "\(root)/out.mbox", encoding: .utf8) == Self.mbox)
            #expect(
                try s.cli([
                    "mailbox", "export", "alice@example.org", "--format", "mbox", "--output", "\(root)/out.mbox",
                ]).status != 0, "no overwriting")

            // Maildir export: cur/ files with the stored bytes, flag suffixes, keywords and mtimes.
            let mdOut = "\(root)/out-maildir"
            let exported = try s.cli([
                "mailbox", "export", "alice@example.org", "--format", "maildir", "--output", mdOut,
            ])
            #expect(
                exported.status == 0 && exported.out.contains("INBOX: 2 exported"), "\(exported.out)\(exported.err)")
            let cur = try FileManager.default.contentsOfDirectory(atPath: "\(mdOut)/cur").sorted()
            #expect(
                cur.count == 2 && cur[0].hasPrefix("1700000000.") && cur[0].hasSuffix(":2,FS")
                    && cur[1].hasSuffix(":2,"), "\(cur)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(mdOut)/cur/\(cur[0])")) == Data(Self.crlf(seen).utf8))
            let mtime =
                try FileManager.default.attributesOfItem(atPath: "\(mdOut)/cur/\(cur[0])")[.modificationDate] as? Date
            #expect(mtime == Date(timeIntervalSince1970: 1_700_000_000))
            let sub = try FileManager.default.contentsOfDirectory(atPath: "\(mdOut)/.Lists.swift/cur")
            #expect(sub.count == 1 && sub[0].hasSuffix(":2,Ra"), "\(sub)")
            #expect(
                try String(contentsOfFile: "\(mdOut)/.Lists.swift/dovecot-keywords", encoding: .utf8)
                    == "0 $Important\n")
            #expect(FileManager.default.fileExists(atPath: "\(mdOut)/.Old.2026/cur"))
            #expect(FileManager.default.fileExists(atPath: "\(mdOut)/.Sent/cur"), "empty folders are exported too")

            // The export imports back into another account unchanged.
            #expect(try s.cli(["account", "add", "bob@example.org", "--password", "bob-password-1"]).status == 0)
            let again = try s.cli(["mailbox", "import", "bob@example.org", mdOut])
            #expect(
                again.status == 0 && again.out.contains("Old/2026: 2 imported")
                    && again.out.contains("Lists/swift: 1 imported"), "\(again.out)\(again.err)")
            let bobOld = try s.cli([
                "mailbox", "export", "bob@example.org", "--format", "mbox", "--output", "\(root)/bob.mbox", "--folder",
                "Old/2026",
            ])
            #expect(bobOld.status == 0)
            // Read as mboxo, the quoted lines keep their '>', so the export quotes them once more.
            let raw = try s.cli([
                "mailbox", "import", "alice@example.org", "\(root)/in.mbox", "--folder", "Raw", "--mbox-variant",
                "mboxo",
            ])
            #expect(raw.status == 0 && raw.out.contains("Raw: 2 imported"), "\(raw.out)\(raw.err)")
            #expect(
                try s.cli([
                    "mailbox", "export", "alice@example.org", "--format", "mbox", "--output", "\(root)/raw.mbox",
                    "--folder", "Raw",
                ]).status == 0)
            let requoted = Self.mbox.replacingOccurrences(of: "\n>", with: "\n>>")
            #expect(try String(contentsOfFile: "\(root)/raw.mbox", encoding: .utf8) == requoted)

            // Over the quota: what fits is imported, the rest reported, the import goes on.
            #expect(
                try s.cli(["account", "add", "carol@example.org", "--password", "carol-password-1", "--quota", "1K"])
                    .status == 0)
            let big = (0..<6).map {
                "From a@b Thu Dec  3 14:55:24 2026\nSubject: \($0)\n\n" + String(repeating: "x", count: 300) + "\n\n"
            }.joined()
            try Self.write(big, "\(root)/big.mbox")
            let over = try s.cli(["mailbox", "import", "carol@example.org", "\(root)/big.mbox"])
            #expect(over.status != 0 && over.out.contains("INBOX: 3 imported"), "\(over.out)\(over.err)")
            #expect(
                over.out.contains("refused INBOX message 4: over the account's quota")
                    && over.out.contains("message 6: over"), "\(over.out)")

            let bobMbox = try String(contentsOfFile: "\(root)/bob.mbox", encoding: .utf8)
            #expect(bobMbox == Self.mbox, "\(bobMbox.debugDescription)")
        }
    }
}
