import TestSupport
import Foundation
import Testing

/// The real server's SMTP listeners, driven by Python's smtplib and raw sockets
/// (interop/smtp_interop.py), then checked through the CLI as an administrator would.
@Suite(.serialized) struct SMTPInteropTests {
    static var python: String? {
        for p in ["/usr/bin/python3", "/usr/local/bin/python3", "/root/.pyenv/shims/python3"] where FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        return nil
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func pythonSmtplibAndRawSockets() async throws {
        try await blocking {
            guard let python = Self.python else {
                // Under CI a missing peer is a failure, not a skip.
                #expect(ProcessInfo.processInfo.environment["CI"] != "true", "python3 is required for the SMTP interop test")
                return
            }
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let ports = try s.waitForPorts(["SMTP (MX)", "submission", "submissions (TLS)"])
            for cmd in [
                ["domain", "add", "example.org"], ["account", "add", "alice@example.org", "--password", "alice-password-1"],
                ["account", "add", "bob@example.org"], ["account", "add", "josé@example.org"],
            ] {
                let r = try s.cli(cmd)
                #expect(r.status == 0, "\(cmd): \(r.err)")
            }

            let run = try Peers.run(
                python, [Self.repoRoot.appendingPathComponent("interop/smtp_interop.py").path] + ports.map(String.init), timeout: 120)
            let text = run.output
            #expect(run.status == 0, "\(text)\nserver log:\n\(s.log)")
            #expect(text.contains("all SMTP interop checks passed"))

            // What the administrator sees afterwards.
            let alice = try s.cli(["account", "show", "alice@example.org"]).out
            #expect(alice.contains("4 messages"), "\(alice)")  // plain-mx, partial, pipelined, chunked
            #expect(try s.cli(["account", "show", "bob@example.org"]).out.contains("3 messages"))  // starttls-mx, submission, implicit-tls
            #expect(try s.cli(["account", "show", "josé@example.org"]).out.contains("1 message"))

            let traced = try s.cli(["trace", "--message-id", "<submission@interop>"]).out
            #expect(traced.contains("authenticated as alice@example.org"), "\(traced)")
            #expect(traced.contains("stored    bob@example.org"))
            #expect(traced.contains("queued    friend@partner.example"))
            let refused = try s.cli(["trace", "--recipient", "nobody@example.org"]).out
            #expect(refused.contains("550 5.1.1"), "\(refused)")
            let relay = try s.cli(["trace", "--recipient", "victim@relay-target.example"]).out
            #expect(relay.contains("554 5.7.1"), "\(relay)")
            // The smuggled message was never accepted; its carrier was refused as a whole.
            #expect(try s.cli(["trace", "--sender", "evil@elsewhere.example"]).out.contains("no messages match"))
            #expect(try s.cli(["trace", "--sender", "s@elsewhere.example"]).out.contains("554 5.6.0"))

            // SIGTERM with idle sessions open: they are told 421 and the server stops cleanly.
            let idle = try openSession(port: ports[0])
            #expect(s.stop() == 0)
            let goodbye = String(decoding: (try? idle.readToEnd()) ?? Data(), as: UTF8.self)
            #expect(goodbye.contains("421 4.3.2"), "\(goodbye)")
        }
    }

    @Test func idleSessionsAreClosedAfterTheTimeout() async throws {
        try await blocking {
            let s = try ServerProcess(smtp: "command_timeout = 1")
            try s.start()
            defer { s.stop() }
            let port = try s.waitForPorts(["SMTP (MX)"])[0]
            let idle = try openSession(port: port)
            // The reply names the timeout, so nothing else closed the session.
            let rest = String(decoding: (try? idle.readToEnd()) ?? Data(), as: UTF8.self)
            #expect(rest.contains("421 4.4.2"), "\(rest)")
        }
    }

    /// Its own server, with the usual command timeout: with a 1 s one, a loaded machine could
    /// close an idle connection before the third one arrives and free its place.
    /// Loopback is exempt by default (as Postfix exempts `$mynetworks`), so the limit is tried
    /// with no exceptions.
    @Test func connectionsPerClientAddressAreLimited() async throws {
        try await blocking {
            let s = try ServerProcess(smtp: "max_connections_per_ip = 2\nconnection_limit_exceptions = []")
            try s.start()
            defer { s.stop() }
            let port = try s.waitForPorts(["SMTP (MX)"])[0]
            let a = try openSession(port: port)
            let b = try openSession(port: port)
            let third = try openSession(port: port, expectBanner: false)
            let refused = String(decoding: (try? third.readToEnd()) ?? Data(), as: UTF8.self)
            #expect(refused.hasPrefix("421 4.7.0"), "the third one is told 421 at once: \(refused)")
            _ = (a, b)
        }
    }

    @Test func loopbackClientsAreNotHeldToThePerAddressLimit() async throws {
        try await blocking {
            let s = try ServerProcess(smtp: "max_connections_per_ip = 2")
            try s.start()
            defer { s.stop() }
            let port = try s.waitForPorts(["SMTP (MX)"])[0]
            var open: [FileHandle] = []
            for _ in 0..<4 {
                let h = try openSession(port: port, expectBanner: false)
                var banner = Data()
                while !banner.contains(UInt8(ascii: "\n")) {
                    let byte = h.readData(ofLength: 1)
                    if byte.isEmpty { break }
                    banner.append(byte)
                }
                #expect(String(decoding: banner, as: UTF8.self).hasPrefix("220 "), "connection \(open.count + 1)")
                open.append(h)
            }
        }
    }

    /// A raw connection that has read the banner; returns a handle for the rest.
    func openSession(port: Int, expectBanner: Bool = true) throws -> FileHandle {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { throw ProcessFailure(message: "connect failed") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var banner = Data()
        while expectBanner && !banner.contains(UInt8(ascii: "\n")) { banner.append(handle.readData(ofLength: 1)) }
        return handle
    }
}
