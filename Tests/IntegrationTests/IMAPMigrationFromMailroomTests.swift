import Foundation
import Testing
import TestSupport

/// `mailroom migrate imap` with Mailroom itself as the old server: an account with several
/// folders, flags and keywords is copied into a second server, every message byte for byte
/// (SHA-256) with its flags; then flags changed and messages deleted at the source reach the
/// copy at the next run, mail that arrived at the new server directly is left alone, and a
/// `--final` pass says whether every folder matches.
@Suite struct IMAPMigrationFromMailroomTests {
    static func message(_ n: Int, _ subject: String) -> [UInt8] {
        Array(
            """
            From: Sender \(n) <sender\(n)@example.net>\r
            To: sam@example.org\r
            Subject: \(subject)\r
            Date: Thu, 03 Dec 2026 10:\(10 + n):00 +0000\r
            Message-ID: <mr\(n)@example.net>\r
            \r
            Message \(n): \(subject).\r

            """.utf8)
    }

    static let folders = ["INBOX", "Sent", "Projects/Alpha"]

    /// What the old server holds: folder, flags as APPENDed, bytes.
    static let mail: [(folder: String, flags: String, bytes: [UInt8])] = [
        ("INBOX", "\\Seen", message(1, "Quarterly report")),
        ("INBOX", "", message(2, "Lunch?")),
        ("INBOX", "\\Seen \\Flagged", message(3, "Contract")),
        ("INBOX", "\\Seen \\Answered $Work", message(4, "Re: plans")),
        ("Sent", "\\Seen", message(5, "Re: Lunch?")),
        ("Sent", "\\Seen", message(6, "Minutes")),
        ("Projects/Alpha", "\\Seen $Important", message(7, "Alpha kickoff")),
        ("Projects/Alpha", "Later", message(8, "Alpha budget")),
        ("Projects/Alpha", "\\Draft", message(9, "Alpha draft")),
    ]

    /// Mail that reaches both servers while the MX moves, and mail that reaches only the new one.
    static let both = message(20, "Sent to both")
    static let direct = message(21, "Arrived here directly")

