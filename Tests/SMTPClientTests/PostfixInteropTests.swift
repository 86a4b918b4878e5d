import Foundation
import TestSupport
import SMTPClient
import Testing

@Suite(.serialized) struct PostfixInteropTests {
    static let tools = ["/usr/sbin/postfix", "/usr/bin/openssl"]
    static let domain = "test.example"

    /// A private Postfix (TestSupport) for test.example that puts what it accepts on hold: one
    /// smtpd with STARTTLS, one without, and a 10 MB size limit.
    // The limit stops a hang, not a slow run: in the full suite this waits minutes for one of
    // the two shared threads (about 240 s in CI runs; a 1-minute limit failed a local run).
    @Test(.enabled(if: Peer.shouldRun(tools[0], tools[1])), .timeLimit(.minutes(5)))
    func startTLSDeliveryAndRequiredPolicy() async throws {
        try Peer.require(Self.tools[0], Self.tools[1])
        let postfix = try #require(
            try PostfixPeer.start(
                domain: Self.domain,
                mainCF: """
                    smtpd_end_of_data_restrictions = check_client_access static:HOLD
                    virtual_transport = discard
                    message_size_limit = 10485760
                    """, tls: true, plainPort: Peers.freePort()))
        do {
            try await exercise(postfix)
        } catch {
            Issue.record("\(error)\nmaillog:\n\(postfix.logText().suffix(3000))")
        }
        postfix.destroy()
    }

    func exercise(_ postfix: PostfixPeer) async throws {
        // Opportunistic TLS: STARTTLS is offered and used; EHLO is repeated over TLS.
        let connection = try await Peer.connectWhenListening(port: postfix.port, tls: .opportunistic)
        let tls = try #require(connection.tlsDescription)
        #expect(tls.hasPrefix("TLSv1."))
        #expect(connection.extensions["STARTTLS"] == nil)
        #expect(connection.extensions["PIPELINING"] != nil)
        let data = Peer.message(1) + Array("8-bit: \u{e9}t\u{e9}\r\n".utf8)
        let result = try await connection.send(
            OutboundEnvelope(
                sender: "a@client.test", recipients: ["u@\(Self.domain)", "nobody@elsewhere.test"], data: data
            ))
        #expect(result.mailReply.code == 250)
        #expect(result.recipientReplies[0].code == 250)
        #expect(result.recipientReplies[1].code == 554, "relay must be refused: \(result.recipientReplies[1])")
        #expect(result.recipientReplies[1].enhanced == "5.7.1")
        #expect(result.dataReply?.code == 250, "\(result)")
        #expect(result.deliveredIndices == [0])
        // A second transaction on the same connection.
        let second = try await connection.send(
            OutboundEnvelope(sender: "", recipients: ["b@\(Self.domain)"], data: Peer.message(2)))
        #expect(second.dataReply?.code == 250)
        // SIZE is enforced before sending.
        do {
            _ = try await connection.send(
                OutboundEnvelope(
                    sender: "a@client.test", recipients: ["u@\(Self.domain)"],
                    data: [UInt8](repeating: 65, count: 11 << 20)))
            Issue.record("oversized message was sent")
        } catch {
            #expect(error == .messageTooBig(limit: 10_485_760))
        }
        #expect(connection.isUsable)
        await connection.quit()

        var held = 0
        for _ in 0..<400 {
            held = postfix.holdCount()
            if held >= 2 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(held == 2, "messages on hold")
        #expect(postfix.logText().contains("TLS connection established"))

        // Verified TLS: the self-signed certificate is refused unless trusted, and then only for
        // the name it carries (CN=localhost).
        do {
            _ = try await Peer.connectWhenListening(port: postfix.port, tls: .verify)
            Issue.record("an untrusted certificate was accepted")
        } catch let error as SMTPClientError {
            #expect(!error.isPermanent, "a certificate problem defers: \(error)")
            #expect("\(error)".contains("the certificate of localhost did not verify"), "\(error)")
        }
        let trusted = SMTPClientTLS.verifying(caFile: postfix.certificatePath)
        let verified = try await Peer.connectWhenListening(port: postfix.port, tls: .verify, tlsConfiguration: trusted)
        #expect(verified.tlsDescription?.hasPrefix("TLSv1.") == true && verified.tlsDescription?.hasSuffix(", certificate verified") == true)
        await verified.quit()
        do {
            _ = try await Peer.connectWhenListening(port: postfix.port, tls: .verify, tlsConfiguration: trusted, serverName: "mx.other.test")
            Issue.record("a certificate for another name was accepted")
        } catch let error as SMTPClientError {
            #expect(!error.isPermanent)
            #expect("\(error)".contains("mx.other.test"), "\(error)")
        }

        // Required TLS against the smtpd without STARTTLS fails, temporarily.
        do {
            _ = try await Peer.connectWhenListening(port: try #require(postfix.plainPort), tls: .required)
            Issue.record("connected without TLS")
        } catch let error as SMTPClientError {
            #expect(error == .tlsUnavailable)
            #expect(!error.isPermanent)
        }
        // And plaintext works there.
        let plain = try await Peer.connectWhenListening(port: try #require(postfix.plainPort), tls: .opportunistic)
        #expect(plain.tlsDescription == nil)
        await plain.quit()
    }
}
