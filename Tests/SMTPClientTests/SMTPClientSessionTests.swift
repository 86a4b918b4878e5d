import SMTP
import Testing

/// The client state machine driven by scripted server replies.
@Suite struct SMTPClientSessionTests {
    typealias Action = SMTPClientSession.Action

    static let fullEHLO = ["mx.test", "PIPELINING", "SIZE 1000000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"]

    /// A session past greeting and EHLO.
    func ready(_ ehlo: [String] = fullEHLO, policy: SMTPTLSPolicy = .none) -> SMTPClientSession {
        var s = SMTPClientSession(configuration: .init(heloName: "client.test", tlsPolicy: policy))
        #expect(s.receive(wire("220 mx.test ESMTP")) == [.write(wire("EHLO client.test"))])
        #expect(s.receive(SMTPReply(250, nil, ehlo).encoded()) == [.ready])
        #expect(s.isReady)
        return s
    }

    func envelope(_ recipients: [String] = ["b@y.test"], data: String = "Subject: t\r\n\r\nhi\r\n") -> OutboundEnvelope
    {
        OutboundEnvelope(sender: "a@x.test", recipients: recipients, data: Array(data.utf8))
    }

    func completed(_ actions: [Action]) -> TransactionResult? {
        for case .transactionCompleted(let r) in actions { return r }
        return nil
    }

