import TestSupport
import NIOCore
import NIOPosix
import SMTPClient
import Testing

/// The NIO shell against the in-process scripted server on 127.0.0.1.
@Suite struct SMTPClientConnectionTests {
    static let message = Array("Subject: test\r\n\r\nline one\r\n.starts with a dot\r\n.\r\nend\r\n".utf8)

    func envelope(_ n: Int = 0) -> OutboundEnvelope {
        OutboundEnvelope(sender: "a@x.test", recipients: ["b\(n)@y.test", "c\(n)@y.test"], data: Self.message)
    }

    /// Only the stage a test waits out is short: on a loaded machine the scripted server may
    /// take longer than 300 ms to answer the stages before it.
    func short(_ stage: WritableKeyPath<SMTPClientTimeouts, Duration>) -> SMTPClientTimeouts {
        var t = SMTPClientTimeouts(all: .seconds(10))
        t[keyPath: stage] = .milliseconds(300)
        return t
    }

    @Test func reusesOneConnectionForThreeTransactions() async throws {
        let server = try await ScriptedSMTPServer.start()
        defer { Task { await server.stop() } }
        let connection = try await SMTPClientConnection.connect(
            host: "127.0.0.1", port: server.port, heloName: "client.test", tls: .opportunistic, serverName: nil)
        #expect(connection.greeting.code == 220)
        #expect(connection.extensions["PIPELINING"] == "")
        #expect(connection.tlsDescription == nil)
        for n in 0..<3 {
            #expect(connection.isUsable)
            let result = try await connection.send(envelope(n))
            #expect(result.dataReply == SMTPReply(250, "2.0.0", "queued"))
            #expect(result.deliveredIndices == [0, 1])
        }
        await connection.quit()
        #expect(!connection.isUsable)
        let record = server.snapshot
        #expect(record.connections == 1)
        #expect(record.messages.count == 3)
        #expect(record.messages[0] == Array(DotStuffer.stuffed(Self.message).dropLast(3)))
        #expect(record.commands.filter { $0.hasPrefix("MAIL FROM:<a@x.test> SIZE=") }.count == 3)
        #expect(record.commands.last == "QUIT")
        #expect(!record.commands.contains("RSET"))
    }

    @Test func lockStepWithoutPipeliningAndRSETAfterRefusal() async throws {
        var script = ScriptedSMTPServer.Script()
        script.ehlo = ["scripted.test"]
        script.respond = { $0.hasPrefix("RCPT TO:<b0") || $0.hasPrefix("RCPT TO:<c0") ? .reply("550 no") : nil }
        let server = try await ScriptedSMTPServer.start(script)
        defer { Task { await server.stop() } }
        let connection = try await SMTPClientConnection.connect(
            host: "127.0.0.1", port: server.port, heloName: "client.test", tls: .none, serverName: nil)
        let refused = try await connection.send(envelope(0))
        #expect(refused.recipientReplies.map(\.code) == [550, 550])
        #expect(refused.dataReply == nil)
        let accepted = try await connection.send(envelope(1))
        #expect(accepted.dataReply?.code == 250)
        await connection.quit()
        #expect(
            server.snapshot.commands == [
                "EHLO client.test", "MAIL FROM:<a@x.test>", "RCPT TO:<b0@y.test>", "RCPT TO:<c0@y.test>",
                "RSET", "MAIL FROM:<a@x.test>", "RCPT TO:<b1@y.test>", "RCPT TO:<c1@y.test>", "DATA", "QUIT",
            ])
    }

    @Test func greetingTimeout() async throws {
        var script = ScriptedSMTPServer.Script()
        script.greeting = nil
        let server = try await ScriptedSMTPServer.start(script)
        defer { Task { await server.stop() } }
        await #expect(throws: SMTPClientError.timeout(stage: "greeting")) {
            _ = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, heloName: "c", tls: .none, serverName: nil, timeouts: short(\.greeting))
        }
    }

    @Test func dataEndTimeout() async throws {
        var script = ScriptedSMTPServer.Script()
        script.dataEnd = .silent
        let server = try await ScriptedSMTPServer.start(script)
        defer { Task { await server.stop() } }
        let connection = try await SMTPClientConnection.connect(
            host: "127.0.0.1", port: server.port, heloName: "c", tls: .none, serverName: nil, timeouts: short(\.dataEnd))
        await #expect(throws: SMTPClientError.timeout(stage: "end of data")) {
            _ = try await connection.send(envelope())
        }
        #expect(!connection.isUsable)
    }

    @Test func connectionDroppedMidData() async throws {
        var script = ScriptedSMTPServer.Script()
        script.dropInData = true
        let server = try await ScriptedSMTPServer.start(script)
        defer { Task { await server.stop() } }
        let connection = try await SMTPClientConnection.connect(
            host: "127.0.0.1", port: server.port, heloName: "c", tls: .none, serverName: nil)
        do {
            _ = try await connection.send(envelope())
            Issue.record("send succeeded")
        } catch {
            guard case .connectionLost = error else {
                Issue.record("expected connectionLost, got \(error)")
                return
            }
            #expect(!error.isPermanent)
        }
        #expect(!connection.isUsable)
        await connection.quit()
    }

    @Test func serverClosingWith421MidTransaction() async throws {
        var script = ScriptedSMTPServer.Script()
        script.respond = { $0.hasPrefix("RCPT TO:<c") ? .reply("421 4.3.2 going down") : nil }
        let server = try await ScriptedSMTPServer.start(script)
        defer { Task { await server.stop() } }
        let connection = try await SMTPClientConnection.connect(
            host: "127.0.0.1", port: server.port, heloName: "c", tls: .none, serverName: nil)
        let result = try await connection.send(envelope())
        #expect(result.recipientReplies.map(\.code) == [250, 421])
        #expect(result.dataReply == nil)
        #expect(!connection.isUsable)
        await #expect(throws: SMTPClientError.self) { _ = try await connection.send(envelope()) }
    }

    @Test func endlessReplyLineIsAProtocolError() async throws {
        var script = ScriptedSMTPServer.Script()
        script.respond = { $0.hasPrefix("EHLO") ? .reply("250-" + String(repeating: "x", count: 200_000)) : nil }
        let server = try await ScriptedSMTPServer.start(script)
        defer { Task { await server.stop() } }
        do {
            _ = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, heloName: "c", tls: .none, serverName: nil)
            Issue.record("connected")
        } catch {
            guard case .protocolError = error else {
                Issue.record("expected protocolError, got \(error)")
                return
            }
        }
    }

    @Test func requiredTLSWithoutSTARTTLS() async throws {
        let server = try await ScriptedSMTPServer.start()
        defer { Task { await server.stop() } }
        await #expect(throws: SMTPClientError.tlsUnavailable) {
            _ = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, heloName: "c", tls: .required, serverName: nil)
        }
    }

    @Test func connectRefused() async throws {
        // A port nothing listens on (not a just-closed ephemeral one, which a parallel test's
        // connection could take meanwhile).
        let port = Peers.freePort()
        do {
            _ = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: port, heloName: "c", tls: .none, serverName: nil)
            Issue.record("connected")
        } catch {
            guard case .connectFailed = error else {
                Issue.record("expected connectFailed, got \(error)")
                return
            }
        }
        await #expect(throws: SMTPClientError.self) {
            _ = try await SMTPClientConnection.connect(
                host: "mx.example.org", port: 25, heloName: "c", tls: .none, serverName: nil)
        }
    }
}
