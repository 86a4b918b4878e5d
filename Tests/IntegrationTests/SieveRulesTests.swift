import Foundation
import Testing
import TestSupport

/// Mail rules through the real server: a script put with the CLI files mail that arrives over
/// SMTP, the trace says so, `rules test` predicts it, and the vacation command writes a script.
struct SieveRulesTests {
    @Test func aScriptPutWithTheCLIFilesMailArrivingOverSMTP() async throws {
        try await blocking {
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let (mx, imap) = try {
                let p = try s.waitForPorts(["SMTP (MX)", "IMAP"]); return (p[0], p[1])
            }()
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)

            // A script that does not compile is refused with its line and column.
            let bad = try s.cli(
                ["sieve", "put", "alice@example.org", "rules"], stdin: "require \"fileinto\";\nfilein \"x\";\n")
            #expect(bad.status != 0)
            #expect((bad.out + bad.err).contains("2:1"), "\(bad.out)\(bad.err)")

            let script = """
                require ["fileinto", "mailbox"];
                if header :contains "subject" "project" { fileinto :create "Projects"; }
                """
            let put = try s.cli(["sieve", "put", "alice@example.org", "rules", "--activate"], stdin: script)
            #expect(put.status == 0, "\(put.err)")
            #expect(try s.cli(["sieve", "list", "alice@example.org"]).out.contains("rules"))
            #expect(
                try s.cli(["sieve", "show", "alice@example.org", "rules"]).out.contains("fileinto :create \"Projects\"")
            )

            let mail =
                "From: <bob@elsewhere.test>\r\nTo: <alice@example.org>\r\nSubject: the project plan\r\nMessage-ID: <plan-1@elsewhere.test>\r\n\r\nhello\r\n"
            // The dry run says what would happen, and stores nothing.
            let dry = try s.cli(["rules", "test", "alice@example.org", "--message", "-"], stdin: mail)
            #expect(dry.out.contains("action: fileinto :create \"Projects\""), "\(dry.out)\(dry.err)")
            #expect(dry.out.contains("→ stored in Projects"), "\(dry.out)")

            let session =
                "EHLO c.test\r\nMAIL FROM:<bob@elsewhere.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n\(mail).\r\nQUIT\r\n"
            #expect(Peers.converse(port: mx, session).contains("250 2.0.0"))
            let status = Peers.converse(
                port: imap,
                "a LOGIN alice@example.org alice-password-1\r\nb STATUS Projects (MESSAGES)\r\nc STATUS INBOX (MESSAGES)\r\nd LOGOUT\r\n"
            )
            #expect(status.contains("STATUS Projects (MESSAGES 1)"), "\(status)")
            #expect(status.contains("STATUS INBOX (MESSAGES 0)"), "\(status)")
            let trace = try s.cli(["trace", "--message-id", "plan-1@elsewhere.test"]).out
            #expect(trace.contains("Projects (filed by the account's rules)"), "\(trace)")

