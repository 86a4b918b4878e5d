import ACME
import Crypto
import Foundation
import SwiftASN1
import Synchronization
import Testing
import X509

@Suite struct TLSALPN01Tests {
    /// RFC 8737 §3: self-signed, the name as its only subjectAltName, and a critical
    /// id-pe-acmeIdentifier extension holding the DER OCTET STRING of SHA-256(key authorization).
    @Test func challengeCertificateCarriesTheDigest() throws {
        let keyAuthorization = "tok-abc.thumbprint-xyz"
        let (cert, key) = try TLSALPN01Challenges.certificate(
            name: "mail.example.org", keyAuthorization: keyAuthorization)
        let ext = try #require(cert.extensions[oid: [1, 3, 6, 1, 5, 5, 7, 1, 31]])
        #expect(ext.critical)
        let digest = Array(SHA256.hash(data: Array(keyAuthorization.utf8)))
        #expect(Array(ext.value) == [0x04, 0x20] + digest, "DER: OCTET STRING, 32 bytes, the digest")
        let parsed = try ASN1OctetString(derEncoded: ext.value)
        #expect(Array(parsed.bytes) == digest)
        let san = try #require(try cert.extensions.subjectAlternativeNames)
        #expect(Array(san) == [.dnsName("mail.example.org")])
        #expect(cert.subject == cert.issuer)
        #expect(cert.publicKey == Certificate.PublicKey(key.publicKey))
        #expect(cert.publicKey.isValidSignature(cert.signature, for: cert), "self-signed")
        // It survives a DER round trip (what the TLS library is given).
        var serializer = DER.Serializer()
        try serializer.serialize(cert)
        let again = try Certificate(derEncoded: serializer.serializedBytes)
        #expect(again.extensions[oid: TLSALPN01Challenges.acmeIdentifierOID]?.critical == true)
    }

    @Test func publishAndWithdrawByName() throws {
        let challenges = TLSALPN01Challenges()
        #expect(challenges.context(for: "mail.example.org") == nil)
        try challenges.publish(name: "mail.example.org", keyAuthorization: "a.b")
        #expect(challenges.context(for: "MAIL.example.org") != nil, "SNI is matched without case")
        #expect(challenges.context(for: "other.example.org") == nil)
        challenges.withdraw(name: "mail.example.org")
        #expect(challenges.context(for: "mail.example.org") == nil)
    }

    /// The client answers the tls-alpn-01 challenge, not http-01, and withdraws the
    /// certificates once the names are valid.
    @Test func obtainsACertificateThroughTLSALPN01() async throws {
        let server = FakeACMEServer()
        let challenges = TLSALPN01Challenges()
        let client = ACMEClientTests.client(server)
        server.state.withLock { s in
            s.validate = { name in challenges.context(for: name) != nil }
        }
        let pem = try await client.obtainCertificate(
            request: CertificateRequest(names: ["a.example", "b.example"]), email: nil,
            responder: .tlsALPN01(challenges))
        #expect(pem.contains("BEGIN CERTIFICATE"))
        #expect(server.state.withLock { $0.challenged } == ["tls-alpn-01 a.example", "tls-alpn-01 b.example"])
        #expect(challenges.context(for: "a.example") == nil, "withdrawn once validated")
    }

    @Test func aFailedValidationNamesTheChallenge() async throws {
        let server = FakeACMEServer()
        server.state.withLock { $0.validate = { _ in false } }
        let client = ACMEClientTests.client(server)
        await #expect {
            _ = try await client.obtainCertificate(
                request: CertificateRequest(names: ["a.example"]), email: nil, responder: .tlsALPN01(.init()))
        } throws: { error in
            guard case ACMEError.validationFailed(_, _, "tls-alpn-01") = error else { return false }
            return "\(error)".contains("port 443 reaches [listeners] web")
        }
    }
}
