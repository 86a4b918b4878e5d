import Foundation
import Testing
import TestSupport

/// "Why can't this user log in?": `mailroom account show` has the last successful login per
/// protocol, the recent failures with their reasons, and the ban in force; `mailroom bans`
/// lists and lifts bans.
struct LoginHistoryTests {
    @Test func accountShowSaysWhyLoginsFailedAndBansCanBeLifted() async throws {
        try await blocking {
            let s = try ServerProcess(smtp: "max_auth_failures = 4\nauth_ban_seconds = 600")
            try s.start()
            defer { s.stop() }
            let (submission, imap) = try { let p = try s.waitForPorts(["submission", "IMAP"]); return (p[0], p[1]) }()
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "alice@example.org", "--password", "alice-password-1"]).status == 0)

            // A good IMAP login and a good SMTP one (AUTH PLAIN, allowed in clear on loopback).
            #expect(Peers.converse(port: imap, "a LOGIN alice@example.org alice-password-1\r\nb LOGOUT\r\n").contains("a OK"))
            let plain = Data("\0alice@example.org\0alice-password-1".utf8).base64EncodedString()
            #expect(Peers.converse(port: submission, "EHLO c.test\r\nAUTH PLAIN \(plain)\r\nQUIT\r\n").contains("235 "))
            // A wrong password; then, disabled, the right one.
            #expect(Peers.converse(port: imap, "a LOGIN alice@example.org guess-1\r\nb LOGOUT\r\n").contains("a NO"))
            #expect(try s.cli(["account", "disable", "alice@example.org"]).status == 0)
            #expect(Peers.converse(port: imap, "a LOGIN alice@example.org alice-password-1\r\nb LOGOUT\r\n").contains("a NO"))
            // Two more failures ban the address (four in all); then even the right password is refused.
            #expect(try s.cli(["account", "enable", "alice@example.org"]).status == 0)
            for n in 2...3 {
                #expect(Peers.converse(port: imap, "a LOGIN alice@example.org guess-\(n)\r\nb LOGOUT\r\n").contains("a NO"))
            }
            #expect(Peers.converse(port: imap, "a LOGIN alice@example.org alice-password-1\r\nb LOGOUT\r\n").contains("a NO [UNAVAILABLE]"))

            let show = try s.cli(["account", "show", "alice@example.org"])
            #expect(show.status == 0, "\(show.err)")
            let out = show.out
            for expected in [
                "Last successful logins:", "IMAP", "SMTP", "from 127.0.0.1",
                "from 127.0.0.1: wrong password", "from 127.0.0.1: account disabled",
                "from 127.0.0.1: client address banned after failed logins",
                "BANNED: 127.0.0.1 may not log in until", "mailroom bans clear 127.0.0.1",
            ] {
                #expect(out.contains(expected), "\(expected) in:\n\(out)")
            }
            // Newest failure first.
            #expect(out.range(of: "banned after failed logins")!.lowerBound < out.range(of: "account disabled")!.lowerBound, "\(out)")

            // The trace of the account tells its logins too.
            let trace = try s.cli(["trace", "--account", "alice@example.org"]).out
            #expect(trace.contains("logins"), "\(trace)")
            #expect(trace.contains("login failed alice@example.org from 127.0.0.1 — IMAP: wrong password"), "\(trace)")
            #expect(trace.contains("login     alice@example.org from 127.0.0.1 — SMTP"), "\(trace)")

            let bans = try s.cli(["bans", "list"])
            #expect(bans.out.contains("127.0.0.1"), "\(bans.out)")
            #expect(try s.cli(["bans", "clear", "127.0.0.1"]).out.contains("Lifted the ban on 127.0.0.1."))
            #expect(try s.cli(["bans", "list"]).out.contains("No address is banned."))
            #expect(Peers.converse(port: imap, "a LOGIN alice@example.org alice-password-1\r\nb LOGOUT\r\n").contains("a OK"))
            #expect(try s.cli(["audit"]).out.contains("ban.clear"))
            // The junk classifier, through the CLI (its learning is tested in JunkLearningTests).
            let junk = try s.cli(["account", "junk", "show", "alice@example.org"]).out
            #expect(junk.contains("0 spam and 0 ham messages") && junk.contains("not yet: needs 10 spam and 10 ham messages"), "\(junk)")
            #expect(try s.cli(["account", "junk", "reset", "alice@example.org"]).out.contains("starts again from nothing"))
            // Logins of addresses that are no account are not recorded (nor do they fail the show).
            #expect(Peers.converse(port: imap, "a LOGIN nobody@example.org x\r\nb LOGOUT\r\n").contains("a NO"))
        }
    }
}
