import AdminModels
import Foundation
import TestSupport
import Testing

/// The whole program, as an administrator uses it: `mailroom serve` in one process, the CLI in
/// others. Serialized: each test starts servers, and the machine has two cores.
@Suite(.serialized) struct ServeAndCLITests {
    @Test func administratorsDay() async throws {
        try await blocking {
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            #expect(s.log.contains("admin API          http://127.0.0.1:"))
            #expect(s.log.contains("created now"))

            #expect(try s.cli(["domain", "add", "example.org"]).out.contains("added domain example.org"))
            #expect(try s.cli(["domain", "add", "bücher.example"]).status == 0)
            #expect(try s.cli(["domain", "add", "example.net", "--alias-of", "example.org"]).status == 0)

            let alice = try s.cli(["account", "add", "alice@example.org", "--generate-password", "--name", "Alice", "--quota", "5G"])
            #expect(alice.status == 0)
            #expect(alice.out.contains("password: "))
            let bob = try s.cli(["account", "add", "bob@example.org", "--password-stdin"], stdin: "bob-password-123\n")
            #expect(bob.status == 0, "\(bob.err)")
            let carol = try s.cli(["account", "add", "carol@example.org"])
            #expect(carol.status == 0, "\(carol.err)\n\(s.log)")

            // A change says only what it changed.
            let quota = try s.cli(["account", "set", "carol@example.org", "--quota", "1G"])
            #expect(quota.out == "updated carol@example.org: quota 1G\n", "\(quota.out)\(quota.err)")

            // An error says what is wrong and what to do, and exits non-zero.
            let missing = try s.cli(["account", "add", "x@nowhere.org"])
            #expect(missing.status != 0)
            #expect(missing.err.contains("domain nowhere.org does not exist — add it with `mailroom domain add nowhere.org`"))

            #expect(try s.cli(["alias", "add", "postmaster@example.org", "alice@example.org"]).status == 0)
            #expect(try s.cli(["list", "create", "eng@example.org", "--member", "bob@example.org"]).status == 0)
            #expect(try s.cli(["list", "create", "all@example.org", "--name", "Everyone"]).status == 0)
            #expect(try s.cli(["list", "add-member", "all@example.org", "eng@example.org", "carol@example.org", "partner@elsewhere.com"]).status == 0)
            #expect(try s.cli(["list", "set", "all@example.org", "--policy", "members", "--subject-prefix", "[all]"]).status == 0)

            let expand = try s.cli(["list", "expand", "all@example.org"])
            #expect(expand.out.contains("bob@example.org"))
            #expect(expand.out.contains("via all@example.org → eng@example.org"))
            #expect(expand.out.contains("partner@elsewhere.com"))
            #expect(expand.out.contains("3 recipients"))

            let resolve = try s.cli(["resolve", "Alice+news@example.net"])
            #expect(resolve.out.contains("is the account alice@example.org"))
            #expect(resolve.out.contains("example.net is a domain alias"))
            #expect(resolve.out.contains("subaddress +news"))
            #expect(try s.cli(["resolve", "ghost@example.org"]).out.contains("does not exist"))
            #expect(try s.cli(["resolve", "someone@gmail.com"]).out.contains("external"))

            let listJSON = try s.cli(["account", "list", "--domain", "example.org", "--json"])
            let page = try AdminJSON.decoder().decode(Page<AccountView>.self, from: Data(listJSON.out.utf8))
            #expect(page.items.map(\.address) == ["alice@example.org", "bob@example.org", "carol@example.org"])
            #expect(page.items[0].quota == 5 << 30)

            let table = try s.cli(["account", "list"])
            #expect(table.out.contains("ADDRESS"))
            #expect(table.out.contains("1-3 of 3"))

            #expect(try s.cli(["account", "rename", "carol@example.org", "caroline@example.org"]).status == 0)
            #expect(try s.cli(["list", "show", "all@example.org"]).out.contains("caroline@example.org"))
            #expect(try s.cli(["account", "disable", "bob@example.org"]).status == 0)
            #expect(try s.cli(["resolve", "bob@example.org"]).out.contains("disabled"))

            let noYes = try s.cli(["account", "remove", "alice@example.org"])
            #expect(noYes.status != 0)
            #expect(noYes.err.contains("--yes"))
            let removed = try s.cli(["account", "remove", "alice@example.org", "--yes"])
            #expect(removed.out.contains("alias postmaster@example.org"))

            let audit = try s.cli(["audit", "--since", "1h"])
            #expect(audit.out.contains("account.remove"))
            #expect(audit.out.contains("token:local admin (data folder)"))
            #expect(audit.out.contains("127.0.0.1"))

            // Token roles, from the CLI.
            let created = try s.cli(["token", "create", "helpdesk", "--role", "domain-admin", "--domain", "bücher.example"])
            let secret = try #require(created.out.split(separator: "\n").first { $0.hasPrefix("secret: ") }).dropFirst(8)
            let refused = try s.cli(["account", "list", "--domain", "example.org", "--token", String(secret)])
            #expect(refused.status != 0)
            #expect(refused.err.contains("may not manage example.org"))
            #expect(try s.cli(["account", "add", "x@bücher.example", "--token", String(secret)]).status == 0)

            // The data folder keeps its secrets private.
            let attrs = try FileManager.default.attributesOfItem(atPath: s.dataDir + "/admin-token")
            #expect((attrs[.posixPermissions] as? Int) == 0o600)
            let dirAttrs = try FileManager.default.attributesOfItem(atPath: s.dataDir)
            #expect((dirAttrs[.posixPermissions] as? Int) == 0o700)
        }
    }

