import Foundation
import TestSupport
import Testing

/// The real server's IMAP listener, driven by Python's imaplib and raw sockets
/// (interop/imap_interop.py: every command and extension Mailroom advertises) and by mbsync
/// syncing a 1,000-message mailbox both ways (interop/mbsync_interop.py).
@Suite(.serialized) struct IMAPInteropTests {
    static let alice = ("alice@example.com", "Correct-Horse-42")
    static let bob = ("bob@example.com", "Battery-Staple-7")

    /// Under CI a missing peer is a failure, not a skip.
    /// The program's path; a missing one fails the test. The tests run without it only under
    /// CI (their traits skip them elsewhere), where it is a failure.
    static func require(_ name: String, _ path: String?) throws -> String {
        try #require(path, "\(name) is required for the IMAP interop tests (installed by .ci/run)")
    }

    /// A server with IMAP listeners, example.com, alice and bob; returns it and the script arguments.
    static func setUp() throws -> (ServerProcess, [String]) {
        let s = try ServerProcess.withIMAP()
        let (imap, smtp) = try s.startWithIMAP()
        for cmd in [
            ["domain", "add", "example.com"],
            ["account", "add", alice.0, "--password", alice.1],
            ["account", "add", bob.0, "--password", bob.1],
        ] {
            let r = try s.cli(cmd)
            #expect(r.status == 0, "\(cmd): \(r.out)\(r.err)")
        }
        let args = [
            "--imap", "127.0.0.1:\(imap)", "--smtp", "127.0.0.1:\(smtp)", "--data-dir", s.dataDir,
            "--mailroom", ServerProcess.binary,
        ]
        return (s, args)
    }

    /// Runs an interop script; stdout and stderr together, so a failure shows the whole story.
    static func runScript(_ python: String, _ script: String, _ args: [String], timeout: TimeInterval) throws -> (Int32, String) {
        let script = SMTPInteropTests.repoRoot.appendingPathComponent("interop/\(script)").path
        let r = try Peers.run(python, [script] + args, timeout: timeout)
        return (r.status, r.output)
    }

    @Test(.enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil))) func pythonImaplibAndRawSockets() async throws {
        try await blocking {
            let python = try Self.require("python3", SMTPInteropTests.python)
            let (s, args) = try Self.setUp()
            defer { s.stop() }
            let (status, text) = try Self.runScript(python, "imap_interop.py", args, timeout: 120)
            #expect(status == 0, "\(text)\nserver log:\n\(s.log)")
            #expect(text.contains("all IMAP interop checks passed"), "\(text)")
            // The server is still healthy afterwards and stops cleanly.
            #expect(s.stop() == 0)
        }
    }

    /// The same messages and commands to Mailroom and to a private Dovecot: the answers
    /// must be the same (interop/dovecot_differential.py says what it compares and why).
    @Test(.enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil && Peers.find("dovecot") != nil)))
    func answersAsDovecotDoes() async throws {
        try await blocking {
            let python = try Self.require("python3", SMTPInteropTests.python)
            _ = try Self.require("dovecot", Peers.find("dovecot"))
            let (status, text) = try Self.runScript(python, "dovecot_differential.py", ["--mailroom", ServerProcess.binary], timeout: 180)
            #expect(status == 0, "\(text)")
            #expect(text.contains(" same, 0 different"), "\(text)")
        }
    }

    /// SORT, THREAD, ESORT and WITHIN answers beside Dovecot's on the same messages (RFC 5256
    /// corners and 1,000 generated ones): interop/sort_thread_dovecot.py.
    @Test(.enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil && Peers.find("dovecot") != nil)))
    func sortsAndThreadsAsDovecotDoes() async throws {
        try await blocking {
            let python = try Self.require("python3", SMTPInteropTests.python)
            _ = try Self.require("dovecot", Peers.find("dovecot"))
            let (status, text) = try Self.runScript(
                python, "sort_thread_dovecot.py", ["--mailroom", ServerProcess.binary, "--messages", "1000"], timeout: 300)
            #expect(status == 0, "\(text)")
            #expect(text.contains(" answers the same"), "\(text)")
        }
    }

    @Test(.enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil && Peers.find("mbsync") != nil)))
    func mbsyncSyncsAThousandMessagesBothWays() async throws {
        try await blocking {
            let python = try Self.require("python3", SMTPInteropTests.python)
            let mbsync = try Self.require("mbsync", Peers.find("mbsync"))
            let (s, args) = try Self.setUp()
            defer { s.stop() }
            let work = s.root.appendingPathComponent("mbsync").path
            let (status, text) = try Self.runScript(
                python, "mbsync_interop.py", args + ["--mbsync", mbsync, "--work", work], timeout: 300)
            #expect(status == 0, "\(text)\nserver log:\n\(s.log)")
            #expect(text.contains("all mbsync interop checks passed"), "\(text)")
        }
    }
}
