import EmailAuth
import Foundation
import Testing

@Suite("DKIM keys")
struct DKIMKeyTests {
    @Test(arguments: DKIMAlgorithm.allCases)
    func generateAndRoundTripPEM(algorithm: DKIMAlgorithm) throws {
        let key = DKIMKey.generate(algorithm)
        #expect(key.algorithm == algorithm)
        #expect(key.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let again = try DKIMKey(algorithm: algorithm, privateKeyPEM: key.privateKeyPEM)
        #expect(again.publicKeyBase64 == key.publicKeyBase64)
        #expect(again.privateKeyPEM == key.privateKeyPEM)
        let publicKey = try #require(Data(base64Encoded: key.publicKeyBase64))
        switch algorithm {
        case .rsa2048:
            #expect(key.keySizeInBits == 2048)
            #expect(key.publicKeyBase64.hasPrefix("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"))  // SPKI, rsaEncryption
            #expect(key.dnsRecord == "v=DKIM1; k=rsa; p=\(key.publicKeyBase64)")
        case .ed25519:
            #expect(publicKey.count == 32)  // raw key, not SPKI (RFC 8463 §4.2)
            #expect(key.dnsRecord == "v=DKIM1; k=ed25519; p=\(key.publicKeyBase64)")
        }
    }

    @Test func pkcs1PEMIsAccepted() throws {
        let key = try DKIMKey(algorithm: .rsa2048, privateKeyPEM: RFC8463Tests.rsaPrivateKey)
        #expect(key.publicKeyBase64 == RFC8463Tests.rsaPublicKey)
        #expect(key.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test func wrongOrBrokenPEMThrows() {
        let ed = DKIMKey.generate(.ed25519)
        #expect(throws: DKIMError.self) { try DKIMKey(algorithm: .rsa2048, privateKeyPEM: ed.privateKeyPEM) }
        #expect(throws: DKIMError.self) {
            try DKIMKey(algorithm: .ed25519, privateKeyPEM: RFC8463Tests.rsaPrivateKey)
        }
        for garbage in [
            "", "hello", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ] {
            for algorithm in DKIMAlgorithm.allCases {
                #expect(throws: DKIMError.self) { try DKIMKey(algorithm: algorithm, privateKeyPEM: garbage) }
            }
        }
        #expect(throws: DKIMError.self) { try DKIMKey(ed25519Seed: [1, 2, 3]) }
    }

    @Test func zoneLineSplitsLongRecords() throws {
        let key = DKIMKey.generate(.rsa2048)
        let line = key.dnsZoneLine(domain: "Example.ORG.", selector: "mail2026")
        #expect(line.hasPrefix("mail2026._domainkey.example.org. IN TXT ( \""))
        #expect(line.hasSuffix("\" )"))
        let inner = line.drop { $0 != "(" }.dropFirst().dropLast()
        let strings = inner.split(separator: "\"").filter { !$0.allSatisfy(\.isWhitespace) }
        #expect(strings.count == 2)
        #expect(strings.allSatisfy { $0.utf8.count <= 255 })
        #expect(strings.joined() == key.dnsRecord)

        let ed = DKIMKey.generate(.ed25519)
        #expect(
            ed.dnsZoneLine(domain: "example.org", selector: "ed")
                == "ed._domainkey.example.org. IN TXT ( \"\(ed.dnsRecord)\" )")
    }

    @Test func validation() {
        #expect(throws: Never.self) { try DKIMSigner.validate(domain: "example.org", selector: "mail2026") }
        #expect(throws: Never.self) { try DKIMSigner.validate(domain: "mail.example.org.", selector: "a.b-c") }
        #expect(throws: DKIMError.invalidDomain("exa mple.org")) {
            try DKIMSigner.validate(domain: "exa mple.org", selector: "s")
        }
        #expect(throws: DKIMError.invalidDomain("localhost")) {
            try DKIMSigner.validate(domain: "localhost", selector: "s")
        }
        #expect(throws: DKIMError.invalidDomain("a;b.org")) {
            try DKIMSigner.validate(domain: "a;b.org", selector: "s")
        }
        #expect(throws: DKIMError.invalidSelector("")) { try DKIMSigner.validate(domain: "example.org", selector: "") }
        #expect(throws: DKIMError.invalidSelector("s; x=1")) {
            try DKIMSigner.validate(domain: "example.org", selector: "s; x=1")
        }
    }
}
