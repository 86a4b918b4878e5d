import Foundation
import Testing
import TestSupport

/// `/metrics` as Prometheus reads it, after real SMTP and IMAP traffic; and the alert rules and
/// dashboard in deploy/, which must use only metrics the server serves.
@Suite struct MetricsTests {
    static let promtool = Peers.find("promtool")
    static let deploy = SMTPInteropTests.repoRoot.appendingPathComponent("deploy")

    /// Metrics that appear only after events this test does not cause (outbound delivery, the
    /// inbound checks, a connection over the limits); their names must still be in the code.
    static let eventual = [
        "mailroom_outbound_attempts_total", "mailroom_outbound_delivery_duration_seconds", "mailroom_inbound_decisions_total",
    ]

    @Test(.enabled(if: Peers.shouldRun(promtool != nil))) func metricsCountTrafficAndTheDeployFilesUseThem() async throws {
        try await blocking {
            let promtool = try #require(Self.promtool, "promtool is required when CI=true (Debian's prometheus)")
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let (smtp, imap) = try { let p = try s.waitForPorts(["SMTP (MX)", "IMAP"]); return (p[0], p[1]) }()
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)
            let sent = Peers.converse(
                port: smtp,
                "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n")
            #expect(sent.contains("250 2.0.0"), "\(sent)")
            let login = Peers.converse(port: imap, "a LOGIN alice@example.org wrong-password\r\nb LOGOUT\r\n")
            #expect(login.contains("a NO"), "\(login)")

            let adminURL = try String(contentsOfFile: s.dataDir + "/admin-url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let adminPort = try #require(URL(string: adminURL)?.port)
            let response = Peers.converse(port: adminPort, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            let text = try #require(response.range(of: "\r\n\r\n").map { String(response[$0.upperBound...]) }, "\(response)")
            for line in [
                #"mailroom_smtp_messages_total{listener="smtp",result="accepted"} 1"#,
                #"mailroom_smtp_recipients_refused_total{listener="smtp"} 1"#,
                #"mailroom_auth_failures_total{protocol="imap",reason="credentials"} 1"#,
                #"mailroom_imap_commands_total{command="LOGIN"} 1"#,
                #"mailroom_connections_total{protocol="smtp",listener="smtp"} 1"#,
                #"mailroom_directory_entries{kind="accounts"} 1.0"#,
                #"mailroom_queue_oldest_age_seconds 0"#,
            ] {
                #expect(text.contains("\n\(line)\n"), "\(line) in:\n\(text)")
            }
            #expect(text.contains("mailroom_tls_certificate_expiry_timestamp_seconds "))
            #expect(text.contains(#"mailroom_store_bytes{part="messages"} "#))

            // Prometheus' own linter: names, types, help texts, units.
            let lint = try Peers.run(promtool, ["check", "metrics"], input: text)
            #expect(lint.status == 0 && lint.output.isEmpty, "\(lint.output)")

            // The rules load and their unit tests pass; every metric the rules and dashboard use
            // is one the server serves (or, for the eventual ones, one the code writes).
            let rules = Self.deploy.appendingPathComponent("prometheus")
            let check = try Peers.run(promtool, ["check", "rules", rules.appendingPathComponent("mailroom-alerts.yml").path])
            #expect(check.status == 0, "\(check.output)")
            let unit = try Peers.run(promtool, ["test", "rules", rules.appendingPathComponent("mailroom-alerts.test.yml").path])
            #expect(unit.status == 0, "\(unit.output)")
            let served = Set(
                text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
            for file in ["prometheus/mailroom-alerts.yml", "grafana/mailroom-dashboard.json"] {
                let body = try String(contentsOf: Self.deploy.appendingPathComponent(file), encoding: .utf8)
                let used = Set(body.matches(of: /mailroom_[a-z_]+/).map { String($0.output) }.map { name in
                    ["_bucket", "_sum", "_count"].reduce(name) { n, suffix in n.hasSuffix(suffix) ? String(n.dropLast(suffix.count)) : n }
                })
                #expect(!used.isEmpty)
                for name in used where !served.contains(name) {
                    #expect(Self.eventual.contains(name), "\(file) uses \(name), which /metrics does not serve")
                }
            }
            let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.deploy.appendingPathComponent("grafana/mailroom-dashboard.json")))
            #expect(((dashboard as? [String: Any])?["panels"] as? [Any])?.count ?? 0 >= 10)
        }
    }
}
