import ACME
import Crypto
import Foundation
import SwiftASN1
import Synchronization
import Testing
import X509

@Suite struct AccountKeyTests {
    @Test func jwkIsCanonicalAndThumbprintIsItsHash() throws {
        let key = AccountKey()
        let jwk = key.jwkJSON
        #expect(jwk.hasPrefix(#"{"crv":"P-256","kty":"EC","x":""#))
        #expect(!jwk.contains(" ") && !jwk.contains("="))
        let digest = SHA256.hash(data: Data(jwk.utf8))
        #expect(FakeACMEServer.unbase64(key.thumbprint) == Data(digest))
        #expect(key.keyAuthorization(token: "abc") == "abc." + key.thumbprint)
        #expect(try AccountKey(pem: key.pem).thumbprint == key.thumbprint)
    }

    @Test(arguments: [AccountKey.Signer.jwk, .kid("https://ca/acct/7")])
    func signatureVerifiesWithThePublicKey(_ signer: AccountKey.Signer) throws {
        let key = AccountKey()
        let jws = try key.sign(payload: Data(#"{"a":1}"#.utf8), url: "https://ca/x", nonce: "N1", signer: signer)
        let parts = try JSONSerialization.jsonObject(with: jws) as! [String: String]
        let header =
            try JSONSerialization.jsonObject(with: FakeACMEServer.unbase64(parts["protected"]!)) as! [String: Any]
        #expect(header["alg"] as? String == "ES256")
        #expect(header["nonce"] as? String == "N1")
        #expect(header["url"] as? String == "https://ca/x")
        if case .kid(let kid) = signer {
            #expect(header["kid"] as? String == kid)
        } else {
            #expect(header["jwk"] != nil)
        }
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: FakeACMEServer.unbase64(parts["signature"]!))
        #expect(
            key.privateKey.publicKey.isValidSignature(
                signature, for: Data((parts["protected"]! + "." + parts["payload"]!).utf8)))
    }

    @Test func postAsGetHasAnEmptyPayload() throws {
        let jws = try AccountKey().sign(payload: nil, url: "u", nonce: "n", signer: .kid("k"))
        #expect((try JSONSerialization.jsonObject(with: jws) as! [String: String])["payload"] == "")
    }
}

@Suite struct CertificateRequestTests {
    @Test func csrNamesEveryNameAndIsSignedByTheKey() throws {
        let request = CertificateRequest(names: ["mail.example.org", "mta-sts.example.org"])
        let csr = try CertificateSigningRequest(derEncoded: try request.der())
        #expect(csr.subject.description.contains("mail.example.org"))
        let sans = try csr.attributes.extensionRequest?.extensions.subjectAlternativeNames
        #expect(
            sans?.map { "\($0)" }.sorted() == ["dNSName: mail.example.org", "dNSName: mta-sts.example.org"].sorted()
                || sans?.count == 2)
        #expect(csr.publicKey == Certificate.PublicKey(request.key.publicKey))
    }
}

@Suite struct HTTP01TokensTests {
    @Test(
        arguments: [
            ("/.well-known/acme-challenge/abc-DEF_123", "abc-DEF_123"), ("/.well-known/acme-challenge/", nil),
            ("/other/abc", nil),
            ("/.well-known/acme-challenge/a/../b", nil),
        ] as [(String, String?)])
    func tokenInPath(_ path: String, _ token: String?) {
        #expect(HTTP01Tokens.token(inPath: path) == token)
    }

    @Test func publishAndWithdraw() {
        let t = HTTP01Tokens()
        t.publish(token: "a", keyAuthorization: "a.x")
        #expect(t.keyAuthorization(for: "a") == "a.x")
        t.withdraw(token: "a")
        #expect(t.keyAuthorization(for: "a") == nil)
    }
}

@Suite struct ACMEClientTests {
    final class Sleeps: Sendable {
        let list = Mutex<[Duration]>([])
    }

    static func client(_ server: FakeACMEServer, slept: Sleeps? = nil) -> ACMEClient {
        var options = ACMEClient.Options()
        options.sleep = { d in slept?.list.withLock { $0.append(d) } }
        return ACMEClient(directoryURL: server.base + "/dir", key: AccountKey(), transport: server, options: options)
    }

    @Test func obtainsACertificateThroughHTTP01() async throws {
        let server = FakeACMEServer()
        let slept = Sleeps()
        let tokens = HTTP01Tokens()
        let client = Self.client(server, slept: slept)
        server.state.withLock { s in
            s.validate = { name in
                tokens.keyAuthorization(for: "tok-\(name)") == client.key.keyAuthorization(token: "tok-\(name)")
            }
        }
        let pem = try await client.obtainCertificate(
            request: CertificateRequest(names: ["a.example", "b.example"]), email: "postmaster@example.org",
            tokens: tokens)
        #expect(pem.contains("BEGIN CERTIFICATE"))
        #expect(server.state.withLock { $0.csr } != nil)
        #expect(tokens.keyAuthorization(for: "tok-a.example") == nil, "answers are withdrawn once validated")
        #expect(slept.list.withLock { $0 } == [.seconds(2)], "Retry-After was honoured")
        #expect(await client.accountURL == server.base + "/acct/1")
    }

    @Test func badNonceIsRetriedWithAFreshNonce() async throws {
        let server = FakeACMEServer()
        server.state.withLock { $0.badNonces = 2 }
        let client = Self.client(server)
        #expect(try await client.register(email: nil) == server.base + "/acct/1")
        #expect(server.state.withLock { $0.requests.filter { $0 == "POST /acct" }.count } == 3)
    }

    @Test func aFailedValidationCarriesTheCAsProblem() async throws {
        let server = FakeACMEServer()
        server.state.withLock { $0.validate = { $0 != "b.example" } }
        let client = Self.client(server)
        do {
            _ = try await client.obtainCertificate(
                request: CertificateRequest(names: ["a.example", "b.example"]), email: nil, tokens: HTTP01Tokens())
            Issue.record("expected a validation failure")
        } catch let ACMEError.validationFailed(name, problem, challenge) {
            #expect(name == "b.example")
            #expect(challenge == "http-01")
            #expect(problem?.shortType == "unauthorized")
            #expect(problem?.detail == "wrong answer for b.example")
            #expect("\(ACMEError.validationFailed(name: name, problem))".contains("acme_http"))
        }
    }

    @Test func pollingGivesUpAfterItsBound() async throws {
        let server = FakeACMEServer()
        server.state.withLock { $0.pendingPolls = 1000 }
        var options = ACMEClient.Options()
        options.sleep = { _ in }
        options.pollTimeout = .seconds(10)
        let client = ACMEClient(
            directoryURL: server.base + "/dir", key: AccountKey(), transport: server, options: options)
        await #expect(throws: ACMEError.self) {
            _ = try await client.obtainCertificate(
                request: CertificateRequest(names: ["a.example"]), email: nil, tokens: HTTP01Tokens())
        }
        // 2 s Retry-After each: 5 sleeps fit in 10 s, then it stops.
        #expect(server.state.withLock { $0.requests.filter { $0 == "POST /authz/a.example" }.count } == 7)
    }

    @Test func serverProblemsAreTyped() async throws {
        let server = FakeACMEServer()
        let client = ACMEClient(directoryURL: server.base + "/nowhere", key: AccountKey(), transport: server)
        do {
            _ = try await client.register(email: nil)
            Issue.record("expected a problem")
        } catch let ACMEError.problem(url, status, problem) {
            #expect(url.hasSuffix("/nowhere") && status == 404 && problem.shortType == "malformed")
        }
    }
}
