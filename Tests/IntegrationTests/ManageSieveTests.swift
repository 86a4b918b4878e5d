import Foundation
import Testing
import TestSupport

/// ManageSieve (RFC 5804) through the real server, driven by python-sievelib: a script put and
/// activated over ManageSieve files mail that arrives over SMTP.
struct ManageSieveTests {
    static let client = #"""
        import sys
        from sievelib.managesieve import Client
        port = int(sys.argv[1])
        script = 'require ["fileinto", "mailbox"];\r\nif header :contains "subject" "project" { fileinto :create "Projects"; }\r\n'
        def err(c): return c.errmsg.decode() if isinstance(c.errmsg, bytes) else c.errmsg
        c = Client("127.0.0.1", port)
        print("wrong-password", c.connect("alice@example.org", "wrong", authmech="PLAIN"))
        c = Client("127.0.0.1", port)
        print("login", c.connect("alice@example.org", "alice-password-1", authmech="PLAIN"))
        print("implementation", c.get_implementation())
        print("extensions", " ".join(c.get_sieve_capabilities()))
        print("havespace", c.havespace("rules", len(script)))
        print("put", c.putscript("rules", script))
        print("setactive", c.setactive("rules"))
        print("list", c.listscripts())
        # sievelib gives the lines joined with LF, without the last line break.
        print("same", c.getscript("rules") == "\n".join(script.splitlines()))
        print("check-broken", c.checkscript('require "fileinto";\r\nfilein "x";\r\n'), err(c))
        print("put-broken", c.putscript("broken", 'if true {\r\n'), err(c))
        print("delete-active", c.deletescript("rules"), err(c))
        print("put-other", c.putscript("other", "keep;\r\n"))
        print("rename", c.renamescript("other", "spare"))
        print("rename-taken", c.renamescript("spare", "rules"), err(c))
        print("delete-spare", c.deletescript("spare"))
        print("get-missing", c.getscript("spare"), err(c))
        print("final-list", c.listscripts())
        c.logout()
        """#

    @Test func aScriptPutOverManageSieveFilesMail() async throws {
        try await blocking {
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let (mx, imap, sieve) = try {
                let p = try s.waitForPorts(["SMTP (MX)", "IMAP", "ManageSieve"]); return (p[0], p[1], p[2])
            }()
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)

            let dir = Scratch.url("managesieve", extension: "py")
            try Self.client.write(to: dir, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: dir) }
            let r = try Peers.run("/usr/bin/env", ["python3", dir.path, String(sieve)], timeout: 60)
            let out = r.stdout
            #expect(r.status == 0, "\(r.output)")
            #expect(out.contains("wrong-password False"), "\(out)")
            #expect(out.contains("login True"), "\(out)")
            #expect(out.contains("implementation Mailroom"), "\(out)")
            #expect(out.contains("extensions ") && out.contains(" fileinto ") && out.contains(" vacation "), "\(out)")
            #expect(out.contains("havespace True"), "\(out)")
            #expect(out.contains("put True"), "\(out)")
            #expect(out.contains("setactive True"), "\(out)")
            #expect(out.contains("list ('rules', [])"), "\(out)")
            #expect(out.contains("same True"), "\(out)")
            #expect(out.contains("check-broken False 2:1:"), "\(out)")
            #expect(out.contains("put-broken False"), "\(out)")
            #expect(out.contains("delete-active False"), "\(out)")
            #expect(out.contains("put-other True") && out.contains("rename True"), "\(out)")
            #expect(out.contains("rename-taken False"), "\(out)")
            #expect(out.contains("delete-spare True"), "\(out)")
            #expect(out.contains("get-missing None There is no script by that name"), "\(out)")
            #expect(out.contains("final-list ('rules', [])"), "\(out)")

            // The script the CLI sees is the one put over ManageSieve, and it runs at delivery.
            #expect(try s.cli(["sieve", "list", "alice@example.org"]).out.contains("rules"))
            let mail =
                "From: <bob@elsewhere.test>\r\nTo: <alice@example.org>\r\nSubject: the project plan\r\nMessage-ID: <ms-1@elsewhere.test>\r\n\r\nhello\r\n"
            let session =
                "EHLO c.test\r\nMAIL FROM:<bob@elsewhere.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n\(mail).\r\nQUIT\r\n"
            #expect(Peers.converse(port: mx, session).contains("250 2.0.0"))
            let status = Peers.converse(
                port: imap,
                "a LOGIN alice@example.org alice-password-1\r\nb STATUS Projects (MESSAGES)\r\nc STATUS INBOX (MESSAGES)\r\nd LOGOUT\r\n"
            )
            #expect(status.contains("STATUS Projects (MESSAGES 1)"), "\(status)")
            #expect(status.contains("STATUS INBOX (MESSAGES 0)"), "\(status)")

            // Raw: the greeting, a script error's position, an unknown command, a literal over the limit.
            let raw = Peers.converse(
                port: sieve,
                "CHECKSCRIPT {22+}\r\nrequire \"fileinto\";\r\nx\r\nFROB\r\nPUTSCRIPT \"big\" {2000000+}\r\n"
                    + String(repeating: "#", count: 2_000_000) + "\r\nLOGOUT\r\n")
            #expect(raw.contains("\"SASL\" \"PLAIN\"") && raw.contains("\"VERSION\" \"1.0\""), "\(raw.prefix(600))")
            #expect(raw.contains("\"STARTTLS\""), "\(raw.prefix(600))")
            #expect(raw.contains("NO \"AUTHENTICATE first\""), "\(raw.prefix(900))")
            #expect(raw.contains("NO (QUOTA/MAXSIZE)"), "\(raw.prefix(900))")
            #expect(raw.contains("OK \"Logout completed\""), "\(raw.prefix(900))")

            // Logins are in the journal with their protocol; changes audited as the user.
            let logins = try s.cli(["account", "show", "alice@example.org"]).out
            #expect(logins.contains("MANAGESIEVE"), "\(logins)")
        }
    }

    /// STARTTLS, the capabilities re-issued over TLS (RFC 5804 §2.2), AUTHENTICATE PLAIN in its
    /// continuation form with a literal, and a script name sent as a quoted string with escapes.
    static let tlsClient = #"""
        import socket, ssl, sys, base64
        port = int(sys.argv[1])
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        f = s.makefile("rb")
        def until_final():
            lines = []
            while True:
                line = f.readline().decode()
                lines.append(line.rstrip("\r\n"))
                if line.startswith(("OK", "NO", "BYE")):
                    return " | ".join(lines)
        print("greeting", until_final())
        s.sendall(b"STARTTLS\r\n")
        print("starttls", until_final())
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        t = ctx.wrap_socket(s)
        f = t.makefile("rb")
        print("after-tls", until_final())
        t.sendall(b'AUTHENTICATE "PLAIN"\r\n')
        print("challenge", f.readline().decode().rstrip())
        token = base64.b64encode(b"\0alice@example.org\0alice-password-1")
        t.sendall(b"{%d+}\r\n%s\r\n" % (len(token), token))
        print("auth", until_final())
        t.sendall(b'PUTSCRIPT "a \\"b\\"" {6+}\r\nkeep;\n\r\nLISTSCRIPTS\r\n')
        print("put", until_final())
        print("list", until_final())
        t.sendall(b"CAPABILITY\r\n")
        print("capability", until_final())
        t.sendall(b"LOGOUT\r\n")
        print("logout", until_final())
        """#

    @Test func startTLSThenAuthenticateWithAContinuation() async throws {
        try await blocking {
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let port = try s.waitForPorts(["ManageSieve"])[0]
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)
            let file = Scratch.url("managesieve-tls", extension: "py")
            try Self.tlsClient.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let r = try Peers.run("/usr/bin/env", ["python3", file.path, String(port)], timeout: 60)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(r.status == 0, "\(r.output)")
            func line(_ key: String) -> String { lines.first { $0.hasPrefix(key + " ") } ?? "" }
            #expect(line("greeting").contains("| \"STARTTLS\" |"), "\(r.output)")
            #expect(line("starttls").hasPrefix("starttls OK"), "\(r.output)")
            // Over TLS: the capabilities again, without STARTTLS.
            #expect(line("after-tls").contains("\"SASL\" \"PLAIN\""), "\(r.output)")
            #expect(!line("after-tls").contains("\"STARTTLS\""), "\(r.output)")
            #expect(line("challenge") == "challenge \"\"", "\(r.output)")
            #expect(line("auth").hasPrefix("auth OK"), "\(r.output)")
            #expect(line("put").hasPrefix("put OK"), "\(r.output)")
            #expect(line("list").hasPrefix(#"list "a \"b\"" | OK"#), "\(r.output)")
            #expect(line("capability").contains("OWNER"), "\(r.output)")
            #expect(line("logout").hasPrefix("logout OK"), "\(r.output)")
        }
    }

    /// Debian's sieve-connect: upload, list, activate and download, each a connection of its
    /// own, over STARTTLS only (--noclearchan; the certificate is self-signed here, hence
    /// --notlsverify).
    static let sieveConnect = Peers.find("sieve-connect")

    @Test(.enabled(if: Peers.shouldRun(sieveConnect != nil), "needs sieve-connect (Debian)"))
    func sieveConnectUploadsListsActivatesAndDownloads() async throws {
        try await blocking {
            let tool = try #require(Self.sieveConnect, "sieve-connect is not installed")
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let port = try s.waitForPorts(["ManageSieve"])[0]
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)
            let dir = try Scratch.folder("sieve-connect")
            defer { try? FileManager.default.removeItem(at: dir) }
            let script = "require \"fileinto\";\nif header :contains \"subject\" \"report\" { fileinto \"Reports\"; }\n"
            let local = dir.appendingPathComponent("reports.sieve").path
            try script.write(toFile: local, atomically: true, encoding: .utf8)
            func run(_ args: [String]) throws -> ServerProcess.Result {
                // The password comes on standard input (--passwordfd 0), never on the command line.
                try ServerProcess.runTool(
                    tool,
                    ["--server", "127.0.0.1", "--port", String(port), "--user", "alice@example.org", "--passwordfd", "0",
                        "--notlsverify", "--noclearchan", "--authmech", "PLAIN"] + args,
                    stdin: "alice-password-1\n", timeout: 60)
            }
            let upload = try run(["--upload", "--localsieve", local, "--remotesieve", "reports"])
            #expect(upload.status == 0, "\(upload.out)\(upload.err)")
            let listed = try run(["--list"])
            #expect(listed.status == 0 && listed.out.contains("reports"), "\(listed.out)\(listed.err)")
            #expect(!listed.out.contains("ACTIVE"), "\(listed.out)")
            let activate = try run(["--activate", "--remotesieve", "reports"])
            #expect(activate.status == 0, "\(activate.out)\(activate.err)")
            let active = try run(["--list"])
            #expect(active.out.contains("reports") && active.out.contains("ACTIVE"), "\(active.out)\(active.err)")
            let copy = dir.appendingPathComponent("downloaded.sieve").path
            let download = try run(["--download", "--remotesieve", "reports", "--localsieve", copy])
            #expect(download.status == 0, "\(download.out)\(download.err)")
            #expect(try String(contentsOfFile: copy, encoding: .utf8) == script)
            // The server agrees: the script is the account's active one.
            let show = try s.cli(["sieve", "list", "alice@example.org"]).out
            #expect(show.contains("reports") && show.contains("yes"), "\(show)")
            // A script that does not compile is refused with its position.
            let bad = dir.appendingPathComponent("bad.sieve").path
            try "require \"fileinto\";\nfilein \"x\";\n".write(toFile: bad, atomically: true, encoding: .utf8)
            let refused = try run(["--upload", "--localsieve", bad, "--remotesieve", "bad"])
            #expect(refused.status != 0 && (refused.out + refused.err).contains("2:1"), "\(refused.out)\(refused.err)")
        }
    }
}
