import Crypto
import Foundation
import Testing
import TestSupport

/// Webhooks end to end: a receiver on loopback (a few lines of Python's http.server) gets
/// signed JSON for a changed account, a delivered message, a refused recipient and a failed
/// login; its first answer is a 500, so the first event is retried; the log tells it all.
struct WebhookTests {
    static let python = Peers.find("python3")

    /// Records each request as a JSON line; answers 500 to the first, 200 after.
    static let receiver = #"""
        import http.server, json, sys
        out, portfile = sys.argv[1], sys.argv[2]
        seen = [0]
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                seen[0] += 1
                status = 500 if seen[0] == 1 else 200
                with open(out, "a") as f:
                    f.write(json.dumps({"status": status, "path": self.path, "signature": self.headers["X-Mailroom-Signature"],
                                        "event": self.headers["X-Mailroom-Event"], "body": body.decode()}) + "\n")
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            def log_message(self, *a):
                pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        open(portfile + ".tmp", "w").write(str(s.server_port))
        import os; os.rename(portfile + ".tmp", portfile)
        s.serve_forever()
        """#

    @Test(.enabled(if: python != nil, "needs python3"))
    func signedEventsAreRetriedAndLogged() async throws {
        try await blocking {
            let python = try #require(Self.python)
            let s = try ServerProcess(config: "\n[webhooks]\nretry_base = \"1s\"\n")
            let requests = s.root.appendingPathComponent("requests.jsonl").path
            let portFile = s.root.appendingPathComponent("receiver.port").path
            let script = s.root.appendingPathComponent("receiver.py").path
            try Self.receiver.write(toFile: script, atomically: true, encoding: .utf8)
            let receiver = try ChildProcess(python, [script, requests, portFile], stderr: s.root.appendingPathComponent("receiver.err").path)
            defer { receiver.stop() }
            var port: Int?
            for _ in 0..<200 where port == nil {
                port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
                if port == nil { Thread.sleep(forTimeInterval: 0.05) }
            }
            let receiverPort = try #require(port, "the receiver did not start")

            try s.start()
            defer { s.stop() }
            let (smtp, imap) = try { let p = try s.waitForPorts(["SMTP (MX)", "IMAP"]); return (p[0], p[1]) }()
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            let add = try s.cli([
                "webhook", "add", "http://127.0.0.1:\(receiverPort)/hooks/mailroom", "--events", "delivered,refused,auth-failure,account-changed",
            ])
            #expect(add.status == 0, "\(add.err)")
            let secret = try #require(add.out.split(separator: " ").first { $0.hasPrefix("whsec_") }.map(String.init))
            #expect(try s.cli(["webhook", "add", "ftp://x", "--events", "delivered"]).err.contains("give an http:// or https:// URL"))
            #expect(try s.cli(["webhook", "add", "http://x", "--events", "sent"]).err.contains("sent is not an event"))

            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)
            let mail = "EHLO c.test\r\nMAIL FROM:<bob@elsewhere.test>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"
            #expect(Peers.converse(port: smtp, mail).contains("250 "))
            #expect(Peers.converse(port: imap, "a LOGIN alice@example.org wrong-guess-1\r\nb LOGOUT\r\n").contains("a NO"))

            // Every event arrives; the first one twice (after the 500). Bounded wait.
            var lines: [[String: String]] = []
            let wanted: Set = ["account-changed", "delivered", "refused", "auth-failure"]
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                lines = ((try? String(contentsOfFile: requests, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }.map { $0.mapValues { "\($0)" } }
                if wanted.isSubset(of: Set(lines.filter { $0["status"] == "200" }.compactMap { $0["event"] })) { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            #expect(wanted.isSubset(of: Set(lines.filter { $0["status"] == "200" }.compactMap { $0["event"] })), "\(lines)")
            #expect(lines.first?["status"] == "500")
            #expect(lines.allSatisfy { $0["path"] == "/hooks/mailroom" })
            for line in lines {
                // t=TIME,sha256=HMAC(secret, "TIME.BODY")
                let sig = try #require(line["signature"])
                let parts = sig.split(separator: ",")
                let time = try #require(parts.first?.dropFirst(2))
                let mac = HMAC<SHA256>.authenticationCode(for: Array("\(time).\(line["body"] ?? "")".utf8), using: SymmetricKey(data: Array(secret.utf8)))
                #expect(parts.last == "sha256=" + mac.map { String(format: "%02x", $0) }.joined(), "bad signature on \(line)")
            }
            let bodies = lines.compactMap { $0["body"] }
            #expect(bodies.contains { $0.contains(#""event":"delivered""#) && $0.contains(#""recipient":"alice@example.org""#) })
            #expect(bodies.contains { $0.contains(#""event":"refused""#) && $0.contains("nobody@example.org") })
            #expect(bodies.contains { $0.contains(#""event":"auth-failure""#) && $0.contains(#""reason":"wrong password""#) })
            #expect(bodies.contains { $0.contains(#""action":"account.add""#) && $0.contains(#""account":"alice@example.org""#) })

            let log = try s.cli(["webhook", "log", "1"])
            #expect(log.out.contains("delivered"), "\(log.out)")
            #expect(log.out.split(separator: "\n").contains { $0.contains("delivered") && $0.contains(" 2 ") }, "a retried delivery shows 2 attempts:\n\(log.out)")
            #expect(try s.cli(["webhook", "list"]).out.contains("/hooks/mailroom"))
            #expect(try s.cli(["webhook", "remove", "1"]).status == 0)
            #expect(try s.cli(["webhook", "list"]).out.contains("No webhooks."))
            #expect(try s.cli(["audit"]).out.contains("webhook.add"))
        }
    }
}
