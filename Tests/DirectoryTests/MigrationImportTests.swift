import Foundation
import Testing

@testable import Directory
@testable import MailCore
@testable import Storage

/// Imports from Dovecot and Postfix against a real (in-memory) store.
@Suite struct MigrationImportTests {
    let dir: DirectoryService
    let admin = AdminActor(name: "test", role: .serverAdmin)

    init() throws {
        dir = try DirectoryService(store: try SQLiteStore.inMemory(), passwordIterations: 4096)
        _ = try dir.addDomain("example.org", actor: admin)
        _ = try dir.addDomain("example.net", aliasOf: "example.org", actor: admin)
        _ = try dir.addDomain("other.org", actor: admin)
        _ = try dir.addAccount("alice@example.org", password: "alice-password-1", actor: admin)
        _ = try dir.addAlias("sales@example.org", targets: ["alice@example.org"], actor: admin)
    }

    func hash(_ address: String) throws -> String? {
        dir.snapshot.account(try EmailAddress(address))?.passwordHash
    }

    func auditCount(_ action: String) throws -> Int {
        try dir.auditLog(since: nil, target: nil, limit: 100, actor: admin).filter { $0.action == action }.count
    }

    static let passwd = """
        # from /etc/dovecot/users
        bob:{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5:1000:1000::/var/vmail/bob::
        carol@other.org:{PLAIN}carol-secret
        alice@example.org:{PLAIN}alice-new-password

        """

    @Test func dryRunReportsAndChangesNothing() throws {
        let r = try dir.importDovecotPasswd(
            Self.passwd, domain: "example.org", dryRun: true, actor: admin)
        #expect(!r.applied)
        #expect(r.created.map(\.address) == ["bob@example.org", "carol@other.org"])
        #expect(r.created.map(\.line) == [2, 3])
        #expect(r.changed.map(\.address) == ["alice@example.org"])
        #expect(r.conflicts.isEmpty)
        #expect(dir.snapshot.account(try EmailAddress("bob@example.org")) == nil)
        #expect(dir.authenticate(address: "alice@example.org", password: "alice-password-1") != nil)
        #expect(try auditCount("import.dovecot-passwd") == 0)
    }

    @Test func importKeepsHashesAndFirstLoginRehashes() throws {
        let r = try dir.importDovecotPasswd(Self.passwd, domain: "example.org", actor: admin)
        #expect(r.applied)
        #expect(r.created.count == 2 && r.changed.count == 1)
        #expect(try auditCount("import.dovecot-passwd") == 1)
        #expect(try hash("bob@example.org")?.hasPrefix("{SHA256-CRYPT}$5$saltstring$") == true)
        // Foreign hashes offer no SCRAM keys, and refuse wrong passwords.
        #expect(dir.scramCredentials(for: "bob@example.org") == nil)
        #expect(dir.authenticate(address: "bob@example.org", password: "Hello world") == nil)
        #expect(try hash("bob@example.org")?.hasPrefix("{SHA256-CRYPT}") == true)
        // The right one logs in, and the stored hash becomes ours.
        #expect(dir.authenticate(address: "bob@example.org", password: "Hello world!") != nil)
        let after = try #require(try hash("bob@example.org"))
        #expect(PasswordHash(after) != nil)
        #expect(dir.scramCredentials(for: "bob@example.org") != nil)
        #expect(dir.authenticate(address: "bob@example.org", password: "Hello world!") != nil)
        #expect(try auditCount("account.rehash") == 1)
        // Read back from the store too, not only the snapshot.
        let reloaded = try DirectoryService(store: dir.store, passwordIterations: 4096)
        #expect(reloaded.snapshot.account(try EmailAddress("bob@example.org"))?.passwordHash == after)
        // An existing account took the file's password.
        #expect(dir.authenticate(address: "alice@example.org", password: "alice-password-1") == nil)
        #expect(dir.authenticate(address: "alice@example.org", password: "alice-new-password") != nil)
        #expect(try dir.account("carol@other.org", actor: admin).passwordScheme == "PLAIN")
    }

