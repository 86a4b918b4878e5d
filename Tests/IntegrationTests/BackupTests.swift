import Foundation
import Testing
import TestSupport

/// A backup taken while mail keeps arriving, restored into a new data folder: every message
/// acknowledged before the backup started is there, byte-identical, and more backups into the
/// same folder copy only new files.
@Suite struct BackupTests {
    /// Sends `count` messages to alice; every third is large enough to be a file of its own.
    static func send(_ smtp: Int, _ count: Int, tag: String) -> Int {
        var accepted = 0
        for i in 0..<count {
            let body = i % 3 == 0 ? String(repeating: "\(tag) line \(i) of a large message\r\n", count: 12_000) : "\(tag) message \(i)\r\n"
            let reply = Peers.converse(
                port: smtp,
                "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: \(tag) \(i)\r\n\r\n\(body).\r\nQUIT\r\n")
            if reply.contains("250 2.0.0") { accepted += 1 }
        }
        return accepted
    }

    @Test(.enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil))) func backupUnderLoadRestoresEveryAcknowledgedMessage() async throws {
        try await blocking {
            let python = try #require(SMTPInteropTests.python)
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let (smtp, imap) = try { let p = try s.waitForPorts(["SMTP (MX)", "IMAP"]); return (p[0], p[1]) }()
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)
            let before = Self.send(smtp, 30, tag: "before")
            #expect(before == 30)

            // More mail arrives while the backup runs.
            let load = Thread { _ = Self.send(smtp, 30, tag: "during") }
            load.start()
            let dir = s.root.appendingPathComponent("backups").path
            let first = try s.cli(["backup", "create", dir])
            #expect(first.status == 0 && first.out.contains("message files"), "\(first.out)\(first.err)")
            let second = try s.cli(["backup", "create", dir])  // a second later: a new name
            #expect(second.status == 0, "\(second.err)")
            #expect(second.out.contains("0 copied") || second.out.range(of: #"\(\d+ copied, [1-9]\d* held already\)"#, options: .regularExpression) != nil, "incremental: \(second.out)")
            while load.isExecuting { Thread.sleep(forTimeInterval: 0.05) }

            let list = try s.cli(["backup", "list", dir], useConfig: false)
            #expect(list.out.split(separator: "\n").count == 3, "a header and two backups: \(list.out)")
            let verify = try s.cli(["backup", "verify", dir], useConfig: false)
            #expect(verify.status == 0 && verify.out.components(separatedBy: ": whole").count == 3, "\(verify.out)\(verify.err)")

            // Restored into a new data folder, served by a second server.
            let r = try ServerProcess()
            let restore = try r.cli(["backup", "restore", dir, "--data-dir", r.dataDir], useConfig: false)
            #expect(restore.status == 0, "\(restore.out)\(restore.err)")
            #expect(try r.cli(["backup", "restore", dir, "--data-dir", r.dataDir], useConfig: false).err.contains("is not empty"))
            #expect(
                FileManager.default.contents(atPath: r.dataDir + "/srs-secret") == FileManager.default.contents(atPath: s.dataDir + "/srs-secret"),
                "the SRS key is restored with the rest")
            try r.start()
            defer { r.stop() }
            let restoredIMAP = try r.waitForPorts(["IMAP"])[0]
            // Every message of the original numbered 1…30 (acknowledged before the backup) is in
            // the restored INBOX with the same bytes; the restored one holds nothing the original lacks.
            let compare = """
                import imaplib, sys
                def messages(port):
                    c = imaplib.IMAP4("127.0.0.1", port)
                    c.login("alice@example.org", "alice-password-1")
                    c.select("INBOX", readonly=True)
                    out = {}
                    typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
                    for part in data:
                        if isinstance(part, tuple):
                            uid = int(part[0].split(b"UID ")[1].split()[0])
                            out[uid] = part[1]
                    c.logout()
                    return out
                original, restored = messages(int(sys.argv[1])), messages(int(sys.argv[2]))
                missing = [u for u in range(1, 31) if restored.get(u) != original.get(u)]
                extra = [u for u in restored if restored[u] != original.get(u)]
                print("original", len(original), "restored", len(restored), "missing", missing, "different", extra)
                sys.exit(0 if not missing and not extra else 1)
                """
            let compared = try Peers.run(python, ["-c", compare, String(imap), String(restoredIMAP)])
            #expect(compared.status == 0, "\(compared.output)")

            // A damaged file is found.
            let files = FileManager.default.enumerator(atPath: dir + "/blobs")?.allObjects as? [String] ?? []
            let victim = try #require(files.first { !$0.hasSuffix("/") && $0.count > 3 && !$0.hasPrefix(".") && $0.contains("/") })
            try Data("damaged".utf8).write(to: URL(fileURLWithPath: dir + "/blobs/" + victim))
            let damaged = try s.cli(["backup", "verify", dir], useConfig: false)
            #expect(damaged.status != 0 && damaged.out.contains("do not match their hash"), "\(damaged.out)")
        }
    }

    /// `[backup]`: the server backs itself up every interval and keeps the newest `keep`; the
    /// files only pruned backups named go too, and what is kept verifies whole.
    @Test func scheduledBackupsKeepTheNewest() async throws {
        try await blocking {
            let folder = try Scratch.folder("scheduled-backups")
            defer { try? FileManager.default.removeItem(at: folder) }
            let dir = folder.path
            let s = try ServerProcess(config: "\n[backup]\ndir = \"\(dir)\"\ninterval = \"1s\"\nkeep = 2\n")
            try s.start()
            defer { s.stop() }
            let smtp = try s.waitForPorts(["SMTP (MX)"])[0]
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org"]).status == 0)
            // One large message per backup: each backup names files the previous did not.
            #expect(
                Peers.eventually(60) {
                    _ = Self.send(smtp, 1, tag: "scheduled \(UUID())")
                    return s.log.components(separatedBy: "scheduled backup done").count > 4
                }, "\(s.log.suffix(2000))")
            // Stopped, no backup is between its writing and its pruning.
            #expect(s.stop() == 0)
            let backups = try s.cli(["backup", "list", dir], useConfig: false).out.split(separator: "\n").dropFirst()
            #expect(backups.count == 2, "\(backups)")
            #expect(s.log.contains("backups_removed=1"), "older backups were pruned")
            let verify = try s.cli(["backup", "verify", dir], useConfig: false)
            #expect(verify.status == 0, "\(verify.out)\(verify.err)")
        }
    }
}
