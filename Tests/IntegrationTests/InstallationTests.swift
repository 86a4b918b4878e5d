import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Installing Mailroom as a service: the configuration checked before a (re)start, and the
/// server dropping root for `[security] user` while still binding ports below 1024.
@Suite struct InstallationTests {
    @Test func checkConfigSaysWhatTheServerWouldRunWithAndTouchesNothing() async throws {
        try await blocking {
            let s = try ServerProcess()
            let ok = try s.cli(["serve", "--check-config"])
            #expect(ok.status == 0, "\(ok.err)")
            #expect(ok.out.contains("Configuration OK: \(s.configPath)"), "\(ok.out)")
            #expect(ok.out.contains("(created at start)"), "\(ok.out)")
            #expect(!FileManager.default.fileExists(atPath: s.dataDir), "the check created the data folder")

            // Beside the running server: no lock taken, and it says the server is there.
            try s.start()
            defer { s.stop() }
            let running = try s.cli(["serve", "--check-config"])
            #expect(running.status == 0, "\(running.err)")
            #expect(running.out.contains("in use by the running server, pid \(s.process!.pid)"), "\(running.out)")
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0, "the server still works")
        }
    }

    @Test(arguments: [
        ("[security]\nuser = \"no-such-user-here\"\n", "security.user: there is no user no-such-user-here"),
        ("[tls]\ncert_file = \"CERT\"\nkey_file = \"OTHERKEY\"\n", "is not the key of the certificate"),
        ("[tls]\ncert_file = \"/nonexistent.pem\"\nkey_file = \"OTHERKEY\"\n", "cannot read the certificate /nonexistent.pem"),
    ])
    func checkConfigFindsWhatStartingWouldRefuse(config: String, message: String) async throws {
        try await blocking {
            // A certificate with the key of another.
            let folder = try Scratch.folder("check-config")
            defer { try? FileManager.default.removeItem(at: folder) }
            let (cert, other) = (folder.appendingPathComponent("cert.pem").path, folder.appendingPathComponent("other.pem").path)
            for args in [
                ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/CN=mail.example.org",
                 "-keyout", folder.appendingPathComponent("key.pem").path, "-out", cert],
                ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", other],
            ] {
                let r = try Peers.run(try #require(Peers.find("openssl")), args)
                #expect(r.status == 0, "\(r.output)")
            }
            let body = "hostname = \"mail.example.org\"\ndata_dir = \"\(folder.path)/data\"\n"
                + config.replacingOccurrences(of: "OTHERKEY", with: other).replacingOccurrences(of: "CERT", with: cert)
            let file = folder.appendingPathComponent("mailroom.toml").path
            try body.write(toFile: file, atomically: true, encoding: .utf8)
            let r = try ServerProcess.run(["serve", "--check-config", "--config", file])
            #expect(r.status != 0)
            #expect(r.err.contains(message), "\(r.err)")
        }
    }

    /// Started as root with `user = "nobody"`: the server runs as nobody with no privilege but
    /// CAP_NET_BIND_SERVICE, its SMTP listener on a port below 1024 takes mail, and the data
    /// folder is nobody's. Root is needed to test this, and is what CI runs as.
    @Test(.enabled(if: getuid() == 0)) func startedAsRootItBecomesTheUserAndStillBindsLowPorts() async throws {
        try await blocking {
            let s = try ServerProcess(config: "user = \"nobody\"")
            let low = Peers.freePort(in: 700..<1000)
            let config = try String(contentsOfFile: s.configPath, encoding: .utf8)
            try config.replacingOccurrences(of: "smtp = [\"127.0.0.1:0\"]", with: "smtp = [\"127.0.0.1:\(low)\"]")
                .write(toFile: s.configPath, atomically: true, encoding: .utf8)
            chmod(s.root.path, 0o755)  // nobody must reach its data folder inside
            try s.start()
            defer { s.stop() }
            #expect(try s.waitForPorts(["SMTP (MX)"]) == [low])
            let status = try String(contentsOfFile: "/proc/\(s.process!.pid)/status", encoding: .utf8)
            let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
            #expect(status.contains("Uid:\t\(nobody)\t\(nobody)\t\(nobody)\t\(nobody)"), "\(status)")
            #expect(status.contains("CapEff:\t0000000000000400"), "only CAP_NET_BIND_SERVICE: \(status)")

            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org"]).status == 0)
            let reply = Peers.converse(
                port: low,
                "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: low port\r\n\r\nhello\r\n.\r\nQUIT\r\n")
            #expect(reply.contains("250 2.0.0"), "\(reply)")
            #expect(try s.cli(["account", "show", "alice@example.org"]).out.contains("1 message"))
            let owner = try FileManager.default.attributesOfItem(atPath: s.dataDir)[.ownerAccountID] as? UInt
            #expect(owner == UInt(nobody), "the data folder was made for nobody")
        }
    }

    @Test(.enabled(if: getuid() == 0)) func aDataFolderOfAnotherUserIsRefusedWithTheFix() async throws {
        try await blocking {
            let s = try ServerProcess(config: "user = \"nobody\"")
            try FileManager.default.createDirectory(atPath: s.dataDir, withIntermediateDirectories: true)
            let r = try ServerProcess.run(["serve", "--config", s.configPath])
            #expect(r.status != 0)
            #expect(r.err.contains("run `chown -R nobody: \(s.dataDir)`"), "\(r.err)")
        }
    }

    /// deploy/mailroom.service as systemd reads it: no unknown key or bad value (systemd only
    /// warns about those, and then runs the service without them), and the hardening the
    /// docs promise.
    @Test(.enabled(if: Peers.shouldRun(Peers.find("systemd-analyze") != nil))) func theSystemdUnitIsValid() async throws {
        try await blocking {
            let analyze = try #require(Peers.find("systemd-analyze"), "systemd-analyze is required when CI=true (Debian's systemd)")
            let unit = SMTPInteropTests.repoRoot.appendingPathComponent("deploy/mailroom.service")
            let text = try String(contentsOf: unit, encoding: .utf8)
            for line in [
                "User=mailroom", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/mailroom",
                "ExecStartPre=/usr/local/bin/mailroom serve --check-config",
            ] {
                #expect(text.contains("\n\(line)\n"), "\(line)")
            }
            // verify checks that the programs exist: point it at the one just built.
            let folder = try Scratch.folder("unit")
            defer { try? FileManager.default.removeItem(at: folder) }
            let copy = folder.appendingPathComponent("mailroom.service").path
            try text.replacingOccurrences(of: "/usr/local/bin/mailroom", with: ServerProcess.binary)
                .write(toFile: copy, atomically: true, encoding: .utf8)
            let r = try Peers.run(analyze, ["verify", copy])
            #expect(r.status == 0 && !r.output.contains("mailroom.service"), "\(r.output)")
        }
    }
}