    /// Going live: the records to publish, and the doctor's verdict on what is (not) published.
    /// Tests ask no DNS server, so every lookup fails and the doctor must say so and exit 1.
    @Test func dnsRecordsAndDoctor() async throws {
        try await blocking {
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["dkim", "generate", "example.org", "--algorithm", "ed25519", "--selector", "mr1"]).status == 0)
            let records = try s.cli(["dns", "records", "example.org"])
            #expect(records.status == 0, "\(records.err)")
            #expect(records.out.contains("example.org. IN MX 10 mail.example.org.\n"), "\(records.out)")
            #expect(records.out.contains("mr1._domainkey.example.org. IN TXT \"v=DKIM1; k=ed25519; p="))
            #expect(records.out.contains("_dmarc.example.org. IN TXT \"v=DMARC1; p=reject; rua=mailto:postmaster@example.org\""))
            let json = try s.cli(["dns", "records", "example.org", "--json"])
            #expect(json.out.contains("\"type\" : \"MX\"") || json.out.contains("\"type\":\"MX\""), "\(json.out)")
            #expect(try s.cli(["dns", "records", "nowhere.org"]).status != 0)

            let doctor = try s.cli(["doctor", "example.org"])
            #expect(doctor.status == 1, "\(doctor.out)\(doctor.err)")
            #expect(doctor.out.contains("FAIL  mx "), "\(doctor.out)")
            #expect(doctor.out.contains("→ publish `example.org. IN MX 10 mail.example.org.`"), "\(doctor.out)")
            #expect(doctor.out.contains("warn  certificate  the certificate is the self-signed one Mailroom generated"), "\(doctor.out)")
        }
    }

    @Test func bulkImportReportsBadLinesAndIsAllOrNothing() async throws {
        try await blocking {
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            _ = try s.cli(["domain", "add", "example.org"])
            let csv = s.root.appendingPathComponent("users.csv").path
            try """
                address,name,quota,password
                ann@example.org,Ann,1G,ann-password-1
                not-an-address,Broken,,
                ben@example.org,Ben,,short
                cat@example.org,"Cat, C.",,cat-password-1
                """.write(toFile: csv, atomically: true, encoding: .utf8)
            let all = try s.cli(["account", "import", csv])
            #expect(all.status != 0)
            #expect(all.out.contains("users.csv:3:"))
            #expect(all.out.contains("users.csv:4:"))
            #expect(all.out.contains("nothing imported"))
            #expect(!(try s.cli(["account", "list"]).out.contains("ann@example.org")))

            let partial = try s.cli(["account", "import", csv, "--partial"])
            #expect(partial.out.contains("imported 2 accounts"))
            let export = try s.cli(["account", "export"])
            #expect(export.out.hasPrefix("address,name,quota,password_hash\n"))
            #expect(export.out.contains("\"Cat, C.\""))
            #expect(export.out.contains("SCRAM-SHA-256$100000:"))
        }
    }

    /// A server with `[storage] extra` whose account `address` has one message large enough
    /// to be a blob file (420 KB, sent with python's smtplib); returns the server and the file.
    /// Its tests are skipped without python3 (and fail under CI, where nil is an issue).
    /// Callers are enabled only where python3 is (or under CI, where its absence must fail).
    static func serverWithOneBlobFile(for address: String, storage: String) throws -> (ServerProcess, URL) {
        let python = try #require(SMTPInteropTests.python, "python3 is required (CI=true): it sends the message")
        let s = try ServerProcess(config: "[storage]\n\(storage)\n")
        try s.start()
        let smtp = try s.waitForPorts(["SMTP (MX)"])[0]
        #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
        #expect(try s.cli(["account", "add", address]).status == 0)
        let send = """
            import smtplib, sys
            body = "Subject: big\\r\\n\\r\\n" + ("0123456789" * 60 + "\\r\\n") * 700
            with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as c:
                c.sendmail("someone@elsewhere.test", [sys.argv[2]], body)
            """
        let sent = try ServerProcess.runTool(python, ["-c", send, String(smtp), address])
        #expect(sent.status == 0, "\(sent.err)")
        let stored = blobFiles(s)
        let file = try #require(stored.first, "the 420 KB message is a file")
        #expect(stored.count == 1, "the 420 KB message is one file")
        return (s, file)
    }

    static func blobFiles(_ s: ServerProcess) -> [URL] {
        let blobs = URL(fileURLWithPath: s.dataDir).appendingPathComponent("blobs")
        let walk = FileManager.default.enumerator(at: blobs, includingPropertiesForKeys: [.isRegularFileKey])
        return (walk?.allObjects as? [URL] ?? []).filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }

    /// Sets a file's time back an hour: as if delivered then.
    static func age(_ file: URL) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: file.path)
    }

    /// An administrator removes an account and gets the disk space back with one command.
    @Test(.enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil))) func removingAnAccountAndSweepingFreesItsMail() async throws {
        try await blocking {
            // Only the administrator sweeps here, so the counts are the command's own.
            let (s, file) = try Self.serverWithOneBlobFile(for: "carol@example.org", storage: "sweep_interval = 0")
            defer { s.stop() }

            // Written moments ago: a sweep leaves it for later.
            #expect(try s.cli(["account", "remove", "carol@example.org", "--yes"]).status == 0)
            let early = try s.cli(["storage", "sweep"])
            #expect(early.status == 0, "\(early.err)")
            #expect(early.out.contains("files kept for a later sweep (written or reused in the last 10 minutes): 1"), "\(early.out)")
            #expect(Self.blobFiles(s).count == 1)

            try Self.age(file)
            let swept = try s.cli(["storage", "sweep"])
            #expect(swept.out.contains("files removed: 1 (4"), "\(swept.out)")
            #expect(Self.blobFiles(s).isEmpty)
            let again = try s.cli(["storage", "sweep", "--json"])
            #expect(again.status == 0, "storage sweep --json: \(again.err)\n\(s.log)")
            let report = (try? JSONSerialization.jsonObject(with: Data(again.out.utf8))) as? [String: Int]
            #expect(report?["files_removed"] == 0 && report?["unreferenced"] == 0, "nothing left: \(again.out) \(again.err)")
        }
    }

    /// `storage compact` refuses while the server runs, and with it stopped sweeps, rebuilds the
    /// search index and shrinks the database; the server then starts as before.
    @Test(.enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil))) func anAdministratorCompactsTheStoreWithTheServerStopped() async throws {
        try await blocking {
            let (s, file) = try Self.serverWithOneBlobFile(for: "erin@example.org", storage: "sweep_interval = 0")
            defer { s.stop() }
            let before = try s.cli(["storage", "show"])
            #expect(before.out.contains("stored messages          1 ") && before.out.contains("files in blobs/        1 (4"), "\(before.out)")
            #expect(try s.cli(["account", "remove", "erin@example.org", "--yes"]).status == 0)
            #expect(try s.cli(["storage", "sweep"]).status == 0)
            let waiting = try s.cli(["storage", "show"])
            #expect(waiting.out.contains("files a sweep removes    1"), "\(waiting.out)")
            let running = try s.cli(["storage", "compact"])
            #expect(running.status != 0)
            #expect(running.err.contains("is running on") && running.err.contains("stop it, run `mailroom storage compact`, then start it again"), "\(running.err)")
            #expect(FileManager.default.fileExists(atPath: file.path), "nothing done while the server runs")

            #expect(s.stop() == 0)
            let compacted = try s.cli(["storage", "compact"])
            #expect(compacted.status == 0, "\(compacted.err)")
            for line in ["swept: 0 unreferenced messages, 1 files (4", "search index rebuilt from 0 messages", "records of swept messages deleted: 1", "database: "] {
                #expect(compacted.out.contains(line), "\(line) in \(compacted.out)")
            }
            #expect(!FileManager.default.fileExists(atPath: file.path))

            try s.start()
            let accounts = try s.cli(["account", "list"])
            #expect(accounts.status == 0 && !accounts.out.contains("erin@"), "\(accounts.out)")
            let after = try s.cli(["storage", "show"])
            #expect(after.out.contains("stored messages          0 ") && !after.out.contains("sweep removes"), "\(after.out)")
        }
    }

    /// The server sweeps by itself every `storage.sweep_interval`.
    @Test(.enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil))) func theServerSweepsOnItsOwn() async throws {
        try await blocking {
            let (s, file) = try Self.serverWithOneBlobFile(for: "dan@example.org", storage: "sweep_interval = \"1s\"")
            defer { s.stop() }
            try Self.age(file)
            #expect(try s.cli(["account", "remove", "dan@example.org", "--yes"]).status == 0)
            // The file goes first, the log line after the sweep: wait for both.
            #expect(
                Peers.eventually(30) { !FileManager.default.fileExists(atPath: file.path) && s.log.contains("swept the message store") },
                "\(s.log)")
        }
    }

    @Test func lifecycleLockAndRestart() async throws {
        try await blocking {
            let s = try ServerProcess()
            try s.start()
            _ = try s.cli(["domain", "add", "example.org"])

            // A second server on the same data folder refuses clearly.
            let second = try ServerProcess.run(["serve", "--config", s.configPath], timeout: 30)
            #expect(second.status != 0)
            #expect(second.err.contains("already using the data folder"))

            // SIGTERM stops it cleanly.
            #expect(s.stop() == 0)
            #expect(s.log.contains("Mailroom stopped."))
            #expect(!FileManager.default.fileExists(atPath: s.dataDir + "/admin-url"))

            // Restarting reuses the data and the token.
            try s.start()
            defer { s.stop() }
            #expect(!s.log.contains("created now"))
            #expect(try s.cli(["domain", "list"]).out.contains("example.org"))
        }
    }

    @Test func adminOverHTTPSWithTheGeneratedCertificate() async throws {
        try await blocking {
            let s = try ServerProcess(config: "\n[admin]\ntls = true\n")
            try s.start()
            defer { s.stop() }
            let url = try String(contentsOfFile: s.dataDir + "/admin-url", encoding: .utf8)
            #expect(url.hasPrefix("https://127.0.0.1:"))
            #expect(FileManager.default.fileExists(atPath: s.dataDir + "/tls/cert.pem"))
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            // Without the pinned certificate a client does not trust it.
            let token = try String(contentsOfFile: s.dataDir + "/admin-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let untrusted = try ServerProcess.run(["domain", "list", "--server", url.trimmingCharacters(in: .whitespacesAndNewlines), "--token", token])
            #expect(untrusted.status != 0)
            let pinned = try ServerProcess.run([
                "domain", "list", "--server", url.trimmingCharacters(in: .whitespacesAndNewlines), "--token", token, "--ca",
                s.dataDir + "/tls/cert.pem",
            ])
            #expect(pinned.out.contains("example.org"), "\(pinned.err)")
        }
    }

    @Test func nonLoopbackAdminWithoutTLSIsRefused() async throws {
        try await blocking {
            let s = try ServerProcess()
            let config = try String(contentsOfFile: s.configPath, encoding: .utf8)
                .replacingOccurrences(of: "admin = [\"127.0.0.1:0\"]", with: "admin = [\"0.0.0.0:0\"]")
            try config.write(toFile: s.configPath, atomically: true, encoding: .utf8)
            let r = try ServerProcess.run(["serve", "--config", s.configPath], timeout: 30)
            #expect(r.status != 0)
            #expect(r.err.contains("not on loopback but has no TLS"))
        }
    }

    /// Each body follows a first line `data_dir = "…"`, so line numbers count from 2.
    static let badConfigs: [(String, String)] = [
        ("hostname = \"mail.example.org\"\ncolour = \"blue\"\n", "mailroom.toml:3: unknown key \"colour\""),
        ("[listeners]\nadmin = [\"127.0.0.1:0\"]\nsmtp = [\"nonsense\"]\n", "mailroom.toml:4: listeners.smtp:"),
        ("[listeners]\nadmin = \"127.0.0.1:8080\"\n", "mailroom.toml:3: listeners.admin: must be a list"),
        ("[log]\nlevel = \"loud\"\n", "mailroom.toml:3: log.level: must be one of"),
        ("[admin]\ntls = \"yes\"\n", "mailroom.toml:3: admin.tls: must be true or false"),
        ("[tls]\ncert_file = \"/x.pem\"\n", "give both tls.cert_file and tls.key_file"),
        ("hostname = \"not a host\"\n", "mailroom.toml:2: hostname:"),
        ("[listeners\n", "mailroom.toml:2:"),
        ("[listeners]\nimap = [\"127.0.0.1:99999\"]\n", "mailroom.toml:3: listeners.imap:"),
    ]

    @Test(arguments: badConfigs)
    func configErrorsNameKeyAndLine(body: String, message: String) async throws {
        try await blocking {
            let dir = Scratch.url("mailroom-cfg")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("mailroom.toml").path
            try ("data_dir = \"\(dir.path)/data\"\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
            let r = try ServerProcess.run(["serve", "--config", path], timeout: 30)
            #expect(r.status != 0)
            #expect(r.err.contains(message), "\(r.err)")
            // Nothing was started or written for a config that does not load.
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/data"))
        }
    }
}
