import AdminModels
import Foundation
import TestSupport
import Testing

/// Bringing users over from Dovecot: a passwd-file with one user per hash scheme is imported,
/// each user logs in over IMAP with their old password, and the login leaves our own hash.
@Suite(.serialized) struct MigrationTests {
    /// Argon2id at 64 MiB and 3 passes takes seconds in a debug build, and many times that when
    /// the whole suite runs at once on two cores: the reply is waited for this long.
    static let slowHash = 120

    static let schemes = [
        "SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "ARGON2ID", "ARGON2I", "SSHA512", "SSHA256", "PBKDF2", "PLAIN",
    ]

    /// Hashes of "secret" made by `doveadm pw`, used where Dovecot is not installed.
    static let committed: [String: String] = [
        "SHA512-CRYPT":
            "{SHA512-CRYPT}$6$Brq./hkBDtpnPFk4$eKeLcmY1t3XcCxXvN5mCFRUT3QmBrEB2MSmhWl9.PqiHTHwUec2teUkq.2k//sEtkccMAMXONfv.H8nyQYwJt/",
        "SHA256-CRYPT": "{SHA256-CRYPT}$5$.9E5Kk9fXxucoRzL$cOXZlrQjeJ4jHzipXxTKLd/iRuygV6cEjuprfVFbgu9",
        "BLF-CRYPT": "{BLF-CRYPT}$2y$05$dQpSJFTjbu.OBsvFnqDSvuJayMNcFkvjDoahpQdAPOPigZJz/mOVy",
        "ARGON2ID":
            "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$2e1hYoVJ31we7MRkcAQkPw$5liqrjS2F53ADAA9QqgyDTQXn3fV0xZkeftMENhm57c",
        "ARGON2I":
            "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$5ezb92F4V9SEQVBinS8LsA$LHDWbUhXzqsS/AJ/pvC9rHyIJSpWbphR1P1kSCO3uXY",
        "SSHA512":
            "{SSHA512}1g+p6uMkekIC2QNZ/lZGFnLKM1LCJ+EXe9Qoa9ta9BcCG4QkUg4Uvc5vbO2w1tcZl91u0B69BJKHgvgMxgTriQtf6hQ=",
        "SSHA256": "{SSHA256}oliZSSrDX/ahKNcGSEB2DI1cR1J8OryBYSlzxfHl1fwbYw2z",
        "PBKDF2": "{PBKDF2}$1$o.5cnc4PStPvUUNg$5000$a5bddb0cedff07bb79d70b062058f04c21a91f44",
        "PLAIN": "{PLAIN}secret",
    ]

    static func hash(_ scheme: String) throws -> String {
        guard let doveadm = Peers.find("doveadm") else { return try #require(committed[scheme]) }
        let r = try Peers.run(doveadm, ["pw", "-s", scheme, "-p", "secret"])
        #expect(r.status == 0, "\(r.output)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func user(_ scheme: String) -> String { scheme.lowercased().replacingOccurrences(of: "-", with: "") }

    @Test func usersLogInWithTheirOldPasswordsAndGetOurHash() async throws {
        try await blocking {
            // One wrong password per user must not ban the test's address.
            let s = try ServerProcess(smtp: "max_auth_failures = 100")
            try s.start()
            defer { s.stop() }
            let (imap, submission) = try {
                let p = try s.waitForPorts(["IMAP", "submission"]); return (p[0], p[1])
            }()
            let file = s.root.appendingPathComponent("users").path
            var lines = ["# exported from dovecot"]
            for scheme in Self.schemes {
                lines.append(
                    "\(Self.user(scheme)):\(try Self.hash(scheme)):5000:5000::/var/vmail/\(Self.user(scheme))::")
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)

            // The domain must exist first, and the message says how to add it.
            let missing = try s.cli(["import", "dovecot-passwd", file, "--domain", "example.org"])
            #expect(missing.status != 0)
            #expect(
                missing.out.contains(
                    "users:2: sha512crypt@example.org: domain example.org does not exist — add it with `mailroom domain add example.org`"
                ), "\(missing.out)")
            #expect(missing.out.contains("nothing changed"))
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)

            let dry = try s.cli(["import", "dovecot-passwd", file, "--domain", "example.org", "--dry-run"])
            #expect(dry.status == 0, "\(dry.out)\(dry.err)")
            #expect(dry.out.hasPrefix("would create:\n"), "\(dry.out)")
            #expect(
                dry.out.contains("/users:2: sha512crypt@example.org: account, password {SHA512-CRYPT} kept"),
                "\(dry.out)")
            #expect(dry.out.contains("dry run: nothing changed"))
            #expect(!(try s.cli(["account", "list"]).out.contains("sha512crypt@example.org")))

            let done = try s.cli(["import", "dovecot-passwd", file, "--domain", "example.org"])
            #expect(done.status == 0, "\(done.out)\(done.err)")
            #expect(done.out.contains("done: \(Self.schemes.count) created, 0 changed"), "\(done.out)")

            for scheme in Self.schemes {
                let address = "\(Self.user(scheme))@example.org"
                let before = try s.cli(["account", "show", address, "--json"])
                #expect(
                    try AdminJSON.decoder().decode(AccountView.self, from: Data(before.out.utf8)).passwordScheme
                        == scheme)
                #expect(try s.cli(["account", "show", address]).out.contains("imported as {\(scheme)}"))
                let wrong = Peers.converse(port: imap, "a LOGIN \(address) \"not the secret\"\r\nb LOGOUT\r\n", timeout: Self.slowHash)
                #expect(wrong.contains("a NO"), "\(scheme): \(wrong)")
                if scheme == "SSHA256" {
                    // SMTP AUTH goes the same way as IMAP LOGIN.
                    let plain = Data("\0\(address)\0secret".utf8).base64EncodedString()
                    let right = Peers.converse(port: submission, "EHLO c.test\r\nAUTH PLAIN \(plain)\r\nQUIT\r\n", timeout: Self.slowHash)
                    #expect(right.contains("235 "), "\(scheme): \(right)")
                } else {
                    let right = Peers.converse(port: imap, "a LOGIN \(address) secret\r\nb LOGOUT\r\n", timeout: Self.slowHash)
                    #expect(right.contains("a OK"), "\(scheme): \(right)")
                }
                let after = try s.cli(["account", "show", address, "--json"])
                #expect(
                    try AdminJSON.decoder().decode(AccountView.self, from: Data(after.out.utf8)).passwordScheme
                        == "SCRAM-SHA-256", "\(scheme)")
                // Our hash takes the same password, and only it.
                #expect(
                    Peers.converse(port: imap, "a LOGIN \(address) secret\r\nb LOGOUT\r\n").contains("a OK"),
                    "\(scheme)")
            }
            let audit = try s.cli(["audit", "--json"])
            #expect(audit.out.contains("account.rehash"), "\(audit.out.prefix(500))")
            #expect(audit.out.contains("import.dovecot-passwd"))
        }
    }
}
