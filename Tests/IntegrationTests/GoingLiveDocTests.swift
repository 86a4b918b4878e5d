import Foundation
import Testing
import TestSupport

/// docs/going-live.md's "Step by step" is a promise: every `mailroom` command in it is run here,
/// in its order, against a real server whose certificate comes from a test ACME CA (Pebble).
/// A command that changes or disappears from the page changes what is run; one that stops
/// working fails here.
@Suite(.serialized, .enabled(if: Peers.shouldRun(PebblePeer.available)))
struct GoingLiveDocTests {
    static func stepByStepCommands() throws -> [[String]] {
        let page = try String(contentsOf: SMTPInteropTests.repoRoot.appendingPathComponent("docs/going-live.md"), encoding: .utf8)
        let section = try #require(page.range(of: "## Step by step").map { page[$0.upperBound...] })
        let block = try #require(section.range(of: "```sh\n").flatMap { start in
            section[start.upperBound...].range(of: "```").map { section[start.upperBound..<$0.lowerBound] }
        })
        return block.split(separator: "\n").filter { $0.hasPrefix("mailroom ") }.map { line in
            line.split(separator: " ").dropFirst().map(String.init)
        }
    }

    @Test func everyCommandOfTheStepByStepRuns() async throws {
        try await blocking {
            let commands = try Self.stepByStepCommands()
            #expect(commands.count >= 9, "\(commands)")
            let httpPort = Peers.freePort()
            let pebble = try PebblePeer.start(httpPort: httpPort)
            defer { pebble.stop() }
            let s = try ServerProcess(
                config: """

                    [acme]
                    directory_url = "\(pebble.directoryURL)"
                    ca_file = "\(pebble.caFile)"
                    email = "postmaster@example.org"
                    """,
                listeners: ["acme_http": "[\"127.0.0.1:\(httpPort)\"]", "web": #"["127.0.0.1:0"]"#])
            var started = false
            defer { if started { s.stop() } }
            for command in commands {
                // The page's config path is the test server's.
                var args = command
                if let i = args.firstIndex(of: "--config") { args.removeSubrange(i...(i + 1)) }
                #expect(!args.joined().contains("\""), "a quoted argument: run it through a shell instead (\(command))")
                if args.first == "serve" {
                    let r = try s.cli(args)
                    #expect(r.status == 0 && r.out.contains("Configuration OK"), "\(command): \(r.out)\(r.err)")
                    try s.start()
                    started = true
                    continue
                }
                #expect(started, "the server starts after step 1")
                if args.first == "trace" {
                    // Step 6: a message from outside first.
                    let smtp = try s.waitForPorts(["SMTP (MX)"])[0]
                    let sent = Peers.converse(
                        port: smtp,
                        "EHLO outside.test\r\nMAIL FROM:<friend@outside.test>\r\nRCPT TO:<postmaster@example.org>\r\nDATA\r\nSubject: hello\r\n\r\nThe first real message.\r\n.\r\nQUIT\r\n")
                    #expect(sent.contains("250 2.0.0"), "\(sent)")
                }
                var r = try s.cli(args, timeout: 120)
                if args == ["tls", "status"] {
                    // The first certificate is ordered at start: wait for it, as the page says.
                    _ = try Peers.eventually(60) {
                        r = try s.cli(args)
                        return r.out.contains("certificate   acme")
                    }
                }
                switch args.first {
                case "doctor":
                    // Nothing is published on the test's DNS: the doctor says so, and exits 1.
                    #expect(r.status == 1 && r.out.contains("mx"), "\(command): \(r.out)\(r.err)")
                case "tls":
                    #expect(r.status == 0 && r.out.contains("certificate   acme"), "\(command): \(r.out)\(r.err)\n\(pebble.log.suffix(2000))")
                case "trace":
                    #expect(r.status == 0 && r.out.contains("stored"), "\(command): \(r.out)\(r.err)")
                case "dns":
                    #expect(r.status == 0 && r.out.contains("example.org. IN MX 10 mail.example.org."), "\(command): \(r.out)\(r.err)")
                default:
                    #expect(r.status == 0, "\(command): \(r.out)\(r.err)")
                }
            }
        }
    }
}
