import Foundation
import TestSupport
import Testing

/// The real server with Debian's clamd and rspamd beside it: what each verdict does to a
/// message arriving on the MX, as a sending server sees the replies and the administrator the
/// trace.
@Suite(.serialized) struct ScannerInteropTests {
    static let python = Peers.find("python3")

    /// Sends each (subject, body) from outside on the MX; returns each reply as "code text".
    static func send(_ python: String, port: Int, _ messages: [(subject: String, body: String)]) throws -> [String] {
        let script = """
            import json, smtplib, sys
            port = int(sys.argv[1])
            for m in json.loads(sys.stdin.read()):
                msg = ("From: Sender <sender@elsewhere.test>\\r\\nTo: alice@example.org\\r\\nSubject: " + m["subject"]
                       + "\\r\\nDate: Thu, 03 Dec 2026 09:00:00 +0000\\r\\nMessage-ID: <" + m["subject"] + "@elsewhere.test>\\r\\n"
                       + "MIME-Version: 1.0\\r\\n" + m["body"])
                s = smtplib.SMTP("127.0.0.1", port, timeout=60)
                s.ehlo("mail.elsewhere.test")
                try:
                    s.sendmail("sender@elsewhere.test", ["alice@example.org"], msg.encode())
                    print("250")
                except smtplib.SMTPDataError as e:
                    print(e.smtp_code, e.smtp_error.decode())
                s.quit()
            """
        let json = try JSONSerialization.data(withJSONObject: messages.map { ["subject": $0.subject, "body": $0.body] })
        let r = try Peers.run(python, ["-c", script, String(port)], input: String(decoding: json, as: UTF8.self), timeout: 180)
        return r.output.split(separator: "\n").map(String.init)
    }

    static let plain = "Content-Type: text/plain\r\n\r\nHello Alice, the minutes are attached.\r\n"
    static var eicarAttachment: String {
        let b64 = Data(ClamdPeer.eicar.utf8).base64EncodedString()
        return """
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain\r
            \r
            See attached.\r
            --b1\r
            Content-Type: application/octet-stream; name="eicar.com"\r
            Content-Transfer-Encoding: base64\r
            Content-Disposition: attachment; filename="eicar.com"\r
            \r
            \(b64)\r
            --b1--\r

            """
    }

    @Test(.enabled(if: Peers.shouldRun(ClamdPeer.available && RspamdPeer.available && python != nil), "needs clamd, rspamd and python3"))
    func verdictsOfClamdAndRspamd() async throws {
        try await blocking {
            let python = try #require(Self.python, "CI=true but python3 is missing")
            let clamd = try ClamdPeer.start()
            defer { clamd.stop() }
            let rspamd = try RspamdPeer.start()
            defer { rspamd.stop() }
            let s = try ServerProcess(config: """
                [spam]
                rspamd_url = "\(rspamd.url)"

                [antivirus]
                clamd = "unix:\(clamd.socket)"
                """)
            try s.start()
            defer { s.stop() }
            let port = try s.waitForPorts(["SMTP (MX)"])[0]
            for cmd in [["domain", "add", "example.org"], ["account", "add", "alice@example.org"]] {
                #expect(try s.cli(cmd).status == 0)
            }
            let replies = try Self.send(python, port: port, [
                ("clean", Self.plain),
                ("virus", Self.eicarAttachment),
                ("rspamd-junk-test", Self.plain),
                ("rspamd-reject-test", Self.plain),
            ])
            #expect(replies.count == 4, "\(replies)\n\(s.log)")
            #expect(replies.first == "250", "\(replies)")
            #expect(replies.dropFirst().first == "554 5.7.1 message refused: it contains malware (Eicar-Test-Signature.UNOFFICIAL)", "\(replies)")  // clamd marks signatures of unsigned databases
            #expect(replies.dropFirst(2).first == "250", "\(replies)")
            #expect(replies.dropFirst(3).first?.hasPrefix("554 5.7.1 message refused as spam (rspamd score") == true, "\(replies)")

            let junk = try s.cli(["trace", "--message-id", "rspamd-junk-test@elsewhere.test"]).out
            #expect(junk.contains("Junk (rspamd: add header, score"), "\(junk)")
            #expect(junk.contains("TEST_JUNK(120)"), "\(junk)")
            let clean = try s.cli(["trace", "--message-id", "clean@elsewhere.test"]).out
            #expect(clean.contains("clamd: clean") && clean.contains("rspamd: no action"), "\(clean)")
            #expect(clean.contains("TEST_OUR_RESULTS(0.5)"), "rspamd was given our results: \(clean)")
            #expect(clean.contains("stored    alice@example.org — INBOX"), "\(clean)")
            let virus = try s.cli(["trace", "--sender", "sender@elsewhere.test"]).out
            #expect(virus.contains("malware: Eicar-Test-Signature"), "\(virus)")

            // rspamd gone: the built-in score decides, and says so. clamd gone: refused for now.
            rspamd.stop()
            #expect(try Self.send(python, port: port, [("fallback", Self.plain)]) == ["250"])
            let fallback = try s.cli(["trace", "--message-id", "fallback@elsewhere.test"]).out
            #expect(fallback.contains("rspamd unavailable"), "\(fallback)")
            #expect(fallback.contains("built-in score used; score"), "\(fallback)")
            clamd.stop()
            #expect(try Self.send(python, port: port, [("unscanned", Self.plain)]) == ["451 4.3.0 the virus scanner is not available; try again later"])
        }
    }
}
