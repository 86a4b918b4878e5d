import Foundation
import TestSupport
import Testing

/// The real server relaying to a private Postfix over a static route, driven as an
/// administrator would: swaks to send, the CLI to look at and act on the queue, dkimpy to
/// check the signature of what arrived, and kill -9 in the middle.
@Suite(.serialized, .enabled(if: Peers.shouldRun(Peers.find("swaks") != nil && Peers.find("postfix") != nil)))
struct OutboundInteropTests {
    /// A server that routes remote.test to `port` and lets loopback relay (trusted network).
    static func server(routeTo port: Int, extraRoutes: String = "") throws -> (ServerProcess, [Int]) {
        let s = try ServerProcess(
            config: """
                [routes]
                "remote.test" = "127.0.0.1:\(port)"
                \(extraRoutes)
                [queue]
                retry_min = "1s"
                retry_max = "2s"
                """, smtp: "trusted_networks = [\"127.0.0.1/32\"]")
        try s.start()
        let ports = try s.waitForPorts(["SMTP (MX)", "submission"])
        for cmd in [["domain", "add", "example.org"], ["account", "add", "alice@example.org", "--password", "alice-password-1"]] {
            let r = try s.cli(cmd)
            #expect(r.status == 0, "\(r.err)")
        }
        return (s, ports)
    }

    /// swaks and Postfix: the tests are skipped without them, except under CI (.ci/run installs
    /// them), where a missing one fails the test.
    static let available = Peers.find("swaks") != nil && Peers.find("postfix") != nil

    static func peers() throws -> (swaks: String, postfix: Bool) {
        let swaks = try #require(Peers.find("swaks"), "swaks is required (.ci/run installs it)")
        _ = try #require(Peers.find("postfix"), "postfix is required (.ci/run installs it)")
        return (swaks, true)
    }

    static func send(_ swaks: String, port: Int, from: String, to: String, subject: String, auth: Bool = false) throws -> ServerProcess.Result {
        var args = ["--server", "127.0.0.1:\(port)", "--from", from, "--to", to, "--header", "Subject: \(subject)", "--helo", "app.example.net"]
        if auth { args += ["--auth", "PLAIN", "--auth-user", "alice@example.org", "--auth-password", "alice-password-1"] }
        return try ServerProcess.runTool(swaks, args)
    }