            // The vacation reply is a script the user can see; the rules still run after it.
            let text = "I am away until Monday.\n"
            let set = try s.cli(
                ["account", "vacation", "set", "alice@example.org", "--subject", "Away", "--message-file", "-"],
                stdin: text)
            #expect(set.status == 0, "\(set.err)")
            #expect(set.out.contains("the rules of \"rules\" still run after it"), "\(set.out)")
            let show = try s.cli(["account", "vacation", "show", "alice@example.org"]).out
            #expect(show.contains("subject:  Away") && show.contains("I am away until Monday."), "\(show)")
            #expect(
                try s.cli(["sieve", "show", "alice@example.org", "vacation"]).out.contains(
                    "include :personal :optional \"rules\""))
            let vdry = try s.cli(["rules", "test", "alice@example.org", "--message", "-"], stdin: mail)
            #expect(vdry.out.contains("script \"vacation\""), "\(vdry.out)")
            #expect(vdry.out.contains("vacation reply sent to bob@elsewhere.test"), "\(vdry.out)")
            #expect(vdry.out.contains("stored in Projects"), "\(vdry.out)")
            #expect(try s.cli(["account", "vacation", "clear", "alice@example.org"]).status == 0)
            #expect(try s.cli(["sieve", "list", "alice@example.org"]).out.contains("yes"))
            #expect(
                try s.cli(["rules", "test", "alice@example.org", "--message", "-"], stdin: mail).out.contains(
                    "script \"rules\""))
            // A reject for the only recipient is an SMTP refusal, given before any 250.
            #expect(try s.cli(["account", "add", "bob@example.org", "--password", "bob-password-1"]).status == 0)
            let reject = try s.cli(
                ["sieve", "put", "bob@example.org", "no", "--activate"],
                stdin: "require \"reject\"; reject \"Not here.\";")
            #expect(reject.status == 0, "\(reject.err)")
            let refused = Peers.converse(
                port: mx,
                "EHLO c.test\r\nMAIL FROM:<carol@elsewhere.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhi\r\n.\r\nQUIT\r\n"
            )
            #expect(refused.contains("550 5.7.1 Not here."), "\(refused)")
            let audit = try s.cli(["audit"]).out
            #expect(
                audit.contains("sieve.put+activate") && audit.contains("vacation.set")
                    && audit.contains("vacation.clear"), "\(audit)")
        }
    }

    /// `mailroom trace --dry-run` against a running server: the whole flow, one line per
    /// decision — and nothing stored, queued or remembered afterwards.
    @Test func aDryRunTraceTellsTheWholeFlowAndChangesNothing() async throws {
        try await blocking {
            let s = try ServerProcess(config: "[routes]\n\"partner.test\" = \"127.0.0.1:2526\"\n")
            try s.start()
            defer { s.stop() }
            let imap = try s.waitForPorts(["IMAP"])[0]
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)
            #expect(try s.cli(["alias", "add", "team@example.org", "alice@example.org", "pat@partner.test"]).status == 0)
            let script = """
                require ["fileinto", "mailbox", "vacation"];
                vacation "away";
                if header :contains "subject" "project" { fileinto :create "Projects"; }
                """
            #expect(try s.cli(["sieve", "put", "alice@example.org", "rules", "--activate"], stdin: script).status == 0)
            let mail =
                "From: <bob@elsewhere.test>\r\nTo: <team@example.org>, <alice@example.org>\r\nSubject: the project plan\r\nMessage-ID: <dry-1@elsewhere.test>\r\n\r\nhello\r\n"
            let dry = try s.cli(
                [
                    "trace", "--dry-run", "--from", "bob@elsewhere.test", "--to", "team@example.org", "--to",
                    "nobody@example.org", "--message", "-", "--client", "192.0.2.1", "--helo", "mail.elsewhere.test",
                ], stdin: mail)
            #expect(dry.status == 0, "\(dry.err)")
            let out = dry.out
            #expect(out.contains("connect   from [192.0.2.1] helo mail.elsewhere.test"), "\(out)")
            #expect(out.contains("rcpt      team@example.org — accepted (ours)"), "\(out)")
            #expect(out.contains("rejected  nobody@example.org — RCPT TO refused → 550 5.1.1"), "\(out)")
            #expect(out.contains("checked   "), "\(out)")
            #expect(out.contains("expanded  team@example.org — alias"), "\(out)")
            #expect(out.contains("stored    alice@example.org — Projects (filed by the account's rules) via team@example.org"), "\(out)")
            #expect(out.contains("vacation reply sent to bob@elsewhere.test"), "\(out)")
            #expect(out.contains("queued    pat@partner.test"), "\(out)")
            #expect(out.contains("route     pat@partner.test — partner.test by the configured route: 127.0.0.1:2526"), "\(out)")
            #expect(out.contains("the message would be accepted (250)"), "\(out)")
            let json = try s.cli(
                ["trace", "--dry-run", "--from", "bob@elsewhere.test", "--to", "team@example.org", "--json"])
            #expect(json.out.contains("\"accepted\" : true") || json.out.contains("\"accepted\":true"), "\(json.out)")

            // Nothing was stored, queued, traced or remembered.
            let status = Peers.converse(
                port: imap,
                "a LOGIN alice@example.org alice-password-1\r\nb STATUS INBOX (MESSAGES)\r\nc LIST \"\" \"*\"\r\nd LOGOUT\r\n")
            #expect(status.contains("STATUS INBOX (MESSAGES 0)"), "\(status)")
            #expect(!status.contains("Projects"), "\(status)")
            #expect(try s.cli(["queue", "list"]).out.contains("the outbound queue is empty"))
            #expect(try s.cli(["trace", "--sender", "bob@elsewhere.test"]).out.contains("no messages match"))
            // The vacation reply was not remembered: the dry run still says it would be sent.
            let again = try s.cli(
                ["trace", "--dry-run", "--from", "bob@elsewhere.test", "--to", "alice@example.org", "--message", "-"], stdin: mail)
            #expect(again.out.contains("vacation reply sent to bob@elsewhere.test"), "\(again.out)")

            // A vacation bounded by dates (long past here) replies on those days only. (The
            // rules it includes file, and answer nothing themselves.)
            let filing = "require [\"fileinto\", \"mailbox\"];\nif header :contains \"subject\" \"project\" { fileinto :create \"Projects\"; }\n"
            #expect(try s.cli(["sieve", "put", "alice@example.org", "rules", "--activate"], stdin: filing).status == 0)
            let set = try s.cli(
                [
                    "account", "vacation", "set", "alice@example.org", "--subject", "Away", "--message-file", "-", "--from",
                    "2001-01-01", "--until", "2001-01-31",
                ], stdin: "Away in January.\n")
            #expect(set.status == 0 && set.out.contains("(from 2001-01-01 until 2001-01-31)"), "\(set.out)\(set.err)")
            let show = try s.cli(["account", "vacation", "show", "alice@example.org"]).out
            #expect(show.contains("dates:    2001-01-01 to 2001-01-31"), "\(show)")
            let bad = try s.cli(
                ["account", "vacation", "set", "alice@example.org", "--subject", "A", "--message-file", "-", "--until", "31.01.2001"],
                stdin: "x\n")
            #expect(bad.status != 0 && (bad.out + bad.err).contains("2026-12-24"), "\(bad.out)\(bad.err)")
            let later = try s.cli(
                ["trace", "--dry-run", "--from", "bob@elsewhere.test", "--to", "alice@example.org", "--message", "-"], stdin: mail)
            #expect(!later.out.contains("vacation reply"), "\(later.out)")
            #expect(later.out.contains("stored    alice@example.org — Projects"), "\(later.out)")
        }
    }
}
