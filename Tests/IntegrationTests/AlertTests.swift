import Foundation
import Testing
import TestSupport

/// Alerts without Prometheus: a certificate about to expire is an alert in `mailroom status`,
/// mailed once to `[alerts] email` (not again at every check).
struct AlertTests {
    @Test func anExpiringCertificateIsMailedOnceAndShownInStatus() async throws {
        try await blocking {
            let folder = try Scratch.folder("alerts")
            defer { try? FileManager.default.removeItem(at: folder) }
            let (cert, key) = (folder.appendingPathComponent("cert.pem").path, folder.appendingPathComponent("key.pem").path)
            let made = try Peers.run(
                try #require(Peers.find("openssl")),
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "5", "-subj",
                    "/CN=mail.example.org", "-addext", "subjectAltName=DNS:mail.example.org", "-keyout", key, "-out", cert,
                ])
            #expect(made.status == 0, "\(made.output)")
            let s = try ServerProcess(
                config: "\n[tls]\ncert_file = \"\(cert)\"\nkey_file = \"\(key)\"\n\n[alerts]\nemail = \"postmaster@example.org\"\ninterval = \"1s\"\n")
            try s.start()
            defer { s.stop() }
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "postmaster@example.org"]).status == 0)
            // The first check ran before the account existed (that mail went nowhere); the next
            // ones see the alert already firing and send nothing new. Restart to check afresh.
            s.stop()
            try s.start()
            let status = try s.cli(["status"])
            #expect(status.status == 0, "\(status.err)")
            #expect(status.out.contains("MailroomCertificateExpiresSoon: The TLS certificate expires in 4 days"), "\(status.out)")
            #expect(status.out.contains("mailed to postmaster@example.org"), "\(status.out)")
            #expect(status.out.contains("SMTP (MX)"), "\(status.out)")
            #expect(
                Peers.eventually(10) { (try? s.cli(["account", "show", "postmaster@example.org"]).out.contains("1 message")) == true },
                "the alert is mailed")
            Thread.sleep(forTimeInterval: 2.5)  // two more checks: still one mail
            #expect(try s.cli(["account", "show", "postmaster@example.org"]).out.contains("1 message"))
            // The trace tells of it: from the null sender, stored in postmaster's INBOX.
            let events = try s.cli(["trace", "--recipient", "postmaster@example.org"])
            #expect(events.out.contains("stored"), "\(events.out)")
        }
    }
}