    @Test(.enabled(if: Peers.shouldRun(available), "needs swaks and postfix")) func trustedHostsAndUsersSendThroughPostfixSignedAndTraced() async throws {
        try await blocking {
            let tools = try Self.peers()
            let peer = try #require(try PostfixPeer.start(domain: "remote.test"))
            defer { peer.destroy() }
            let (s, ports) = try Self.server(routeTo: peer.port)
            defer { s.stop() }

            // DKIM: a key for example.org, its DNS record printed for the administrator.
            let generated = try s.cli(["dkim", "generate", "example.org", "--selector", "test1"])
            #expect(generated.status == 0, "\(generated.err)")
            #expect(generated.out.contains("test1._domainkey.example.org.  IN TXT"))
            #expect(generated.out.contains("k=rsa"))
            // Rotation makes a new selector the active one; the old key stays listed.
            let rotated = try s.cli(["dkim", "rotate", "example.org", "--algorithm", "ed25519"])
            #expect(rotated.status == 0 && rotated.out.contains("k=ed25519"), "\(rotated.out)\(rotated.err)")
            let listed = try s.cli(["dkim", "list"]).out
            #expect(listed.contains("test1") && listed.contains("ed25519"), "\(listed)")
            _ = try s.cli(["dkim", "generate", "example.org", "--selector", "test2"])
            let keys = try s.cli(["dkim", "list", "--json"])
            let record = try #require(
                (try JSONSerialization.jsonObject(with: Data(keys.out.utf8)) as? [[String: Any]])?.first { ($0["active"] as? Bool) == true }?["dns_record"] as? String)

            // A trusted host relays without AUTH; a user submits with AUTH.
            let relayed = try Self.send(tools.swaks, port: ports[0], from: "printer@example.org", to: "u@remote.test", subject: "scan")
            #expect(relayed.status == 0, "\(relayed.out)")
            let submitted = try Self.send(tools.swaks, port: ports[1], from: "alice@example.org", to: "v@remote.test", subject: "signed", auth: true)
            #expect(submitted.status == 0, "\(submitted.out)")
            #expect(Peers.eventually { peer.delivered().count == 2 }, "\(peer.logText())\n\(s.log)")

            // What arrived verifies with dkimpy against the published record.
            let signed = try #require(peer.delivered().first { $0.contains("Subject: signed") })
            #expect(signed.contains("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;"), "\(signed)")
            #expect(signed.contains(" s=test2;"))
            let python = try #require(Peers.find("python3"))
            do {
                let script = """
                    import sys, dkim
                    msg = sys.stdin.buffer.read()
                    record = \(String(reflecting: record)).encode()
                    ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: record if name == b"test2._domainkey.example.org." else None)
                    print("verified" if ok else "FAILED")
                    """
                let r = try Peers.run(python, ["-c", script], input: signed.replacingOccurrences(of: "\n", with: "\r\n"))
                #expect(r.output.contains("verified"), "\(r.output)")
            }

            // The trace tells the whole way, the queue is empty, metrics count the deliveries.
            // The delivered event is written when the queue runner hears Postfix's 250, which
            // may be just after Postfix shows the message: ask until it is there.
            var trace = ""
            _ = try Peers.eventually(10) {
                let r = try s.cli(["trace", "--recipient", "v@remote.test"])
                trace = r.out + r.err
                return trace.contains("delivered")
            }
            for word in ["received", "queued", "delivered"] { #expect(trace.contains(word), "\(trace)") }
            #expect(try s.cli(["queue", "list"]).out.contains("the outbound queue is empty"))
            let url = try String(contentsOfFile: s.dataDir + "/admin-url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let metrics = try Peers.run(python, ["-c", "import urllib.request; print(urllib.request.urlopen('\(url)/metrics').read().decode())"]).output
            #expect(metrics.contains("mailroom_outbound_attempts_total{domain=\"remote.test\",result=\"delivered\"} 2"), "\(metrics)")
            #expect(metrics.contains("mailroom_queue_recipients{status=\"deferred\"} 0"))
        }
    }

    @Test(.enabled(if: Peers.shouldRun(available), "needs swaks and postfix")) func aRelayHostTakesEverythingWithAuthOverTLS() async throws {
        try await blocking {
            let tools = try Self.peers()
            let peer = try #require(try PostfixPeer.start(domain: "remote.test"))
            defer { peer.destroy() }
            // The smarthost: another Mailroom whose submission port wants STARTTLS and AUTH, and
            // which routes remote.test to Postfix.
            let (relay, relayPorts) = try Self.server(routeTo: peer.port)
            defer { relay.stop() }
            _ = try relay.cli(["account", "add", "relay-user@example.org", "--password", "relay-password-1"])
            func sender(_ tls: String) throws -> (ServerProcess, Int) {
                let s = try ServerProcess(
                    config: """
                        [relay]
                        host = "127.0.0.1:\(relayPorts[1])"
                        username = "relay-user@example.org"
                        password = "relay-password-1"
                        \(tls)
                        """, smtp: "trusted_networks = [\"127.0.0.1/32\"]")
                try s.start()
                return (s, try s.waitForPorts(["SMTP (MX)"])[0])
            }
            // By default the relay's certificate must verify: its self-signed one does not, so
            // the password is never sent and the mail waits, saying why.
            let (unverified, unverifiedMX) = try sender("")
            defer { unverified.stop() }
            #expect(try Self.send(tools.swaks, port: unverifiedMX, from: "relay-user@example.org", to: "w@remote.test", subject: "unverified").status == 0)
            #expect(
                Peers.eventually(30) { (try? unverified.cli(["queue", "list", "--json"]).out.contains("did not verify")) == true },
                "\((try? unverified.cli(["queue", "list", "--json"]).out) ?? "")")
            // Trusting the relay's certificate (a CA file) lets it through, verified.
            let (s, mx) = try sender("tls = \"verify\"\nca_file = \"\(relay.dataDir)/tls/cert.pem\"")
            defer { s.stop() }
            // The smarthost lets its user send only as itself, as providers do.
            let sent = try Self.send(tools.swaks, port: mx, from: "relay-user@example.org", to: "u@remote.test", subject: "via the smarthost")
            #expect(sent.status == 0, "\(sent.out)")
            #expect(Peers.eventually(30) { peer.delivered().count == 1 }, "\(s.log)\n\(relay.log)")
            let mail = peer.delivered().first ?? ""
            #expect(mail.contains("Subject: via the smarthost"))
            // It went through the relay, over TLS, authenticated.
            #expect(mail.contains("with ESMTPSA"), "\(mail)")
            #expect(mail.contains("(authenticated as relay-user@example.org)"))
            #expect(!peer.delivered().joined().contains("Subject: unverified"), "the unverified relay got nothing")
            let trace = try s.cli(["trace", "--recipient", "u@remote.test"]).out
            #expect(trace.contains("delivered") && trace.contains("TLS"), "\(trace)")
        }
    }