    @Test func pipelinesMailRcptDataInOneWrite() throws {
        var s = ready()
        let env = envelope(["b@y.test", "c@y.test"])
        #expect(
            s.send(env) == [
                .write(
                    wire(
                        "MAIL FROM:<a@x.test> SIZE=\(env.data.count)", "RCPT TO:<b@y.test>", "RCPT TO:<c@y.test>",
                        "DATA"))
            ])
        #expect(s.awaitingStage == .mail)
        #expect(s.receive(wire("250 2.1.0 ok", "250 2.1.5 ok", "250 2.1.5 ok", "354 go")) == [.writeMessage(env.data)])
        #expect(s.awaitingStage == .dataEnd)
        let result = try #require(completed(s.receive(wire("250 2.0.0 queued as X"))))
        #expect(result.mailReply == SMTPReply(250, "2.1.0", "ok"))
        #expect(result.recipientReplies == [SMTPReply(250, "2.1.5", "ok"), SMTPReply(250, "2.1.5", "ok")])
        #expect(result.dataReply == SMTPReply(250, "2.0.0", "queued as X"))
        #expect(result.deliveredIndices == [0, 1])
        #expect(s.isReady && !s.needsReset)
    }

    @Test func pipelinedRepliesOneAtATimeKeepOrder() throws {
        var s = ready()
        _ = s.send(envelope(["1@y.test", "2@y.test", "3@y.test"]))
        #expect(s.receive(wire("250 ok")) == [])
        #expect(s.awaitingStage == .rcpt)
        #expect(s.receive(wire("250 2.1.5 one")) == [])
        #expect(s.receive(wire("451 4.3.0 two later")) == [])
        #expect(s.receive(wire("250 2.1.5 three")) == [])
        #expect(s.awaitingStage == .dataInit)
        #expect(s.receive(wire("354 go")).count == 1)
        let result = try #require(completed(s.receive(wire("250 done"))))
        #expect(result.recipientReplies.map(\.code) == [250, 451, 250])
        #expect(result.recipientReplies[1] == SMTPReply(451, "4.3.0", "two later"))
        #expect(result.deliveredIndices == [0, 2])
    }

    @Test func lockStepWithoutPipelining() throws {
        var s = ready(["mx.test", "SIZE"])
        let env = envelope(["b@y.test", "c@y.test"])
        #expect(s.send(env) == [.write(wire("MAIL FROM:<a@x.test> SIZE=\(env.data.count)"))])
        #expect(s.receive(wire("250 ok")) == [.write(wire("RCPT TO:<b@y.test>"))])
        #expect(s.receive(wire("550 5.1.1 no")) == [.write(wire("RCPT TO:<c@y.test>"))])
        #expect(s.receive(wire("250 ok")) == [.write(wire("DATA"))])
        #expect(s.receive(wire("354 go")) == [.writeMessage(env.data)])
        let result = try #require(completed(s.receive(wire("250 ok"))))
        // No ENHANCEDSTATUSCODES announced: the code stays in the text.
        #expect(result.recipientReplies[0] == SMTPReply(550, nil, "5.1.1 no"))
    }

    @Test func multiLineRepliesAndExtensions() throws {
        var s = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .none))
        _ = s.receive(wire("220-mx.test ESMTP", "220 second line"))
        #expect(s.greeting == SMTPReply(220, nil, ["mx.test ESMTP", "second line"]))
        _ = s.receive(Array("250-mx.test greets c\r\n250-pipelining\r\n250-SIZE 500\r\n250-AUTH PLAIN LOGIN\r\n".utf8))
        #expect(!s.isReady)
        #expect(s.receive(wire("250 enhancedstatuscodes")) == [.ready])
        #expect(s.extensions == ["PIPELINING": "", "SIZE": "500", "AUTH": "PLAIN LOGIN", "ENHANCEDSTATUSCODES": ""])
        _ = s.send(envelope())
        _ = s.receive(wire("250 ok"))
        let result = try #require(
            completed(
                s.receive(
                    Array("550-5.7.1 refused\r\n550-5.7.1 because\r\n550 5.7.1 policy\r\n554 5.5.1 none\r\n".utf8))))
        #expect(result.recipientReplies == [SMTPReply(550, "5.7.1", ["refused", "because", "policy"])])
    }

    @Test func fiveHundredOnDataEnd() throws {
        var s = ready()
        _ = s.send(envelope())
        _ = s.receive(wire("250 ok", "250 ok", "354 go"))
        let result = try #require(completed(s.receive(wire("554 5.6.0 content rejected"))))
        #expect(result.dataReply == SMTPReply(554, "5.6.0", "content rejected"))
        #expect(result.deliveredIndices == [])
        #expect(s.isReady && !s.needsReset)
        // The next transaction starts with MAIL directly.
        guard case .write(let bytes) = s.send(envelope()).first else { Issue.record("no write"); return }
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("MAIL FROM:"))
    }

    @Test func allRecipientsRefusedUnderPipelining() throws {
        var s = ready()
        _ = s.send(envelope(["b@y.test", "c@y.test"]))
        let result = try #require(
            completed(
                s.receive(wire("250 2.1.0 ok", "550 5.1.1 no b", "550 5.1.1 no c", "554 5.5.1 no valid recipients"))))
        #expect(result.recipientReplies.map(\.code) == [550, 550])
        #expect(result.dataReply == nil)
        #expect(s.isReady && s.needsReset)
        // RSET goes out with the next group, and its reply is consumed before MAIL's.
        let env = envelope()
        #expect(
            s.send(env) == [
                .write(wire("RSET", "MAIL FROM:<a@x.test> SIZE=\(env.data.count)", "RCPT TO:<b@y.test>", "DATA"))
            ])
        #expect(s.awaitingStage == .rset)
        #expect(s.receive(wire("250 2.0.0 reset", "250 ok", "250 ok", "354 go")) == [.writeMessage(env.data)])
        #expect(completed(s.receive(wire("250 ok")))?.dataReply?.code == 250)
        #expect(!s.needsReset)
    }

    @Test func allRecipientsRefusedLockStepThenRSET() throws {
        var s = ready(["mx.test"])
        _ = s.send(envelope())
        _ = s.receive(wire("250 ok"))
        let result = try #require(completed(s.receive(wire("550 no"))))
        #expect(result.dataReply == nil)
        #expect(s.send(envelope()) == [.write(wire("RSET"))])
        #expect(s.receive(wire("250 ok")) == [.write(wire("MAIL FROM:<a@x.test>"))])
    }

    @Test func mailRefusedGivesMailReplyForEveryRecipient() throws {
        var s = ready()
        _ = s.send(envelope(["b@y.test", "c@y.test"]))
        let result = try #require(
            completed(
                s.receive(
                    wire("451 4.7.1 greylisted", "503 5.5.1 need MAIL", "503 5.5.1 need MAIL", "503 5.5.1 need MAIL"))))
        #expect(result.mailReply.code == 451)
        #expect(result.recipientReplies == Array(repeating: SMTPReply(451, "4.7.1", "greylisted"), count: 2))
        #expect(result.dataReply == nil)
        #expect(s.isReady && !s.needsReset)
    }

    @Test func unexpected354WithoutRecipientsIsEndedEmpty() throws {
        var s = ready()
        _ = s.send(envelope())
        #expect(s.receive(wire("250 ok", "550 no", "354 go on")) == [.write(wire("."))])
        let result = try #require(completed(s.receive(wire("554 no recipients"))))
        #expect(result.dataReply == nil)
    }

    @Test func fourTwentyOneMidSession() throws {
        var s = ready()
        _ = s.send(envelope(["b@y.test", "c@y.test", "d@y.test"]))
        let actions = s.receive(wire("250 ok", "250 ok", "421 4.3.2 shutting down"))
        let result = try #require(completed(actions))
        #expect(actions.last == .close)
        #expect(result.recipientReplies.map(\.code) == [250, 421, 421])
        #expect(result.dataReply == nil)
        #expect(!s.isReady && s.isClosed)
        #expect(s.send(envelope()) == [.operationFailed(.connectionLost(stage: "idle"))])
    }

    @Test func fourTwentyOneAfterData() throws {
        var s = ready()
        _ = s.send(envelope())
        _ = s.receive(wire("250 ok", "250 ok", "354 go"))
        let actions = s.receive(wire("421 4.4.2 timeout"))
        #expect(completed(actions)?.dataReply?.code == 421)
        #expect(actions.last == .close)
    }

    @Test func fourTwentyOneWhileIdleCloses() {
        var s = ready()
        #expect(s.receive(wire("421 bye")) == [.close])
        #expect(s.isClosed)
    }

    @Test(arguments: ["25O ok\r\n", "250 ok\n", "999 x\r\n", "250-a\r\n251 b\r\n"])
    func malformedReplyFailsTheConnection(_ reply: String) {
        var s = ready()
        _ = s.send(envelope())
        let actions = s.receive(Array(reply.utf8))
        guard case .fail(.protocolError) = actions.last else {
            Issue.record("expected a protocol error, got \(actions)")
            return
        }
        #expect(s.isClosed)
    }

    @Test func unsolicitedReplyIsAProtocolError() {
        var s = ready()
        guard case .fail(.protocolError) = s.receive(wire("250 surprise")).last else {
            Issue.record("expected a protocol error")
            return
        }
    }

    @Test func smtputf8Missing() {
        var s = ready(["mx.test", "PIPELINING", "8BITMIME"])
        var env = envelope()
        env.requiresSMTPUTF8 = true
        #expect(s.send(env) == [.operationFailed(.smtputf8Unsupported)])
        #expect(
            s.send(OutboundEnvelope(sender: "ä@x.test", recipients: ["b@y.test"], data: [])) == [
                .operationFailed(.smtputf8Unsupported)
            ])
        #expect(s.isReady)
        #expect(SMTPClientError.smtputf8Unsupported.isPermanent)
    }

    @Test func smtputf8And8BitParameters() {
        var s = ready()
        let env = OutboundEnvelope(sender: "ä@x.test", recipients: ["b@y.test"], data: Array("Subject: é\r\n\r\n".utf8))
        #expect(env.has8BitData)
        guard case .write(let bytes) = s.send(env).first else { Issue.record("no write"); return }
        #expect(
            String(decoding: bytes, as: UTF8.self).hasPrefix(
                "MAIL FROM:<ä@x.test> SIZE=\(env.data.count) BODY=8BITMIME SMTPUTF8\r\n"))
    }

    @Test func eightBitWithout8BITMIMEIsSentAnyway() {
        var s = ready(["mx.test", "PIPELINING"])
        let env = OutboundEnvelope(sender: "", recipients: ["b@y.test"], data: [0xE9, 13, 10])
        #expect(s.send(env) == [.write(wire("MAIL FROM:<>", "RCPT TO:<b@y.test>", "DATA"))])
    }

    @Test func sizeTooSmall() {
        var s = ready(["mx.test", "SIZE 10"])
        #expect(s.send(envelope()) == [.operationFailed(.messageTooBig(limit: 10))])
        #expect(s.isReady)
        #expect(SMTPClientError.messageTooBig(limit: 10).isPermanent)
    }

    @Test func heloFallback() throws {
        var s = SMTPClientSession(configuration: .init(heloName: "client.test", tlsPolicy: .opportunistic))
        _ = s.receive(wire("220 old.test"))
        #expect(s.receive(wire("502 5.5.2 what?")) == [.write(wire("HELO client.test"))])
        #expect(s.receive(wire("250 old.test")) == [.ready])
        #expect(s.extensions.isEmpty)
        #expect(s.send(envelope()) == [.write(wire("MAIL FROM:<a@x.test>"))])
    }

    @Test func heloRefusedIsPermanent() {
        var s = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .none))
        _ = s.receive(wire("220 old.test"))
        _ = s.receive(wire("500 no"))
        let actions = s.receive(wire("550 go away"))
        #expect(actions == [.fail(.rejected(stage: "HELO", SMTPReply(550, nil, "go away")))])
        #expect(SMTPClientError.rejected(stage: "HELO", SMTPReply(550, nil, "go away")).isPermanent)
    }

    @Test func greetingRefused() {
        var s = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .none))
        #expect(
            s.receive(wire("554 no service")) == [
                .fail(.rejected(stage: "greeting", SMTPReply(554, nil, "no service")))
            ])
        var t = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .none))
        guard case .fail(let e) = t.receive(wire("421 busy")).last else { Issue.record("no failure"); return }
        #expect(!e.isPermanent)
    }

    @Test func startTLSThenEHLOAgain() {
        var s = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .opportunistic))
        _ = s.receive(wire("220 mx"))
        #expect(s.receive(wire("250-mx", "250-STARTTLS", "250 SIZE 5")) == [.write(wire("STARTTLS"))])
        #expect(s.receive(wire("220 2.0.0 go ahead")) == [.startTLS])
        #expect(s.awaitingStage == .tlsHandshake)
        #expect(s.tlsEstablished() == [.write(wire("EHLO c"))])
        #expect(s.extensions.isEmpty)
        #expect(s.receive(wire("250-mx", "250 PIPELINING")) == [.ready])
        #expect(s.tlsActive && s.extensions == ["PIPELINING": ""])
    }

    @Test func startTLSResponseInjectionIsRefused() {
        var s = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .required))
        _ = s.receive(wire("220 mx"))
        _ = s.receive(wire("250-mx", "250 STARTTLS"))
        guard case .fail(.protocolError) = s.receive(wire("220 go", "250 injected")).last else {
            Issue.record("injection accepted")
            return
        }
    }

    @Test func startTLSRefused() {
        var may = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .opportunistic))
        _ = may.receive(wire("220 mx"))
        _ = may.receive(wire("250-mx", "250 STARTTLS"))
        #expect(may.receive(wire("454 4.7.0 TLS not available")) == [.ready])
        #expect(!may.tlsActive)
        var must = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .required))
        _ = must.receive(wire("220 mx"))
        _ = must.receive(wire("250-mx", "250 STARTTLS"))
        #expect(
            must.receive(wire("454 4.7.0 TLS not available")) == [
                .fail(.rejected(stage: "STARTTLS", SMTPReply(454, nil, "4.7.0 TLS not available")))
            ])
    }

    @Test func requiredTLSWithoutSTARTTLS() {
        var s = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .required))
        _ = s.receive(wire("220 mx"))
        #expect(s.receive(wire("250-mx", "250 PIPELINING")) == [.fail(.tlsUnavailable)])
    }

    @Test func authPlain() {
        var s = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .none, peerIsLoopback: false))
        _ = s.receive(wire("220 mx"))
        _ = s.receive(wire("250-mx", "250 AUTH LOGIN PLAIN"))
        #expect(s.authenticate(user: "u", password: "p") == [.operationFailed(.tlsUnavailable)])
        var l = SMTPClientSession(configuration: .init(heloName: "c", tlsPolicy: .none, peerIsLoopback: true))
        _ = l.receive(wire("220 mx"))
        _ = l.receive(wire("250-mx", "250 AUTH LOGIN PLAIN"))
        #expect(l.authenticate(user: "u", password: "p") == [.write(wire("AUTH PLAIN AHUAcA=="))])
        #expect(l.receive(wire("535 5.7.8 bad")) == [.operationFailed(.authFailed(SMTPReply(535, nil, "5.7.8 bad")))])
        #expect(l.isReady)
        _ = l.authenticate(user: "u", password: "p")
        #expect(l.receive(wire("235 ok")) == [.authenticated])
    }

    @Test func timeoutAndConnectionLoss() {
        var s = ready()
        _ = s.send(envelope())
        #expect(s.timedOut(.mail) == [.fail(.timeout(stage: "MAIL"))])
        var t = ready()
        _ = t.send(envelope())
        _ = t.receive(wire("250 ok", "250 ok", "354 go"))
        #expect(t.connectionClosed() == [.fail(.connectionLost(stage: "end of data"))])
    }

    @Test func invalidEnvelopes() {
        var s = ready()
        for env in [
            OutboundEnvelope(sender: "a@x", recipients: [], data: []),
            OutboundEnvelope(sender: "a@x>\r\nRCPT TO:<evil@x", recipients: ["b@y"], data: []),
            OutboundEnvelope(sender: "a@x", recipients: ["b@y> NOTIFY=NEVER"], data: []),
        ] {
            guard case .operationFailed(.invalidEnvelope) = s.send(env).first else {
                Issue.record("accepted \(env.sender) \(env.recipients)")
                continue
            }
        }
        #expect(s.isReady)
    }

    @Test func quit() {
        var s = ready()
        #expect(s.quit() == [.write(wire("QUIT"))])
        #expect(s.receive(wire("221 bye")) == [.close])
        #expect(s.isClosed)
    }

    @Test(arguments: [
        (SMTPClientError.rejected(stage: "greeting", SMTPReply(554, nil, "")), true),
        (.rejected(stage: "EHLO", SMTPReply(421, nil, "")), false),
        (.rejected(stage: "STARTTLS", SMTPReply(554, nil, "")), false),
        (.rejected(stage: "RSET", SMTPReply(500, nil, "")), false),
        (.authFailed(SMTPReply(535, nil, "")), true),
        (.authFailed(SMTPReply(454, nil, "")), false),
        (.tlsUnavailable, false), (.timeout(stage: "MAIL"), false), (.connectionLost(stage: "DATA"), false),
        (.protocolError("x"), false), (.connectFailed("x"), false), (.tlsFailed("x"), false),
    ])
    func permanence(_ error: SMTPClientError, _ permanent: Bool) {
        #expect(error.isPermanent == permanent)
    }
}

/// Lines joined with CRLF, each ending in CRLF.
func wire(_ lines: String...) -> [UInt8] {
    Array(lines.map { $0 + "\r\n" }.joined().utf8)
}