    @Test func conflictsStopTheWholeImport() throws {
        let text = """
            bob@example.org:{PLAIN}bob-secret
            sales@example.org:{PLAIN}x
            dan@nowhere.org:{PLAIN}x
            eve@example.net:{PLAIN}x
            frank:{PLAIN}x
            bob@example.org:{PLAIN}again
            gina@example.org:{MD5}abc
            """
        let r = try dir.importDovecotPasswd(text, actor: admin)
        #expect(!r.applied)
        #expect(Set(r.conflicts.map(\.line)) == [2, 3, 4, 5, 6, 7])
        let byLine = Dictionary(uniqueKeysWithValues: r.conflicts.map { ($0.line, $0.detail) })
        #expect(byLine[2]?.contains("already an alias") == true)
        #expect(byLine[3]?.contains("mailroom domain add nowhere.org") == true)
        #expect(byLine[4]?.contains("alias of example.org") == true)
        #expect(byLine[5]?.contains("--domain") == true)
        #expect(byLine[6]?.contains("line 1") == true)
        #expect(byLine[7]?.contains("{MD5}") == true)
        #expect(dir.snapshot.account(try EmailAddress("bob@example.org")) == nil)
        #expect(try auditCount("import.dovecot-passwd") == 0)
    }

    @Test func domainAdminsImportOnlyTheirDomains() throws {
        let otherAdmin = AdminActor(name: "o", role: .domainAdmin, domains: [try DomainName("other.org")])
        let r = try dir.importDovecotPasswd(
            Self.passwd, domain: "example.org", actor: otherAdmin)
        #expect(!r.applied)
        #expect(Set(r.conflicts.map(\.line)) == [2, 4])
        #expect(r.created.map(\.address) == ["carol@other.org"])
        #expect(dir.snapshot.account(try EmailAddress("carol@other.org")) == nil)
    }

    @Test func postfixAliasesAndCatchAll() throws {
        let mailboxes = """
            bob@example.org      example.org/bob/
            alice@example.org    example.org/alice/
            """
        let m = try dir.importPostfixVirtual(mailboxes, mailboxMaps: true, actor: admin)
        #expect(m.applied)
        #expect(m.created.map(\.address) == ["bob@example.org"])
        #expect(m.unchanged.map(\.address) == ["alice@example.org"])
        let aliases = """
            example.org          anything
            team@example.org     bob@example.org, alice@example.org,
                                 friend@elsewhere.com
            boss@example.org     team@example.org
            sales@example.org    bob@example.org
            bob@example.org      bob@example.org
            @example.org         alice@example.org
            """
        let dry = try dir.importPostfixVirtual(aliases, dryRun: true, actor: admin)
        #expect(dry.conflicts == [])
        #expect(dry.created.map(\.address) == ["team@example.org", "boss@example.org"])
        #expect(dry.changed.map(\.address) == ["sales@example.org", "@example.org"])
        #expect(Set(dry.unchanged.map(\.line)) == [1, 6])
        #expect(dir.resolve("boss@example.org").kind != .alias)
        let r = try dir.importPostfixVirtual(aliases, actor: admin)
        #expect(r.applied)
        #expect(
            dir.snapshot.alias(try EmailAddress("team@example.org"))?.targets == [
                "bob@example.org", "alice@example.org", "friend@elsewhere.com",
            ])
        #expect(
            dir.snapshot.alias(try EmailAddress("sales@example.org"))?.targets == [
                "alice@example.org", "bob@example.org",
            ])
        #expect(dir.snapshot.domain(try DomainName("example.org"))?.catchAll == "alice@example.org")
        #expect(try auditCount("import.postfix-virtual") == 2)
        // Importing the same table again changes nothing.
        let again = try dir.importPostfixVirtual(aliases, actor: admin)
        #expect(again.created.isEmpty && again.changed.isEmpty && again.conflicts.isEmpty)
    }

    @Test func postfixConflicts() throws {
        let text = """
            a@example.org        nobody@example.org
            b@example.org        x, y@example.org
            @example.org         alice@example.org, sales@example.org
            alice@example.org    alice@example.org, alice@gmail.com
            c@example.org        example.org/c/
            d                    alice@example.org
            e@example.org        e@example.org
            other.net            anything
            f@example.org        alice@example.org
            """
        let r = try dir.importPostfixVirtual(text, actor: admin)
        #expect(!r.applied)
        let byLine = Dictionary(uniqueKeysWithValues: r.conflicts.map { ($0.line, $0.detail) })
        #expect(Set(byLine.keys) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(byLine[1]?.contains("does not exist") == true)
        #expect(byLine[2]?.contains("target x has no domain") == true)
        #expect(byLine[3]?.contains("one target") == true)
        #expect(byLine[4]?.contains("Sieve redirect") == true)
        #expect(byLine[5]?.contains("--mailbox-maps") == true)
        #expect(byLine[6]?.contains("has no domain") == true)
        #expect(byLine[7]?.contains("only to itself") == true)
        #expect(byLine[8]?.contains("mailroom domain add other.net") == true)
        #expect(r.created.map(\.address) == ["f@example.org"])
        #expect(dir.snapshot.alias(try EmailAddress("f@example.org")) == nil)
    }
}