    @Test(.enabled(if: Peers.shouldRun(available), "needs swaks and postfix")) func theAdministratorHoldsReleasesAndDeletesWithABounce() async throws {
        try await blocking {
            let tools = try Self.peers()
            let closed = Peers.freePort()
            let (s, ports) = try Self.server(routeTo: closed)
            defer { s.stop() }
            let sent = try Self.send(tools.swaks, port: ports[1], from: "alice@example.org", to: "w@remote.test", subject: "waiting", auth: true)
            #expect(sent.status == 0, "\(sent.out)")
            // Nobody listens: deferred, with the reason.
            #expect(Peers.eventually { ((try? s.cli(["queue", "list", "--status", "deferred"]).out) ?? "").contains("w@remote.test") })
            let listed = try s.cli(["queue", "list", "--json"]).out
            let id = try #require((try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])?.first?["queue_id"] as? String)
            let shown = try s.cli(["queue", "show", id]).out
            #expect(shown.contains("to w@remote.test: deferred"), "\(shown)")
            #expect(shown.contains("127.0.0.1"), "\(shown)")

            #expect(try s.cli(["queue", "hold", id]).out.contains("held 1 recipient"))
            #expect(try s.cli(["queue", "list", "--status", "held"]).out.contains(id))
            #expect(try s.cli(["queue", "summary"]).out.contains("remote.test"))
            #expect(try s.cli(["queue", "release", id]).out.contains("released 1 recipient"))
            let missing = try s.cli(["queue", "show", "NOSUCHID"])
            #expect(missing.status != 0 && missing.err.contains("mailroom trace"), "\(missing.err)")

            // Delete with a bounce: the sender is told, the queue is empty.
            #expect(Peers.eventually(10) { ((try? s.cli(["queue", "delete", id, "--bounce"]).out) ?? "").contains("the sender was sent a bounce") })
            #expect(try s.cli(["queue", "list"]).out.contains("the outbound queue is empty"))
            #expect(try s.cli(["account", "show", "alice@example.org"]).out.contains("1 message"))
            let trace = try s.cli(["trace", "--sender", "alice@example.org"]).out
            #expect(trace.contains("deleted from the queue") && trace.contains("bounce sent to the sender"), "\(trace)")
        }
    }

    @Test(.enabled(if: Peers.shouldRun(available), "needs swaks and postfix")) func killedMidQueueNothingIsLostOrSentTwice() async throws {
        try await blocking {
            let tools = try Self.peers()
            let port = Peers.freePort()
            let (s, ports) = try Self.server(routeTo: port)
            for i in 0..<20 {
                let r = try Self.send(tools.swaks, port: ports[0], from: "app@example.org", to: "u\(i % 3)@remote.test", subject: "n\(i)")
                #expect(r.status == 0, "\(r.out)")
            }
            // The peer is down: everything waits. Then the server dies without warning.
            #expect(Peers.eventually { ((try? s.cli(["queue", "list", "--status", "deferred"]).out) ?? "").split(separator: "\n").count == 21 })
            kill(s.process!.pid, SIGKILL)
            s.process!.waitUntilExit()
            let peer = try #require(try PostfixPeer.start(domain: "remote.test", port: port))
            defer { peer.destroy() }
            try s.start()
            defer { s.stop() }
            _ = try s.cli(["queue", "retry", "--all"])
            #expect(Peers.eventually(30) { peer.delivered().count == 20 }, "\(s.log)")
            #expect(Peers.eventually { ((try? s.cli(["queue", "list"]).out) ?? "").contains("the outbound queue is empty") })
            // Once Postfix has delivered all it accepted, a duplicate would be in its Maildirs.
            #expect(Peers.eventually { peer.undeliveredCount() == 0 })
            let subjects = peer.delivered().compactMap { $0.split(separator: "\n").first { $0.hasPrefix("Subject: ") } }
            #expect(subjects.count == 20 && Set(subjects).count == 20)
        }
    }
}
