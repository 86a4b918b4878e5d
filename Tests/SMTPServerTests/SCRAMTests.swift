@testable import LoginKit
import AdminModels
import Crypto
import Foundation
import Testing

@testable import Directory
@testable import SMTP
@testable import SMTPServer
@testable import Storage

/// AUTH SCRAM-SHA-256 end to end against the directory's stored keys, with a client written
/// from RFC 5802 here (Python's smtplib has no SCRAM).
@Suite struct SCRAMTests {
    struct Outcome {
        var replies: [SMTPReply] = []
        var result: (user: String?, success: Bool)?
        var serverSignatureValid = false
    }

    /// Without `harness`, a fresh one where alice's password is alice-password-1.
    func login(_ user: String, password: String, cnonce: String = "fyko+d2lbbFgONRv9qkxdawL", harness: PolicyHarness? = nil) throws -> Outcome {
        let h: PolicyHarness
        if let harness {
            h = harness
        } else {
            h = try PolicyHarness()
            _ = try h.dir.setPassword("alice@example.org", password: "alice-password-1", actor: AdminActor(name: "t", role: .serverAdmin))
        }
        var session = SMTPSession(
            config: SMTPSessionConfig(hostname: "mx", mode: .submission, tlsAvailable: false, implicitTLS: false, plaintextAuthAllowed: true, limits: SMTPLimits()),
            policy: h.policy)
        var out = Outcome()
        func run(_ actions: [SMTPSession.Action]) {
            for a in actions {
                switch a {
                case .send(let r): out.replies.append(r)
                case .authenticated(let u, let ok):
                    out.result = (u, ok)
                    run(session.authenticationFinished(ok ? .success(u ?? "") : .failure))
                default: break
                }
            }
        }
        _ = session.start()
        run(session.receive(Array("EHLO c\r\n".utf8)))
        #expect(out.replies.last?.lines.contains("AUTH SCRAM-SHA-256 PLAIN LOGIN") == true)
        let clientFirstBare = "n=\(user),r=\(cnonce)"
        run(session.receive(Array("AUTH SCRAM-SHA-256 \(Data(("n,," + clientFirstBare).utf8).base64EncodedString())\r\n".utf8)))
        guard let challenge = out.replies.last, challenge.code == 334,
            let serverFirst = Data(base64Encoded: challenge.lines[0]).map({ String(decoding: $0, as: UTF8.self) })
        else { return out }
        let attrs = SCRAMServer.attributes(serverFirst)
        let nonce = try #require(attrs["r"])
        #expect(nonce.hasPrefix(cnonce) && nonce.count > cnonce.count)
        let saltText = try #require(attrs["s"])
        let salt = Array(try #require(Data(base64Encoded: saltText)))
        let iterationsText = try #require(attrs["i"])
        let iterations = try #require(Int(iterationsText))
        let salted = try PasswordHash.saltedPassword(password, salt: salt, iterations: iterations)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: salted))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: salted))
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let signature = Array(HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: storedKey)))
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        run(session.receive(Array("\(Data("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8).base64EncodedString())\r\n".utf8)))
        if let last = out.replies.last, last.code == 334, let final = Data(base64Encoded: last.lines[0]) {
            let expected = "v=" + Data(HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: serverKey))).base64EncodedString()
            out.serverSignatureValid = String(decoding: final, as: UTF8.self) == expected
            run(session.receive(Array("\r\n".utf8)))
        }
        return out
    }

    @Test func rightPasswordLogsInAndTheServerProvesItself() throws {
        let out = try login("alice@example.org", password: "alice-password-1")
        #expect(out.serverSignatureValid)
        #expect(out.result?.success == true)
        #expect(out.replies.last?.code == 235)
    }

    @Test func wrongPasswordFails() throws {
        let out = try login("alice@example.org", password: "not-her-password")
        #expect(out.result?.success == false)
        #expect(out.replies.last?.code == 535)
    }

    @Test func unknownUsersGetAChallengeTooAndFail() throws {
        let out = try login("ghost@example.org", password: "whatever-it-is")
        #expect(out.replies.contains { $0.code == 334 })  // no early "no such user"
        #expect(out.replies.last?.code == 535)
    }

    /// A hash imported from Dovecot has no SCRAM keys: SCRAM fails (with the right password
    /// too) until a PLAIN or LOGIN login has replaced it, and works after.
    @Test func importedHashesFailSCRAMUntilTheFirstPlainLogin() throws {
        let h = try PolicyHarness()
        let report = try h.dir.importDovecotPasswd(
            "alice@example.org:{SSHA256}oliZSSrDX/ahKNcGSEB2DI1cR1J8OryBYSlzxfHl1fwbYw2z\n",
            actor: AdminActor(name: "t", role: .serverAdmin))
        #expect(report.applied)
        let before = try login("alice@example.org", password: "secret", harness: h)
        #expect(before.result?.success == false)
        #expect(before.replies.last?.code == 535)
        #expect(h.dir.authenticate(address: "alice@example.org", password: "secret") != nil)
        let after = try login("alice@example.org", password: "secret", harness: h)
        #expect(after.serverSignatureValid)
        #expect(after.result?.success == true)
    }

    @Test func channelBindingAndMalformedMessagesAreRefused() throws {
        #expect(SCRAMServer.saslName("a=2Cb=3Dc") == "a,b=c")
        #expect(SCRAMServer.saslName("a=2x") == nil)
        var s = SCRAMServer()
        guard case .failure = s.start("p=tls-unique,,n=alice@example.org,r=abc", lookup: { _ in nil }) else {
            Issue.record("channel binding accepted")
            return
        }
    }
}