extension MigrationImportTests {
    @Test func csvImportTakesForeignHashesAndNamesWhatIsWrongWithBadOnes() throws {
        let csv = """
            address,password_hash
            kim@example.org,{SSHA256}oliZSSrDX/ahKNcGSEB2DI1cR1J8OryBYSlzxfHl1fwbYw2z
            lee@example.org,{SHA512-CRYPT}$6$short$x
            """
        let refused = try dir.importAccounts(csv: csv, partial: false, actor: admin)
        #expect(refused.imported == 0)
        #expect(refused.errors.map(\.line) == [3])
        #expect(refused.errors.first?.message.contains("86 characters") == true, "\(refused.errors)")
        let partial = try dir.importAccounts(csv: csv, partial: true, actor: admin)
        #expect(partial.imported == 1)
        #expect(dir.authenticate(address: "kim@example.org", password: "secret") != nil)
        #expect(try hash("kim@example.org").flatMap(PasswordHash.init) != nil)
    }
}

/// Mangled input is refused or read, never a crash.
@Suite struct MigrationRobustnessTests {
    static let seeds = [
        "{SHA512-CRYPT}$6$rounds=7000$znWd7bUFcG4DvS5C$fs2kVMPxHgQ6XCLHj8CtA7ofdLrToQK3Mb2dk3Rq.7jofI6BnGs7u4DXgnexgX2wexjlYl02nmh8fnAclzlx2.",
        "{BLF-CRYPT}$2y$04$AFzTatGX5eTBZTAXjnyRke6UFAvr0G8h1rXSiEjKHk.xgcMJQkBbC",
        "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$5ezb92F4V9SEQVBinS8LsA$LHDWbUhXzqsS/AJ/pvC9rHyIJSpWbphR1P1kSCO3uXY",
        "{PBKDF2}$1$o.5cnc4PStPvUUNg$5000$a5bddb0cedff07bb79d70b062058f04c21a91f44",
        "{SSHA256}oliZSSrDX/ahKNcGSEB2DI1cR1J8OryBYSlzxfHl1fwbYw2z",
        "alice@example.org:{PLAIN}x:1:2::/home::a=b\n@example.org t@example.org,\n  u@x.org",
    ]

    @Test func mangledHashesAndLinesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("$={}:,@ \t\n\r.0123456789abcxyzABC/+#".unicodeScalars)
        for _ in 0..<3000 {
            var s = Array(Self.seeds.randomElement(using: &rng)!.unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<s.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: s[i] = alphabet.randomElement(using: &rng)!
                case 1: s.remove(at: i)
                default: s.insert(alphabet.randomElement(using: &rng)!, at: i)
                }
                if s.isEmpty { break }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: s)
            // Parsing only: a mangled hash that still parses is not verified (Argon2 and
            // SHA-crypt would take too long here).
            _ = try? ForeignPasswordHash(text)
            _ = DovecotPasswd.parse(text)
            _ = PostfixVirtual.parse(text)
        }
    }
}
