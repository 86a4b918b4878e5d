import Foundation
import Testing

@testable import Directory

@Suite struct PasswordHashTests {
    @Test func verifiesTheRightPasswordOnly() throws {
        let h = try PasswordHash.make(password: "correct horse battery", iterations: 4096)
        #expect(h.verify("correct horse battery"))
        #expect(!h.verify("correct horse batterY"))
        #expect(!h.verify(""))
    }

    @Test func textFormRoundTrips() throws {
        let h = try PasswordHash.make(password: "pencil-pencil", iterations: 4096)
        let text = h.description
        #expect(text.hasPrefix("SCRAM-SHA-256$4096:"))
        let parsed = try #require(PasswordHash(text))
        #expect(parsed == h)
        #expect(parsed.verify("pencil-pencil"))
    }

    @Test func saltsDiffer() throws {
        let a = try PasswordHash.make(password: "same password", iterations: 4096)
        let b = try PasswordHash.make(password: "same password", iterations: 4096)
        #expect(a.salt != b.salt)
        #expect(a.storedKey != b.storedKey)
    }

    /// RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, i=4096.
    /// The ClientProof the RFC shows must follow from our StoredKey derivation.
    @Test func rfc7677Vector() throws {
        let salt = Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!)
        let h = try PasswordHash.make(password: "pencil", salt: salt, iterations: 4096)
        let authMessage =
            "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
        let serverSignature = scramHMAC(key: h.serverKey, Array(authMessage.utf8))
        #expect(Data(serverSignature).base64EncodedString() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    }

    static let weak: [String] = ["", "short", "123456789", "abc\u{0007}defghijk"]
    @Test(arguments: weak)
    func policyRefusesWeakPasswords(_ p: String) {
        #expect(PasswordPolicy.problem(with: p) != nil)
    }

    @Test func generatedPasswordsPassThePolicy() {
        let p = PasswordPolicy.generate()
        #expect(p.count == 20)
        #expect(PasswordPolicy.problem(with: p) == nil)
        #expect(PasswordPolicy.generate() != p)
    }

    static let malformed: [String] = [
        "", "SCRAM-SHA-256", "SCRAM-SHA-256$4096:abc", "SCRAM-SHA-256$x:c2FsdHNhbHQ=$a:b", "MD5$1:2$3:4",
        "SCRAM-SHA-256$10:c2FsdHNhbHQ=$" + String(repeating: "A", count: 44) + ":" + String(repeating: "A", count: 44),
        "{SHA512-CRYPT}$6$abc$def",
    ]
    @Test(arguments: malformed)
    func malformedHashesDoNotParse(_ text: String) {
        #expect(PasswordHash(text) == nil)
    }
}

import Crypto

func scramHMAC(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
    Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
}
