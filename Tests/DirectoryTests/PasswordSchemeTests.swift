import Foundation
import TestSupport
import Testing

@testable import Directory

/// Hashes from other mail systems, checked against what Dovecot itself makes.
@Suite struct PasswordSchemeTests {
    /// Made with `doveadm pw -s SCHEME -p PASSWORD` (Dovecot 2.3), so the schemes are tested
    /// where Dovecot is not installed.
    static let vectors: [(String, String)] = [
        (
            "secret",
            "{SHA512-CRYPT}$6$Brq./hkBDtpnPFk4$eKeLcmY1t3XcCxXvN5mCFRUT3QmBrEB2MSmhWl9.PqiHTHwUec2teUkq.2k//sEtkccMAMXONfv.H8nyQYwJt/"
        ),
        (
            "pässword1",
            "{SHA512-CRYPT}$6$agzWd.WCr.LmrsSN$pssjJiPzJ5vfa/VE5b9MWHY4XNJdavkIvM2jkgoTES59IjMbdbMAotBfB7OfFonozYimM.QFsql/8FU9xd9Ez."
        ),
        (
            "correct horse battery staple",
            "{SHA512-CRYPT}$6$UhXG5NwxpRymrQLU$QB7A9IjozLyWBBgevYsnVH3R9jrT/g.YX98MlvMiTbIWksr83Wa9q7Bdy13nzyvLPU4kYJjeK543UP20ywoNH/"
        ),
        (
            "secret",
            "{SHA512-CRYPT}$6$rounds=7000$znWd7bUFcG4DvS5C$fs2kVMPxHgQ6XCLHj8CtA7ofdLrToQK3Mb2dk3Rq.7jofI6BnGs7u4DXgnexgX2wexjlYl02nmh8fnAclzlx2."
        ),
        ("secret", "{SHA256-CRYPT}$5$.9E5Kk9fXxucoRzL$cOXZlrQjeJ4jHzipXxTKLd/iRuygV6cEjuprfVFbgu9"),
        ("pässword1", "{SHA256-CRYPT}$5$x3VnR8.JvGerYQmh$q9g07I2q2WT.q.W8cCAeKpb/UjPQMXmo/XPyIAMx5B5"),
        (
            "correct horse battery staple",
            "{SHA256-CRYPT}$5$y/3foZVOMRAH0SDS$sKuIhDe0euzES2o.5gDJO5iJkrP7hWoDMZ1hk0xusk6"
        ),
        // Drepper's own test vector (the salt's "rounds" default, 5000).
        ("Hello world!", "{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
        ("secret", "{BLF-CRYPT}$2y$05$dQpSJFTjbu.OBsvFnqDSvuJayMNcFkvjDoahpQdAPOPigZJz/mOVy"),
        ("pässword1", "{BLF-CRYPT}$2y$05$IR6A4YkuEe3cMPtXY3TX6e0IFKP.aWGpuxYuH/O4Pj7EiNf9tCiBi"),
        ("correct horse battery staple", "{BLF-CRYPT}$2y$05$1tbzV9LX73wD1LttrEYqAevl5f3nuDu0K5ZV39a8nerb34HBUmAaa"),
        ("x", "{BLF-CRYPT}$2y$04$AFzTatGX5eTBZTAXjnyRke6UFAvr0G8h1rXSiEjKHk.xgcMJQkBbC"),
        (
            "secret",
            "{SSHA512}1g+p6uMkekIC2QNZ/lZGFnLKM1LCJ+EXe9Qoa9ta9BcCG4QkUg4Uvc5vbO2w1tcZl91u0B69BJKHgvgMxgTriQtf6hQ="
        ),
        (
            "pässword1",
            "{SSHA512}HXmeLonAJ8wngPN/uw9K9uAnsF8DZ/p5LpLbOTylqcaBvAryH5rMfk68O5DnhMOn2w3CetThqP2Auye8uZLid2w5k2Y="
        ),
        (
            "correct horse battery staple",
            "{SSHA512}hXHysukQvT2jbFq9vD0zX2+H3SAn8kuyYvjbN6qJcWtmjfniykUgqDbaHonNsBjgFnB1e7/hqFFKyrQ8KtoF+uQksQo="
        ),
        ("secret", "{SSHA256}oliZSSrDX/ahKNcGSEB2DI1cR1J8OryBYSlzxfHl1fwbYw2z"),
        ("pässword1", "{SSHA256}Gw9/TKLIbAbSNGfrdbcydaiEj2Tug4MxHED5PkXA7Iz50Nkd"),
        ("correct horse battery staple", "{SSHA256}Cr2lYzWcRc0n/q0T0denMxTcxSeX6wtrUAdfVwOcl7Xx4xhl"),
        ("secret", "{PBKDF2}$1$o.5cnc4PStPvUUNg$5000$a5bddb0cedff07bb79d70b062058f04c21a91f44"),
        ("pässword1", "{PBKDF2}$1$nRlZWAhow/ff.F6c$5000$b986173f7aabcd714b8e4feb59bf550793435cd9"),
        ("correct horse battery staple", "{PBKDF2}$1$v2t7HhKqNea18tpD$5000$16ad0153143ba6fc4a784547cfa686b7fd9216bc"),
        (
            "secret",
            "{CRYPT}$6$Brq./hkBDtpnPFk4$eKeLcmY1t3XcCxXvN5mCFRUT3QmBrEB2MSmhWl9.PqiHTHwUec2teUkq.2k//sEtkccMAMXONfv.H8nyQYwJt/"
        ),
        ("x", "{CRYPT}$2y$04$AFzTatGX5eTBZTAXjnyRke6UFAvr0G8h1rXSiEjKHk.xgcMJQkBbC"),
        ("secret", "{PLAIN}secret"),
        ("pässword1", "{PLAIN}pässword1"),
        ("correct horse battery staple", "{CLEARTEXT}correct horse battery staple"),
    ]

    @Test(arguments: vectors)
    func knownAnswer(_ password: String, _ hash: String) throws {
        let h = try ForeignPasswordHash(hash)
        #expect(h.verify(password), "\(hash) should accept \(password)")
        #expect(!h.verify(password + "x"))
        #expect(!h.verify(String(password.dropLast())))
        #expect(!h.verify(""))
    }

    static let schemes = ["SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "SSHA512", "SSHA256", "PBKDF2", "PLAIN"]

    @Test(.enabled(if: Peers.shouldRun(Peers.find("doveadm") != nil)), arguments: schemes)
    func hashesFromDoveadm(_ scheme: String) throws {
        let doveadm = try #require(Peers.find("doveadm"))
        for password in [
            "secret", "pässword1", "correct horse battery staple", "tab\there", String(repeating: "long", count: 30),
        ] {
            let out = try Peers.run(doveadm, ["pw", "-s", scheme, "-p", password])
            #expect(out.status == 0, "\(out.output)")
            let hash = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let h = try ForeignPasswordHash(hash)
            #expect(h.verify(password), "\(hash) should accept \(password)")
            // bcrypt reads only the first 72 bytes, so the wrong password differs at the front.
            #expect(!h.verify("1" + password), "\(hash) accepts a wrong password")
        }
    }

    static let malformed: [(String, String)] = [
        ("$6$salt$hash", "does not start with {SCHEME}"),
        ("{MD5-CRYPT}$1$abc$def", "cannot check"),
        ("{SHA512-CRYPT}", "is not in the form"),
        ("{SHA512-CRYPT}$5$salt$abc", "is not in the form"),
        ("{SHA512-CRYPT}$6$salt$tooShort", "is not 86 characters"),
        ("{SHA512-CRYPT}$6$rounds=99999999999$salt$x", "rounds"),
        ("{SHA256-CRYPT}$5$rounds=abc$salt$x", "bad rounds"),
        ("{BLF-CRYPT}$2y$05$short", "53 characters"),
        ("{BLF-CRYPT}$2y$31$dQpSJFTjbu.OBsvFnqDSvuJayMNcFkvjDoahpQdAPOPigZJz/mOVy", "cost 31"),
        ("{BLF-CRYPT}$2x$05$dQpSJFTjbu.OBsvFnqDSvuJayMNcFkvjDoahpQdAPOPigZJz/mOVy", "versions"),
        ("{SSHA512}not base64!", "base64"),
        ("{SSHA256}oliZSSrD", "base64"),
        ("{PBKDF2}$1$salt$5000$zz", "PBKDF2"),
        ("{PBKDF2}$1$salt$0$a5bddb0cedff07bb79d70b062058f04c21a91f44", "PBKDF2"),
        ("{PBKDF2}$1$salt$999999999$a5bddb0cedff07bb79d70b062058f04c21a91f44", "rounds"),
        ("{PLAIN}", "empty"),
        ("{CRYPT}$y$j9T$abc$def", "yescrypt"),
        ("{CRYPT}abJnggxhB/yWI", "{CRYPT}"),
    ]

    @Test(arguments: malformed)
    func malformedHashesAreRefusedWithAReason(_ text: String, _ reason: String) {
        #expect(throws: PasswordSchemeError.self) { try ForeignPasswordHash(text) }
        do {
            _ = try ForeignPasswordHash(text)
        } catch {
            #expect(error.message.contains(reason), "\(text): \(error.message)")
        }
        #expect(StoredPassword(text) == nil)
    }

    @Test func storedPasswordTellsOursFromForeign() throws {
        let ours = try PasswordHash.make(password: "pencil-pencil", iterations: 4096)
        #expect(StoredPassword(ours.description) == .native(ours))
        guard case .foreign(let f) = StoredPassword("{PLAIN}pencil") else {
            Issue.record("a {PLAIN} hash is a foreign one")
            return
        }
        #expect(f.scheme == .plain)
        #expect(throws: PasswordSchemeError.self) { try StoredPassword.validate("SCRAM-SHA-256$1:abc$def:ghi") }
    }
}
