import Foundation
import TestSupport
import Testing

@testable import Directory

/// Argon2 and the BLAKE2b under it, against published vectors and Dovecot's own hashes.
@Suite struct Argon2Tests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// From Python's hashlib.blake2b.
    static let blake2b: [([UInt8], Int, String)] = [
        (
            [], 64,
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        ),
        (
            Array("abc".utf8), 64,
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        ),
        (
            Array([[UInt8]](repeating: Array(0...255), count: 3).joined()), 64,
            "323e97a7a859ee63c9013debb0ca995811e73117a2f574723416e596ebc184e37a59b66d2f597df4a7c1b0d1d41a1a7f28774f46a6864d56c57b9d6c5f7302fb"
        ),
        (Array("abc".utf8), 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"),
        ([UInt8](repeating: 0, count: 200), 20, "0e77cb4b5d4e32f2597090fe2c88ab496249615c"),
    ]

    @Test(arguments: blake2b)
    func blake2bKnownAnswers(_ input: [UInt8], _ length: Int, _ expected: String) {
        #expect(Self.hex(Blake2b.hash(input, outputLength: length)) == expected)
    }

    /// RFC 9106 §5: password 32 × 0x01, salt 16 × 0x02, secret 8 × 0x03, associated data
    /// 12 × 0x04, m = 32, t = 3, p = 4, tag 32 bytes.
    static let rfc9106: [(Argon2.Variant, String)] = [
        (.d, "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"),
        (.i, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"),
        (.id, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"),
    ]

    @Test(arguments: rfc9106)
    func rfc9106Vectors(_ variant: Argon2.Variant, _ expected: String) {
        let tag = Argon2.hash(
            password: [UInt8](repeating: 1, count: 32), salt: [UInt8](repeating: 2, count: 16),
            secret: [UInt8](repeating: 3, count: 8), associated: [UInt8](repeating: 4, count: 12), memoryKiB: 32,
            passes: 3,
            lanes: 4, tagLength: 32, variant)
        #expect(Self.hex(tag) == expected)
    }

    /// Made with `doveadm pw -s ARGON2ID|ARGON2I` (libsodium's interactive levels: 64 MiB and
    /// 32 MiB); each check fills that much memory, so there are few.
    static let dovecot: [(String, String)] = [
        (
            "secret",
            "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$2e1hYoVJ31we7MRkcAQkPw$5liqrjS2F53ADAA9QqgyDTQXn3fV0xZkeftMENhm57c"
        ),
        (
            "secret",
            "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$5ezb92F4V9SEQVBinS8LsA$LHDWbUhXzqsS/AJ/pvC9rHyIJSpWbphR1P1kSCO3uXY"
        ),
        (
            "pässword1",
            "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$Dg0HAPfggaP0NYflQcUdhw$PR6BwStA6dzm8WFHOrT3GPACMR4McmHXV+g/10bAjmE"
        ),
        (
            "pässword1",
            "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$IS5Rg3MOl9aHWTMtK8yFBw$SnDasVUCbmCNCNdBagR1HSOxKtmQaXjfHe4RSWAK5MQ"
        ),
    ]

    @Test(arguments: dovecot)
    func dovecotHashes(_ password: String, _ hash: String) throws {
        let h = try ForeignPasswordHash(hash)
        #expect(h.verify(password))
        #expect(!h.verify(password + "x"))
    }

    @Test(.enabled(if: Peers.shouldRun(Peers.find("doveadm") != nil)), arguments: ["ARGON2ID", "ARGON2I"])
    func hashesFromDoveadm(_ scheme: String) throws {
        let doveadm = try #require(Peers.find("doveadm"))
        for password in ["correct horse battery staple"] {
            let out = try Peers.run(doveadm, ["pw", "-s", scheme, "-p", password])
            let hash = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let h = try ForeignPasswordHash(hash)
            #expect(h.verify(password), "\(hash) should accept \(password)")
            #expect(!h.verify("1" + password))
        }
    }

    static let malformed: [(String, String)] = [
        (
            "{ARGON2ID}$argon2i$v=19$m=65536,t=3,p=1$2e1hYoVJ31we7MRkcAQkPw$5liqrjS2F53ADAA9QqgyDTQXn3fV0xZkeftMENhm57c",
            "form"
        ),
        (
            "{ARGON2ID}$argon2id$v=16$m=65536,t=3,p=1$2e1hYoVJ31we7MRkcAQkPw$5liqrjS2F53ADAA9QqgyDTQXn3fV0xZkeftMENhm57c",
            "form"
        ),
        (
            "{ARGON2ID}$argon2id$v=19$m=4194304,t=3,p=1$2e1hYoVJ31we7MRkcAQkPw$5liqrjS2F53ADAA9QqgyDTQXn3fV0xZkeftMENhm57c",
            "m=4194304"
        ),
        (
            "{ARGON2ID}$argon2id$v=19$m=65536,t=0,p=1$2e1hYoVJ31we7MRkcAQkPw$5liqrjS2F53ADAA9QqgyDTQXn3fV0xZkeftMENhm57c",
            "t=0"
        ),
        (
            "{ARGON2ID}$argon2id$v=19$m=65536,t=3$2e1hYoVJ31we7MRkcAQkPw$5liqrjS2F53ADAA9QqgyDTQXn3fV0xZkeftMENhm57c",
            "parameters"
        ),
        ("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$!!$5liqrjS2F53ADAA9QqgyDTQXn3fV0xZkeftMENhm57c", "base64"),
        ("{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$5ezb92F4V9SEQVBinS8LsA$", "base64"),
    ]

    @Test(arguments: malformed)
    func malformedAreRefused(_ text: String, _ reason: String) {
        do {
            _ = try ForeignPasswordHash(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }
}
