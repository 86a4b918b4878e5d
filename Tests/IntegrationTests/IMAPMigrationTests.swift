import Foundation
import Testing
import TestSupport

/// `mailroom migrate imap` against a real Dovecot: accounts with folders (a hierarchy with
/// Dovecot's `.` separator, special-use and common names, a modified UTF-7 name), flags,
/// keywords and dates are copied and checked over our own IMAP; a second run copies nothing,
/// new mail at the source is all a third run copies, a new UIDVALIDITY duplicates nothing, a
/// master user opens an account, a wrong password fails only its account.
@Suite(.enabled(if: Peers.shouldRun(Peers.find("dovecot") != nil && getuid() == 0)))
struct IMAPMigrationTests {
    struct Sample {
        var folder: String  // Dovecot's name
        var target: String  // ours
        var bytes: [UInt8]
        var maildirFlags: String
        var imapFlags: [String]
        var date: Date
    }

    static func message(_ n: Int, subject: String, extra: String = "") -> [UInt8] {
        Array(
            """
            Return-Path: <sender\(n)@example.net>\r
            From: Sender \(n) <sender\(n)@example.net>\r
            To: alice@example.org\r
            Subject: \(subject)\r
            Date: Thu, 03 Dec 2026 1\(n % 10):00:00 +0000\r
            Message-ID: <m\(n).\(subject.hashValue & 0xffff)@example.net>\r
            MIME-Version: 1.0\r
            \(extra)\r
            Body of message \(n): the quarterly report, see you at the meeting.\r
            A second line, and a line that starts with a dot:\r
            .like this\r

            """.utf8)
    }

    static func multipart(_ n: Int) -> [UInt8] {
        Array(
            """
            From: =?UTF-8?Q?Bj=C3=B6rn_M=C3=BCller?= <bjorn@example.net>\r
            To: alice@example.org\r
            Subject: =?UTF-8?B?UsOpdW5pb24gZCfDqXF1aXBl?=\r
            Date: Tue, 01 Dec 2026 09:30:00 +0100\r
            Message-ID: <mp\(n)@example.net>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b\(n)"\r
            \r
            --b\(n)\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r
            Grüße aus Zürich — the slides are attached.\r
            --b\(n)\r
            Content-Type: application/octet-stream; name="slides.bin"\r
            Content-Transfer-Encoding: base64\r
            Content-Disposition: attachment; filename="slides.bin"\r
            \r
            \(Data((0..<3000).map { UInt8(($0 * 7 + n) & 0xff) }).base64EncodedString(options: .lineLength76Characters).replacingOccurrences(of: "\n", with: "\r\n"))\r
            --b\(n)--\r

            """.utf8)
    }

    static let day: TimeInterval = 86400
    static let base = Date(timeIntervalSince1970: 1_780_000_000)

    /// Alice's mail at the source.
    static func aliceMail() -> [Sample] {
        var out: [Sample] = []
        func add(_ folder: String, _ target: String, _ bytes: [UInt8], _ mf: String, _ flags: [String]) {
            out.append(
                Sample(
                    folder: folder, target: target, bytes: bytes, maildirFlags: mf, imapFlags: flags,
                    date: base.addingTimeInterval(Double(out.count) * day + 17)))
        }
        add("INBOX", "INBOX", message(1, subject: "Quarterly report"), "S", ["\\Seen"])
        add("INBOX", "INBOX", message(2, subject: "Lunch?"), "", [])
        add("INBOX", "INBOX", message(3, subject: "Urgent: contract"), "FS", ["\\Flagged", "\\Seen"])
        add("INBOX", "INBOX", multipart(4), "RS", ["\\Answered", "\\Seen"])
        add("INBOX", "INBOX", message(5, subject: "8-bit Sübject in raw UTF-8"), "S", ["\\Seen"])
        add(
            "Sent Items", "Sent", message(6, subject: "Re: Lunch?", extra: "In-Reply-To: <m2@example.net>\r\n"), "S",
            ["\\Seen"])
        add("Drafts", "Drafts", message(7, subject: "Draft proposal"), "DS", ["\\Draft", "\\Seen"])
        add("Lists.swift", "Lists/swift", message(8, subject: "[swift] release"), "Sa", ["\\Seen", "$Label1"])
        add("Lists.swift", "Lists/swift", message(9, subject: "[swift] review"), "b", ["Work"])
        add("&AMk-t&AOk-", "Été", message(10, subject: "Vacances"), "S", ["\\Seen"])
        return out
    }