    /// Every folder at the source is here: the same messages (SHA-256), each with the source's
    /// flags (plus `extraFlags` by SHA-256), and in INBOX `alsoHere` besides.
    static func expectSame(
        source: Int, target: Int, alsoHere: [[UInt8]], extraFlags: [String: Set<String>] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for folder in folders {
            let there = IMAPFolderContents.read(
                port: source, login: "sam@example.org", password: "sam-old-pass-1", folder: folder)
            let here = IMAPFolderContents.read(
                port: target, login: "sam@example.org", password: "sam-new-pass-1", folder: folder)
            let extra = folder == "INBOX" ? alsoHere : []
            #expect(
                !there.messages.isEmpty, "\(folder) at the source: \(there.transcript)", sourceLocation: sourceLocation)
            #expect(
                here.messages.count == there.messages.count + extra.count,
                "\(folder): \(there.messages.count) at the source, \(here.messages.count) here",
                sourceLocation: sourceLocation)
            let expected = Set(there.messages.map(\.sha256)).union(
                extra.map { IMAPFolderContents.Message(uid: 0, flags: [], bytes: $0).sha256 })
            #expect(
                Set(here.hashes) == expected, "\(folder): other messages here than at the source",
                sourceLocation: sourceLocation)
            #expect(
                here.hashes.count == Set(here.hashes).count, "\(folder): a message is here twice",
                sourceLocation: sourceLocation)
            for m in there.messages where !extra.contains(m.bytes) {
                let copy = here.message(m.bytes)
                #expect(
                    copy?.flags == m.flags.union(extraFlags[m.sha256] ?? []),
                    "\(folder): flags \(copy?.flags ?? []) here, \(m.flags) at the source: \(String(decoding: m.bytes.prefix(120), as: UTF8.self))",
                    sourceLocation: sourceLocation)
            }
        }
    }

    @Test func migratesFromMailroomAndBringsChanges() async throws {
        try await blocking {
            let old = try ServerProcess()
            try old.start()
            defer { old.stop() }
            let oldIMAP = try old.waitForPorts(["IMAP"])[0]
            let new = try ServerProcess()
            try new.start()
            defer { new.stop() }
            let newIMAP = try new.waitForPorts(["IMAP"])[0]
            for (s, password) in [(old, "sam-old-pass-1"), (new, "sam-new-pass-1")] {
                #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
                #expect(try s.cli(["account", "add", "sam@example.org", "--password", password]).status == 0)
            }
            let filled = IMAPFolderContents.append(
                port: oldIMAP, login: "sam@example.org", password: "sam-old-pass-1",
                create: ["Projects", "Projects/Alpha"], Self.mail + [("INBOX", "\\Seen", Self.both)])
            #expect(!filled.contains(" NO ") && !filled.contains(" BAD "), "\(filled)")
            // The same message reached the new server too, and another only it.
            let delivered = IMAPFolderContents.append(
                port: newIMAP, login: "sam@example.org", password: "sam-new-pass-1",
                [("INBOX", "\\Seen", Self.both), ("INBOX", "\\Flagged", Self.direct)])
            #expect(!delivered.contains(" NO ") && !delivered.contains(" BAD "), "\(delivered)")

            let csv = new.root.appendingPathComponent("sam.csv").path
            try "source_login,source_password,address\nsam@example.org,sam-old-pass-1,sam@example.org\n".write(
                toFile: csv, atomically: true, encoding: .utf8)
            let args = ["migrate", "imap", "--from", "imap+plain://127.0.0.1:\(oldIMAP)", "--accounts", csv]

            let first = try new.cli(args)
            #expect(first.status == 0, "\(first.out)\(first.err)")
            #expect(first.out.contains("All 1 account copied."), "\(first.out)")
            #expect(
                first.out.range(of: #"INBOX +→ INBOX +5 +4 +1 +0"#, options: .regularExpression) != nil, "\(first.out)")
            #expect(
                first.out.range(of: #"Projects/Alpha +→ Projects/Alpha +3 +3 +0 +0"#, options: .regularExpression)
                    != nil,
                "\(first.out)")
            Self.expectSame(source: oldIMAP, target: newIMAP, alsoHere: [Self.direct])

            // At the source: flags changed, keywords added and removed, messages deleted (one of
            // them the message that reached both servers). Here: a flag set on a copy.
            let inbox = IMAPFolderContents.read(
                port: oldIMAP, login: "sam@example.org", password: "sam-old-pass-1", folder: "INBOX")
            let alpha = IMAPFolderContents.read(
                port: oldIMAP, login: "sam@example.org", password: "sam-old-pass-1", folder: "Projects/Alpha")
            let uid = { (c: IMAPFolderContents, b: [UInt8]) in c.message(b)?.uid ?? 0 }
            let changed = IMAPFolderContents.run(
                port: oldIMAP, login: "sam@example.org", password: "sam-old-pass-1", folder: "INBOX",
                [
                    "UID STORE \(uid(inbox, Self.mail[0].bytes)) -FLAGS (\\Seen)",
                    "UID STORE \(uid(inbox, Self.mail[1].bytes)) +FLAGS (\\Seen \\Flagged FollowUp)",
                    "UID STORE \(uid(inbox, Self.mail[3].bytes)) -FLAGS ($Work)",
                    "UID STORE \(uid(inbox, Self.mail[2].bytes)),\(uid(inbox, Self.both)) +FLAGS (\\Deleted)",
                ])
            #expect(!changed.contains(" NO ") && !changed.contains(" BAD "), "\(changed)")
            let alphaChanged = IMAPFolderContents.run(
                port: oldIMAP, login: "sam@example.org", password: "sam-old-pass-1", folder: "Projects/Alpha",
                ["UID STORE \(uid(alpha, Self.mail[8].bytes)) +FLAGS (\\Deleted)"])
            #expect(!alphaChanged.contains(" NO ") && !alphaChanged.contains(" BAD "), "\(alphaChanged)")
            for folder in ["INBOX", "Projects/Alpha"] {
                let expunged = IMAPFolderContents.run(
                    port: oldIMAP, login: "sam@example.org", password: "sam-old-pass-1", folder: folder, ["EXPUNGE"])
                #expect(expunged.contains(" EXPUNGE\r\n"), "\(expunged)")
            }
            let hereInbox = IMAPFolderContents.read(
                port: newIMAP, login: "sam@example.org", password: "sam-new-pass-1", folder: "INBOX")
            IMAPFolderContents.run(
                port: newIMAP, login: "sam@example.org", password: "sam-new-pass-1", folder: "INBOX",
                ["UID STORE \(uid(hereInbox, Self.mail[1].bytes)) +FLAGS (\\Answered)"])
            // New mail at the source.
            IMAPFolderContents.append(
                port: oldIMAP, login: "sam@example.org", password: "sam-old-pass-1",
                [("Sent", "\\Seen", Self.message(10, "New"))])

            // The final pass brings all of it and finds every folder matching.
            let final = try new.cli(args + ["--final"])
            #expect(final.status == 0, "\(final.out)\(final.err)")
            #expect(final.out.contains("All 1 account copied. Every folder matches the source."), "\(final.out)")
            // INBOX: 3 there; 0 copied, 0 skipped, 0 failed; flags of 3 copies changed; 1 removed
            // (the message that reached both servers stays: it arrived here directly); all 3 here.
            #expect(
                final.out.range(of: #"INBOX +→ INBOX +3 +0 +0 +0 +3 +1 +3 .* yes"#, options: .regularExpression) != nil,
                "\(final.out)")
            #expect(
                final.out.range(of: #"Sent +→ Sent +3 +1 +0 +0 +0 +0 +3 .* yes"#, options: .regularExpression) != nil,
                "\(final.out)")
            #expect(
                final.out.range(
                    of: #"Projects/Alpha +→ Projects/Alpha +2 +0 +0 +0 +0 +1 +2 .* yes"#, options: .regularExpression)
                    != nil, "\(final.out)")
            // The flag set here stays beside the source's changes (and is reported).
            #expect(final.out.contains("INBOX: 1 copy whose flags were also changed here"), "\(final.out)")
            let answered = IMAPFolderContents.Message(uid: 0, flags: [], bytes: Self.mail[1].bytes).sha256
            Self.expectSame(
                source: oldIMAP, target: newIMAP, alsoHere: [Self.direct, Self.both],
                extraFlags: [answered: ["\\answered"]])
            let after = IMAPFolderContents.read(
                port: newIMAP, login: "sam@example.org", password: "sam-new-pass-1", folder: "INBOX")
            #expect(after.message(Self.direct)?.flags == ["\\flagged"], "\(after.transcript)")
            #expect(after.message(Self.both)?.flags == ["\\seen"], "\(after.transcript)")

            // The same report as JSON (what the API returns and bench/migrate reads).
            let json = try new.cli(args + ["--final", "--json"])
            #expect(json.status == 0, "\(json.out)\(json.err)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any], "\(json.out)")
            #expect(report["final"] as? Bool == true, "\(json.out)")
            let accounts = try #require(report["accounts"] as? [[String: Any]])
            let folders = try #require(accounts.first?["folders"] as? [[String: Any]])
            let inboxReport = try #require(folders.first { $0["source"] as? String == "INBOX" })
            let comparison = try #require(inboxReport["comparison"] as? [String: Any], "\(inboxReport)")
            #expect(comparison["source_count"] as? Int == 3 && comparison["here"] as? Int == 3, "\(comparison)")
            #expect(comparison["missing"] as? [Int] == [], "\(comparison)")
            #expect(comparison["flags_differ"] as? Int == 1, "\(comparison)")
            #expect(inboxReport["copied"] as? Int == 0 && inboxReport["expunged"] as? Int == 0, "\(inboxReport)")

            // A copy deleted here: the final pass says the folder no longer matches, and fails.
            let sent = IMAPFolderContents.read(
                port: newIMAP, login: "sam@example.org", password: "sam-new-pass-1", folder: "Sent")
            IMAPFolderContents.run(
                port: newIMAP, login: "sam@example.org", password: "sam-new-pass-1", folder: "Sent",
                ["UID STORE \(uid(sent, Self.mail[4].bytes)) +FLAGS (\\Deleted)"])
            IMAPFolderContents.run(
                port: newIMAP, login: "sam@example.org", password: "sam-new-pass-1", folder: "Sent", ["EXPUNGE"])
            let missing = try new.cli(args + ["--final"])
            #expect(missing.status != 0, "\(missing.out)")
            #expect(
                missing.out.range(of: #"Sent +→ Sent +3 .* NO"#, options: .regularExpression) != nil, "\(missing.out)")
            #expect(missing.out.contains("Sent: 1 message of the source not here (UID "), "\(missing.out)")
            #expect(!missing.out.contains("Every folder matches"), "\(missing.out)")
            #expect(missing.out.contains("1 folder not matching the source (NO)."), "\(missing.out)")
        }
    }
}
