import Foundation
import TestSupport
import Testing

/// Real mail software nobody here wrote, against the real server: swaks submits with TLS and
/// AUTH; a private Postfix relays into Mailroom as a peer MTA would.
@Suite(.serialized, .enabled(if: Peers.shouldRun(Peers.find("swaks") != nil && Peers.find("postfix") != nil)))
struct PeerInteropTests {
    static let swaks = Peers.find("swaks")
    static let postfix = Peers.find("postfix")

    static func setUp() throws -> (ServerProcess, [Int]) {
        let s = try ServerProcess()
        try s.start()
        let ports = try s.waitForPorts(["SMTP (MX)", "submission", "submissions (TLS)"])
        for cmd in [
            ["domain", "add", "example.org"], ["account", "add", "alice@example.org", "--password", "alice-password-1"],
            ["account", "add", "bob@example.org"],
        ] {
            _ = try s.cli(cmd)
        }
        return (s, ports)
    }

    /// Skipped where swaks is missing, except under CI, where `#require` fails the test.
    @Test(.enabled(if: Peers.shouldRun(swaks != nil))) func swaksSubmitsWithTLSAndAuth() async throws {
        try await blocking {
            let swaks = try #require(Self.swaks, "swaks is required (installed by .ci/run)")
            let (s, ports) = try Self.setUp()
            defer { s.stop() }
            for (port, tlsFlag, mech) in [(ports[1], "--tls", "PLAIN"), (ports[2], "--tls-on-connect", "LOGIN")] {
                let r = try ServerProcess.runTool(swaks, [
                    "--server", "127.0.0.1:\(port)", tlsFlag, "--auth", mech, "--auth-user", "alice@example.org",
                    "--auth-password", "alice-password-1", "--from", "alice@example.org", "--to", "bob@example.org",
                    "--header", "Subject: via swaks \(mech)", "--helo", "swaks.example.net",
                ])
                #expect(r.status == 0, "\(r.out)\(r.err)")
                #expect(r.out.contains("250 2.0.0 OK queued as"))
            }
            // A wrong password is refused (and swaks says so).
            let bad = try ServerProcess.runTool(swaks, [
                "--server", "127.0.0.1:\(ports[1])", "--tls", "--auth", "PLAIN", "--auth-user", "alice@example.org",
                "--auth-password", "nope-nope-nope", "--from", "alice@example.org", "--to", "bob@example.org",
            ])
            #expect(bad.status != 0)
            #expect(bad.out.contains("535 5.7.8"))
            #expect(try s.cli(["account", "show", "bob@example.org"]).out.contains("2 messages"))
        }
    }

    @Test(.enabled(if: Peers.shouldRun(swaks != nil && postfix != nil))) func postfixRelaysIntoMailroom() async throws {
        try await blocking {
            let swaks = try #require(Self.swaks, "swaks is required (installed by .ci/run)")
            _ = try #require(Self.postfix, "postfix is required (installed by .ci/run)")
            let (s, ports) = try Self.setUp()
            defer { s.stop() }
            let script = SMTPInteropTests.repoRoot.appendingPathComponent("interop/postfix-peer.sh").path
            let base = s.root.appendingPathComponent("postfix").path
            let peerPort = 20_000 + Int.random(in: 0..<20_000)
            let started = try ServerProcess.runTool("/bin/bash", [script, "start", base, String(peerPort), "example.org", String(ports[0])])
            #expect(started.status == 0, "\(started.out)\(started.err)")
            defer { _ = try? ServerProcess.runTool("/bin/bash", [script, "stop", base]) }

            let sent = try ServerProcess.runTool(swaks, [
                "--server", "127.0.0.1:\(peerPort)", "--from", "someone@example.net", "--to", "alice@example.org",
                "--header", "Subject: through postfix",
            ])
            #expect(sent.status == 0, "\(sent.out)")
            // Postfix queues, then relays to Mailroom; wait for the message to arrive.
            var story = ""
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                story = try s.cli(["trace", "--recipient", "alice@example.org"]).out
                if story.contains("stored") { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            let log = try ServerProcess.runTool("/bin/bash", [script, "log", base]).out
            #expect(story.contains("stored    alice@example.org"), "\(story)\npostfix log:\n\(log)")
            #expect(story.contains("helo peer.example.net"))
            #expect(story.lowercased().contains("tlsv1"), "Postfix should have used STARTTLS: \(story)")
            #expect(log.contains("status=sent"), "\(log)")
        }
    }
}