    /// Logs in to our IMAP and returns the folder's messages as `FETCH` text.
    static func fetch(_ port: Int, _ login: String, _ password: String, _ folder: String) -> String {
        let quoted = "\"\(folder)\""
        return Peers.converse(
            port: port,
            "a LOGIN \(login) \(password)\r\nb SELECT \(quoted)\r\nc FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])\r\nd LOGOUT\r\n"
        )
    }

    static func exists(_ text: String) -> Int? {
        for line in text.split(separator: "\r\n") where line.hasPrefix("* ") && line.hasSuffix(" EXISTS") {
            return Int(line.dropFirst(2).dropLast(7))
        }
        return nil
    }

    static func imapDate(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 0)
        f.dateFormat = "dd-MMM-yyyy HH:mm:ss"
        return f.string(from: d) + " +0000"
    }

    /// Every sample is in its folder here, with its bytes, flags and date, and nothing else.
    static func expectArrived(_ samples: [Sample], imap: Int, login: String, password: String) {
        for target in Set(samples.map(\.target)) {
            let expected = samples.filter { $0.target == target }
            // Our server takes folder names in modified UTF-7, as IMAP4rev1 clients send them.
            let text = fetch(imap, login, password, target == "Été" ? "&AMk-t&AOk-" : target)
            #expect(exists(text) == expected.count, "\(target): \(text.prefix(600))")
            for s in expected {
                let body = "{\(s.bytes.count)}\r\n" + String(decoding: s.bytes, as: UTF8.self)
                #expect(
                    text.contains(body),
                    "\(target): a message is missing or changed: \(String(decoding: s.bytes.prefix(200), as: UTF8.self))"
                )
                #expect(
                    text.contains("INTERNALDATE \"\(imapDate(s.date))\""),
                    "\(target): date \(imapDate(s.date)) in \(text.prefix(400))")
                // Flags in the FETCH line of that message (the line before its literal).
                if let r = text.range(of: body) {
                    let line = text[..<r.lowerBound].split(separator: "\r\n").last.map(String.init) ?? ""
                    for f in s.imapFlags { #expect(line.contains(f), "\(target): \(f) missing in \(line)") }
                }
            }
        }
    }

    @Test func migratesFromDovecot() async throws {
        try await blocking {
            let peer = try #require(
                // No `auth_master_user_separator`: the master user works only through
                // AUTHENTICATE PLAIN with carol as the authorization identity.
                try DovecotPeer.start(
                    users: ["alice": "alice-old-pass", "bob": "bob-old-pass", "carol": "carol-old-pass"],
                    masterUsers: ["migrator": "master-secret"], masterSeparator: nil),
                "dovecot is not installed, or the tests do not run as root")
            defer { peer.destroy() }
            let alice = Self.aliceMail()
            for s in alice {
                try peer.put(
                    user: "alice", folder: s.folder, message: s.bytes, flags: s.maildirFlags, date: s.date,
                    keywords: s.folder == "Lists.swift" ? ["$Label1", "Work"] : [])
            }
            let bob = (11...13).map {
                Sample(
                    folder: "INBOX", target: "INBOX", bytes: Self.message($0, subject: "Bob \($0)"), maildirFlags: "S",
                    imapFlags: ["\\Seen"], date: Self.base.addingTimeInterval(Double($0) * 3600))
            }
            for s in bob { try peer.put(user: "bob", folder: "INBOX", message: s.bytes, flags: "S", date: s.date) }
            let carol = [
                Sample(
                    folder: "INBOX", target: "INBOX", bytes: Self.multipart(20), maildirFlags: "F",
                    imapFlags: ["\\Flagged"],
                    date: Self.base)
            ]
            try peer.put(user: "carol", folder: "INBOX", message: carol[0].bytes, flags: "F", date: carol[0].date)

            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let imap = try s.waitForPorts(["IMAP"])[0]
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            for user in ["alice", "bob", "carol"] {
                #expect(
                    try s.cli(["account", "add", "\(user)@example.org", "--password", "\(user)-new-pass-1"]).status == 0
                )
            }
            let root = s.root.path
            let from = "imap+plain://127.0.0.1:\(peer.port)"
            try
                "source_login,source_password,address\nalice,alice-old-pass,alice@example.org\nbob,bob-old-pass,bob@example.org\n"
                .write(toFile: "\(root)/accounts.csv", atomically: true, encoding: .utf8)

            // A dry run lists the mapping and copies nothing.
            let dry = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/accounts.csv", "--dry-run"])
            #expect(dry.status == 0, "\(dry.out)\(dry.err)\n\(peer.logText().suffix(2000))")
            #expect(dry.out.contains("Dry run"), "\(dry.out)")
            for line in ["Sent Items", "→ Sent", "Lists.swift", "→ Lists/swift", "→ Été", "5 (", "2 ("] {
                #expect(dry.out.contains(line), "\(line) in \(dry.out)")
            }
            #expect(Self.exists(Self.fetch(imap, "alice@example.org", "alice-new-pass-1", "INBOX")) == 0)

            // The first run copies everything.
            let first = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/accounts.csv"])
            #expect(first.status == 0, "\(first.out)\(first.err)")
            #expect(first.out.contains("All 2 accounts copied."), "\(first.out)")
            if ProcessInfo.processInfo.environment["MAILROOM_SHOW_MIGRATION"] == "1" {
                print(dry.out, first.out, first.err)
            }
            Self.expectArrived(alice, imap: imap, login: "alice@example.org", password: "alice-new-pass-1")
            Self.expectArrived(bob, imap: imap, login: "bob@example.org", password: "bob-new-pass-1")
            // Recorded like every change (the dry run was not).
            let audit = try s.cli(["audit"]).out
            #expect(audit.components(separatedBy: "mail.migrate").count - 1 == 2, "\(audit)")
            #expect(audit.contains("alice@example.org from alice at imap"), "\(audit)")

            // The second copies nothing and duplicates nothing.
            let second = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/accounts.csv"])
            #expect(second.status == 0, "\(second.out)\(second.err)")
            #expect(second.out.contains("alice → alice@example.org: done, 0 messages"), "\(second.out)")
            Self.expectArrived(alice, imap: imap, login: "alice@example.org", password: "alice-new-pass-1")

            // New mail at the source: only it is copied.
            var more = alice
            for n in 30...31 {
                let sample = Sample(
                    folder: "INBOX", target: "INBOX", bytes: Self.message(n, subject: "New \(n)"), maildirFlags: "",
                    imapFlags: [], date: Self.base.addingTimeInterval(Double(n) * Self.day))
                try peer.put(user: "alice", folder: "INBOX", message: sample.bytes, date: sample.date)
                more.append(sample)
            }
            let third = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/accounts.csv"])
            #expect(third.status == 0, "\(third.out)\(third.err)")
            #expect(third.out.contains("alice → alice@example.org: done, 2 messages"), "\(third.out)")
            Self.expectArrived(more, imap: imap, login: "alice@example.org", password: "alice-new-pass-1")

            // A run stopped after copying and before recording how far it got: the next run
            // fetches those messages again and finds them here.
            let forget = try Peers.run(
                Peers.find("python3") ?? "/usr/bin/python3",
                [
                    "-c",
                    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                        + "c.execute(\"UPDATE imap_migration_state SET last_uid = 1 WHERE folder = 'INBOX'\"); c.commit()",
                    "\(s.dataDir)/mailroom.db",
                ])
            #expect(forget.status == 0, "\(forget.output)")
            let resumed = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/accounts.csv"])
            #expect(resumed.status == 0, "\(resumed.out)\(resumed.err)")
            #expect(resumed.out.contains("alice → alice@example.org: done, 6 messages"), "\(resumed.out)")
            #expect(
                resumed.out.range(of: #"INBOX +→ INBOX +7 +0 +6 +0"#, options: .regularExpression) != nil,
                "\(resumed.out)")
            Self.expectArrived(more, imap: imap, login: "alice@example.org", password: "alice-new-pass-1")

            // The old server renumbers the folder (new UIDVALIDITY): compared again, nothing doubled.
            try peer.resetUIDs(user: "alice", folder: "INBOX")
            let renumbered = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/accounts.csv"])
            #expect(renumbered.status == 0, "\(renumbered.out)\(renumbered.err)")
            #expect(renumbered.out.contains("UIDVALIDITY changed"), "\(renumbered.out)")
            Self.expectArrived(more, imap: imap, login: "alice@example.org", password: "alice-new-pass-1")

            // Over the quota: what does not fit is reported with its UID, the command fails; once
            // the quota is raised, the next run copies just those.
            #expect(try s.cli(["account", "set", "bob@example.org", "--quota", "1500"]).status == 0)
            try peer.put(user: "bob", folder: "INBOX", message: Self.multipart(40), flags: "S", date: Self.base)
            try "bob,bob-old-pass,bob@example.org\n".write(toFile: "\(root)/bob.csv", atomically: true, encoding: .utf8)
            let over = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/bob.csv"])
            #expect(over.status != 0, "\(over.out)")
            #expect(over.out.contains("INBOX UID 4: over the account's quota"), "\(over.out)")
            #expect(try s.cli(["account", "set", "bob@example.org", "--quota", "unlimited"]).status == 0)
            let fits = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/bob.csv"])
            #expect(fits.status == 0, "\(fits.out)\(fits.err)")
            #expect(
                fits.out.range(of: #"INBOX +→ INBOX +4 +1 +0 +0"#, options: .regularExpression) != nil, "\(fits.out)")

            // A master user opens carol's mailbox; the password column stays empty.
            try "migrator-secret-is-elsewhere\n".write(toFile: "\(root)/wrong", atomically: true, encoding: .utf8)
            try "master-secret\n".write(toFile: "\(root)/master", atomically: true, encoding: .utf8)
            try "carol,,carol@example.org\n".write(toFile: "\(root)/carol.csv", atomically: true, encoding: .utf8)
            let master = try s.cli([
                "migrate", "imap", "--from", from, "--accounts", "\(root)/carol.csv", "--master-user", "migrator",
                "--master-password-file", "\(root)/master",
            ])
            #expect(master.status == 0, "\(master.out)\(master.err)\n\(peer.logText().suffix(1500))")
            Self.expectArrived(carol, imap: imap, login: "carol@example.org", password: "carol-new-pass-1")

            // A refused login fails its account, the command says so, and the others go on.
            try "bob,not-bobs-password,bob@example.org\nalice,alice-old-pass,alice@example.org\n"
                .write(toFile: "\(root)/bad.csv", atomically: true, encoding: .utf8)
            let bad = try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/bad.csv"])
            #expect(bad.status != 0, "\(bad.out)")
            #expect(
                bad.out.contains("bob → bob@example.org: failed") && bad.out.contains("login refused"), "\(bad.out)")
            #expect(bad.out.contains("alice → alice@example.org: done"), "\(bad.out)")

            // Passwords are not taken on the command line, nor plaintext off loopback.
            #expect(
                try s.cli(["migrate", "imap", "--from", "imap+plain://192.0.2.1", "--accounts", "\(root)/accounts.csv"])
                    .status != 0)
            #expect(try s.cli(["migrate", "imap", "--from", from, "--accounts", "\(root)/carol.csv"]).status != 0)
        }
    }

    /// A second run brings what changed on Dovecot since the first: flags and keywords set and
    /// cleared, messages deleted (their copies are removed here), while mail that arrived here
    /// directly — also a message that reached both servers — is left alone; `--final` then
    /// reports every folder matching, and the copies are the source's messages with its flags.
    @Test func bringsFlagChangesAndDeletionsFromDovecot() async throws {
        try await blocking {
            let peer = try #require(
                try DovecotPeer.start(users: ["frank": "frank-old-pass"]),
                "dovecot is not installed, or the tests do not run as root")
            defer { peer.destroy() }
            let inbox = (61...64).map { Self.message($0, subject: "Inbox \($0)") }
            let lists = (65...66).map { Self.message($0, subject: "List \($0)") }
            let both = Self.message(67, subject: "Reached both servers")
            let direct = Self.message(68, subject: "Only here")
            for (n, m) in (inbox + [both]).enumerated() {
                try peer.put(
                    user: "frank", folder: "INBOX", message: m, flags: n == 0 ? "S" : "",
                    date: Self.base.addingTimeInterval(Double(n) * Self.day))
            }
            for m in lists {
                try peer.put(
                    user: "frank", folder: "Lists.swift", message: m, flags: "Sa", date: Self.base, keywords: ["Work"])
            }
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let imap = try s.waitForPorts(["IMAP"])[0]
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "frank@example.org", "--password", "frank-new-pass-1"]).status == 0)
            IMAPFolderContents.append(
                port: imap, login: "frank@example.org", password: "frank-new-pass-1",
                [("INBOX", "", both), ("INBOX", "\\Flagged", direct)])
            let csv = "\(s.root.path)/frank.csv"
            try "frank,frank-old-pass,frank@example.org\n".write(toFile: csv, atomically: true, encoding: .utf8)
            let args = ["migrate", "imap", "--from", "imap+plain://127.0.0.1:\(peer.port)", "--accounts", csv]
            let first = try s.cli(args)
            #expect(first.status == 0, "\(first.out)\(first.err)")
            #expect(
                first.out.range(of: #"INBOX +→ INBOX +5 +4 +1 +0 +0 +0"#, options: .regularExpression) != nil,
                "\(first.out)")

            // On the old server: \Seen off the first, \Flagged and a keyword on the second, the
            // third and the message that reached both deleted; a keyword off a list message.
            let there = IMAPFolderContents.read(
                port: peer.port, login: "frank", password: "frank-old-pass", folder: "INBOX")
            let uid = { (b: [UInt8]) in there.message(b)?.uid ?? 0 }
            let changed = IMAPFolderContents.run(
                port: peer.port, login: "frank", password: "frank-old-pass", folder: "INBOX",
                [
                    "UID STORE \(uid(inbox[0])) -FLAGS (\\Seen)", "UID STORE \(uid(inbox[1])) +FLAGS (\\Flagged Later)",
                    "UID STORE \(uid(inbox[2])),\(uid(both)) +FLAGS (\\Deleted)",
                ])
            #expect(!changed.contains(" NO ") && !changed.contains(" BAD "), "\(changed)")
            // (Dovecot may expunge before a STORE pipelined just ahead of it is written.)
            let expunged = IMAPFolderContents.run(
                port: peer.port, login: "frank", password: "frank-old-pass", folder: "INBOX", ["EXPUNGE"])
            #expect(expunged.contains("* 3 EXPUNGE"), "\(expunged)")
            let listChanged = IMAPFolderContents.run(
                port: peer.port, login: "frank", password: "frank-old-pass", folder: "Lists.swift",
                ["UID STORE 1 -FLAGS (Work)"])
            #expect(!listChanged.contains(" NO ") && !listChanged.contains(" BAD "), "\(listChanged)")

            // Every run brings flags and deletions: 2 flag changes and 1 removal in INBOX.
            let second = try s.cli(args)
            #expect(second.status == 0, "\(second.out)\(second.err)")
            #expect(
                second.out.range(of: #"INBOX +→ INBOX +3 +0 +0 +0 +2 +1"#, options: .regularExpression) != nil,
                "\(second.out)")
            #expect(
                second.out.range(of: #"Lists.swift +→ Lists/swift +2 +0 +0 +0 +1 +0"#, options: .regularExpression)
                    != nil,
                "\(second.out)")
            let here = IMAPFolderContents.read(
                port: imap, login: "frank@example.org", password: "frank-new-pass-1", folder: "INBOX")
            #expect(here.messages.count == 5, "\(here.transcript)")
            #expect(here.message(inbox[0])?.flags == [], "\(here.transcript)")
            #expect(here.message(inbox[1])?.flags == ["\\flagged", "later"], "\(here.transcript)")
            #expect(here.message(inbox[2]) == nil, "a message deleted at the source is still here")
            #expect(here.message(inbox[3])?.flags == [], "\(here.transcript)")
            #expect(here.message(both) != nil, "the message that reached both servers was removed here")
            #expect(here.message(direct)?.flags == ["\\flagged"], "\(here.transcript)")
            let list = IMAPFolderContents.read(
                port: imap, login: "frank@example.org", password: "frank-new-pass-1", folder: "Lists/swift")
            #expect(
                list.messages.map(\.flags).sorted { $0.count < $1.count } == [["\\seen"], ["\\seen", "work"]],
                "\(list.transcript)")

            // The final pass: nothing left to bring, every folder matches, exit 0.
            let final = try s.cli(args + ["--final"])
            #expect(final.status == 0, "\(final.out)\(final.err)")
            #expect(final.out.contains("Every folder matches the source."), "\(final.out)")
            #expect(
                final.out.range(of: #"INBOX +→ INBOX +3 +0 +0 +0 +0 +0 +3 .* yes"#, options: .regularExpression) != nil,
                "\(final.out)")
            for (dovecot, ours) in [("INBOX", "INBOX"), ("Lists.swift", "Lists/swift")] {
                let a = IMAPFolderContents.read(
                    port: peer.port, login: "frank", password: "frank-old-pass", folder: dovecot)
                let b = IMAPFolderContents.read(
                    port: imap, login: "frank@example.org", password: "frank-new-pass-1", folder: ours)
                for m in a.messages {
                    #expect(
                        b.message(m.bytes)?.flags == m.flags,
                        "\(ours): \(String(decoding: m.bytes.prefix(150), as: UTF8.self))")
                }
            }

            // The old server renumbers INBOX (a new UIDVALIDITY): compared again, nothing
            // doubled, and a message deleted there afterwards is followed under the new numbers.
            try peer.resetUIDs(user: "frank", folder: "INBOX")
            let renumbered = try s.cli(args)
            #expect(renumbered.status == 0, "\(renumbered.out)\(renumbered.err)")
            #expect(renumbered.out.contains("INBOX: UIDVALIDITY changed"), "\(renumbered.out)")
            let renumberedHere = IMAPFolderContents.read(
                port: imap, login: "frank@example.org", password: "frank-new-pass-1", folder: "INBOX")
            #expect(renumberedHere.messages.count == 5, "\(renumberedHere.transcript)")
            let renumberedThere = IMAPFolderContents.read(
                port: peer.port, login: "frank", password: "frank-old-pass", folder: "INBOX")
            IMAPFolderContents.run(
                port: peer.port, login: "frank", password: "frank-old-pass", folder: "INBOX",
                ["UID STORE \(renumberedThere.message(inbox[3])?.uid ?? 0) +FLAGS (\\Deleted)"])
            IMAPFolderContents.run(
                port: peer.port, login: "frank", password: "frank-old-pass", folder: "INBOX", ["EXPUNGE"])
            let afterRenumber = try s.cli(args + ["--final"])
            #expect(afterRenumber.status == 0, "\(afterRenumber.out)\(afterRenumber.err)")
            #expect(
                afterRenumber.out.range(of: #"INBOX +→ INBOX +2 +0 +0 +0 +0 +1 +2 .* yes"#, options: .regularExpression)
                    != nil, "\(afterRenumber.out)")
            let gone = IMAPFolderContents.read(
                port: imap, login: "frank@example.org", password: "frank-new-pass-1", folder: "INBOX")
            #expect(gone.messages.count == 4 && gone.message(inbox[3]) == nil, "\(gone.transcript)")
        }
    }

    /// STARTTLS and implicit TLS to a Dovecot with a self-signed certificate: trusted with
    /// --ca-file or --insecure, refused otherwise.
    @Test func migratesOverTLS() async throws {
        try await blocking {
            let peer = try #require(
                try DovecotPeer.start(users: ["dave": "dave-old-pass"], tls: true),
                "dovecot is not installed, or the tests do not run as root")
            defer { peer.destroy() }
            let tlsPort = try #require(peer.tlsPort)
            for n in 1...2 {
                try peer.put(
                    user: "dave", folder: "INBOX", message: Self.message(50 + n, subject: "TLS \(n)"), flags: "S",
                    date: Self.base.addingTimeInterval(Double(n) * Self.day))
            }
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "dave@example.org", "--password", "dave-new-pass-1"]).status == 0)
            let root = s.root.path
            try "dave,dave-old-pass,dave@example.org\n".write(
                toFile: "\(root)/dave.csv", atomically: true, encoding: .utf8)

            let untrusted = try s.cli([
                "migrate", "imap", "--from", "imaps://127.0.0.1:\(tlsPort)", "--accounts", "\(root)/dave.csv",
            ])
            #expect(untrusted.status != 0, "\(untrusted.out)")
            #expect(untrusted.out.contains("dave → dave@example.org: failed"), "\(untrusted.out)")

            let starttls = try s.cli([
                "migrate", "imap", "--from", "imap://127.0.0.1:\(peer.port)", "--accounts", "\(root)/dave.csv",
                "--ca-file",
                peer.certificatePath,
            ])
            #expect(starttls.status == 0, "\(starttls.out)\(starttls.err)\n\(peer.logText().suffix(1500))")
            #expect(
                starttls.out.range(of: #"INBOX +→ INBOX +2 +2 +0 +0"#, options: .regularExpression) != nil,
                "\(starttls.out)")

            let imaps = try s.cli([
                "migrate", "imap", "--from", "imaps://127.0.0.1:\(tlsPort)", "--accounts", "\(root)/dave.csv",
                "--insecure",
            ])
            #expect(imaps.status == 0, "\(imaps.out)\(imaps.err)\n\(peer.logText().suffix(1500))")
            // Another source (port and scheme): compared, and found here already.
            #expect(
                imaps.out.range(of: #"INBOX +→ INBOX +2 +0 +2 +0"#, options: .regularExpression) != nil, "\(imaps.out)")
        }
    }
}
