import Foundation
import Testing

@testable import MailCore
@testable import Storage
import TestSupport

/// What any ``DirectoryStore`` must do, run through the protocol against each implementation:
/// SQLite in memory (one connection) and on disk (WAL, a writer and readers). Audit entries
/// written with a change are read back through ``EventStore``.
@Suite struct DirectoryStoreContractTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A store with example.org and ann (id 1) and bob (id 2).
    static func store(_ kind: StoreKind) throws -> any DirectoryStore & EventStore {
        try kind.make(accounts: ["ann@example.org", "bob@example.org"])
    }

    static func audit(_ action: String, at: Date = t0) -> AuditEntry {
        AuditEntry(
            at: at, actor: "admin", action: action, target: "t", domain: nil, before: nil, after: nil, sourceIP: nil)
    }

    @Test(arguments: StoreKind.allCases)
    func writesAreAllOrNothingWithTheirAudit(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        try store.healthCheck()
        let before = try store.loadDirectory()
        #expect(before.domains.map(\.name.ascii) == ["example.org"])
        #expect(before.accounts.map(\.address.description) == ["ann@example.org", "bob@example.org"])
        let ids = try store.write(
            [
                .insertAlias(
                    AliasRecord(
                        address: try EmailAddress("sales@example.org"), targets: ["ann@example.org"], createdAt: Self.t0
                    )),
                .insertList(
                    ListRecord(
                        address: try EmailAddress("eng@example.org"), members: ["bob@example.org"], createdAt: Self.t0)),
            ], audit: [Self.audit("alias.add")])
        #expect(ids.count == 2)
        let after = try store.loadDirectory()
        #expect(after.aliases.map(\.id) == [ids[0]] && after.aliases[0].targets == ["ann@example.org"])
        #expect(after.lists.map(\.id) == [ids[1]] && after.lists[0].members == ["bob@example.org"])
        // An address is one thing's: taken by an account, by an alias, by a list, in any case.
        for taken in ["ann@example.org", "SALES@example.org", "eng@example.org"] {
            #expect(throws: StoreError.self) {
                try store.write(
                    [.insertAlias(AliasRecord(address: try EmailAddress(taken), targets: [], createdAt: Self.t0))],
                    audit: [])
            }
        }
        #expect(throws: StoreError.domainTaken("example.org")) {
            try store.write(
                [.insertDomain(DomainRecord(name: try DomainName("example.org"), createdAt: Self.t0))], audit: [])
        }
        // A failing write leaves nothing behind: not the domain before it, not its audit entry.
        #expect(throws: StoreError.self) {
            try store.write(
                [
                    .insertDomain(DomainRecord(name: try DomainName("example.net"), createdAt: Self.t0)),
                    .insertAccount(AccountRecord(address: try EmailAddress("ann@example.org"), createdAt: Self.t0)),
                ], audit: [Self.audit("domain.add")])
        }
        #expect(try store.loadDirectory().domains.map(\.name.ascii) == ["example.org"])
        #expect(try store.auditEntries(since: nil, target: nil, domains: nil, limit: 10).map(\.action) == ["alias.add"])
        // Changing or removing what is not there.
        #expect(throws: StoreError.self) { try store.write([.deleteAccount(id: 999)], audit: []) }
        #expect(throws: StoreError.self) { try store.write([.deleteDomain(id: 999)], audit: []) }
        // A removed address is free again.
        try store.write([.deleteAlias(id: ids[0])], audit: [])
        try store.write(
            [
                .insertAlias(
                    AliasRecord(address: try EmailAddress("sales@example.org"), targets: [], createdAt: Self.t0))
            ], audit: [])
        #expect(try store.loadDirectory().aliases.count == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func accountsArePagedByAddress(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        let domain = try #require(try store.loadDirectory().domains.first?.id)
        try store.write(
            [
                .insertDomain(DomainRecord(name: try DomainName("example.net"), createdAt: Self.t0)),
                .insertAccount(AccountRecord(address: try EmailAddress("abe@example.net"), createdAt: Self.t0)),
            ], audit: [])
        #expect(try store.accountCount(domainID: nil) == 3)
        #expect(try store.accountCount(domainID: domain) == 2)
        #expect(
            try store.accounts(domainID: nil, offset: 0, limit: 10).map(\.address.description) == [
                "abe@example.net", "ann@example.org", "bob@example.org",
            ])
        #expect(
            try store.accounts(domainID: nil, offset: 1, limit: 1).map(\.address.description) == ["ann@example.org"])
        #expect(
            try store.accounts(domainID: domain, offset: 0, limit: 10).map(\.address.description) == [
                "ann@example.org", "bob@example.org",
            ])
        let bob = try #require(try store.loadDirectory().accounts.first { $0.address.description == "bob@example.org" })
        #expect(try store.accountAddress(id: bob.id) == "bob@example.org")
        #expect(try store.accountAddress(id: 999) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func tokensAndRolesRoundTrip(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        let org = try DomainName("example.org")
        let id = try store.insertToken(
            TokenRecord(name: "ops", secretHash: "h-ops", role: .domainAdmin, domains: [org], createdAt: Self.t0),
            audit: Self.audit("token.add"))
        let other = try store.insertToken(
            TokenRecord(name: "ci", secretHash: "h-ci", role: .serverAdmin, domains: [], createdAt: Self.t0), audit: nil
        )
        #expect(id != other)
        #expect(try store.tokens().map(\.name) == ["ops", "ci"])
        let found = try #require(try store.token(secretHash: "h-ops"))
        #expect(found.id == id && found.role == .domainAdmin && found.domains == [org] && found.createdAt == Self.t0)
        #expect(found.lastUsedAt == nil && found.revokedAt == nil)
        #expect(try store.token(secretHash: "h-none") == nil)
        try store.markTokenUsed(id: id, at: Self.t0 + 5)
        try store.revokeToken(id: id, at: Self.t0 + 10, audit: Self.audit("token.revoke"))
        let revoked = try #require(try store.token(secretHash: "h-ops"))
        #expect(revoked.lastUsedAt == Self.t0 + 5 && revoked.revokedAt == Self.t0 + 10)
        #expect(try store.token(secretHash: "h-ci")?.revokedAt == nil)
        #expect(throws: StoreError.notFound("token 999")) { try store.revokeToken(id: 999, at: Self.t0, audit: nil) }
        #expect(
            try store.auditEntries(since: nil, target: nil, domains: nil, limit: 10).map(\.action) == [
                "token.revoke", "token.add",
            ])

        #expect(try store.accountRoles().isEmpty)
        try store.setAccountRole(
            accountID: 1, AccountRole(role: .domainAdmin, domains: [org]), audit: Self.audit("role.set"))
        try store.setAccountRole(accountID: 2, AccountRole(role: .serverAdmin), audit: Self.audit("role.set"))
        #expect(
            try store.accountRoles() == [
                1: AccountRole(role: .domainAdmin, domains: [org]), 2: AccountRole(role: .serverAdmin),
            ])
        try store.setAccountRole(accountID: 1, nil, audit: Self.audit("role.remove"))
        #expect(try store.accountRoles() == [2: AccountRole(role: .serverAdmin)])
    }

    @Test(arguments: StoreKind.allCases)
    func appPasswordsBelongToTheirAccount(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        let phone = try store.insertAppPassword(
            accountID: 1, name: "phone", secretHash: "h1", at: Self.t0, audit: Self.audit("app-password.add"))
        let laptop = try store.insertAppPassword(
            accountID: 1, name: "laptop", secretHash: "h2", at: Self.t0 + 1, audit: Self.audit("app-password.add"))
        let bobs = try store.insertAppPassword(
            accountID: 2, name: "phone", secretHash: "h3", at: Self.t0, audit: Self.audit("app-password.add"))
        #expect(try store.appPasswords(accountID: 1).map(\.id) == [laptop, phone])
        #expect(try store.appPasswords(accountID: 1).map(\.name) == ["laptop", "phone"])
        #expect(try store.appPassword(accountID: 1, secretHash: "h2")?.id == laptop)
        // Another account's secret is not this account's.
        #expect(try store.appPassword(accountID: 1, secretHash: "h3") == nil)
        try store.markAppPasswordUsed(id: laptop, at: Self.t0 + 60)
        #expect(try store.appPassword(accountID: 1, secretHash: "h2")?.lastUsedAt == Self.t0 + 60)
        #expect(try store.appPassword(accountID: 1, secretHash: "h1")?.lastUsedAt == nil)
        #expect(throws: StoreError.self) {
            try store.deleteAppPassword(accountID: 1, id: bobs, audit: Self.audit("app-password.remove"))
        }
        try store.deleteAppPassword(accountID: 1, id: phone, audit: Self.audit("app-password.remove"))
        #expect(try store.appPasswords(accountID: 1).map(\.id) == [laptop])
        #expect(try store.appPasswords(accountID: 2).map(\.id) == [bobs])
        #expect(throws: StoreError.self) {
            try store.deleteAppPassword(accountID: 1, id: phone, audit: Self.audit("app-password.remove"))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func totpStepsAndRecoveryCodesAreUsedOnce(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        #expect(try store.totp(accountID: 1) == nil)
        #expect(try !store.consumeTOTP(accountID: 1, step: 1, recoveryHash: nil))
        let record = TOTPRecord(secret: [1, 2, 3], enabled: true, recovery: ["r1", "r2"], lastStep: 0)
        try store.setTOTP(accountID: 1, record, audit: Self.audit("totp.enable"))
        #expect(try store.totp(accountID: 1) == record)
        #expect(try store.consumeTOTP(accountID: 1, step: 100, recoveryHash: nil))
        #expect(try !store.consumeTOTP(accountID: 1, step: 100, recoveryHash: nil))
        #expect(try !store.consumeTOTP(accountID: 1, step: 99, recoveryHash: nil))
        #expect(try store.consumeTOTP(accountID: 1, step: 101, recoveryHash: nil))
        #expect(try store.totp(accountID: 1)?.lastStep == 101)
        #expect(try store.consumeTOTP(accountID: 1, step: nil, recoveryHash: "r1"))
        #expect(try !store.consumeTOTP(accountID: 1, step: nil, recoveryHash: "r1"))
        #expect(try !store.consumeTOTP(accountID: 1, step: nil, recoveryHash: "r9"))
        #expect(try store.totp(accountID: 1)?.recovery == ["r2"])
        // Another account's state is its own.
        #expect(try !store.consumeTOTP(accountID: 2, step: 200, recoveryHash: nil))
        try store.setTOTP(accountID: 1, nil, audit: nil)
        #expect(try store.totp(accountID: 1) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func passwordResetLinksAnswerUntilUsedOrExpired(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        try store.insertPasswordReset(
            tokenHash: "link", accountID: 2, expires: Self.t0 + 3600, audit: Self.audit("reset.send"))
        try store.insertPasswordReset(
            tokenHash: "short", accountID: 1, expires: Self.t0 + 60, audit: Self.audit("reset.send"))
        #expect(try store.passwordReset(tokenHash: "link", now: Self.t0, consume: false) == 2)
        #expect(try store.passwordReset(tokenHash: "link", now: Self.t0, consume: false) == 2)
        #expect(try store.passwordReset(tokenHash: "link", now: Self.t0, consume: true) == 2)
        #expect(try store.passwordReset(tokenHash: "link", now: Self.t0, consume: true) == nil)
        #expect(try store.passwordReset(tokenHash: "short", now: Self.t0 + 61, consume: false) == nil)
        // Once forgotten as expired, it stays so even if asked about with an earlier time.
        #expect(try store.passwordReset(tokenHash: "short", now: Self.t0, consume: true) == nil)
        #expect(try store.passwordReset(tokenHash: "never", now: Self.t0, consume: true) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func consoleSessionsAreTouchedEndedAndExpired(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        func session(_ id: String, _ account: Int64, created: Date) -> ConsoleSessionRecord {
            ConsoleSessionRecord(
                idHash: id, accountID: account, csrf: "c-\(id)", verified: false, createdAt: created,
                lastSeenAt: created, ip: "192.0.2.1")
        }
        let s1 = session("s1", 1, created: Self.t0)
        try store.insertConsoleSession(s1)
        try store.insertConsoleSession(session("s2", 1, created: Self.t0 + 10))
        try store.insertConsoleSession(session("s3", 2, created: Self.t0 + 20))
        try store.insertConsoleSession(session("s4", 2, created: Self.t0 - 86400))
        #expect(try store.consoleSession(idHash: "s1") == s1)
        #expect(try store.consoleSession(idHash: "none") == nil)
        try store.touchConsoleSession(idHash: "s1", at: Self.t0 + 100, verified: true)
        let touched = try #require(try store.consoleSession(idHash: "s1"))
        #expect(touched.lastSeenAt == Self.t0 + 100 && touched.verified && touched.createdAt == Self.t0)
        // Another account's session is not ended by this one's id.
        #expect(try store.deleteConsoleSessions(accountID: 1, idHash: "s3") == 0)
        #expect(try store.deleteConsoleSessions(accountID: 1, idHash: "s2") == 1)
        #expect(try store.consoleSession(idHash: "s2") == nil)
        // Idle since t0 + 15 (s1 was seen at t0 + 100, s3 at t0 + 20), or made more than a day ago.
        #expect(try store.expireConsoleSessions(idleBefore: Self.t0 + 15, createdBefore: Self.t0 - 3600) == 1)
        #expect(try store.consoleSession(idHash: "s4") == nil)
        #expect(try store.expireConsoleSessions(idleBefore: Self.t0 + 50, createdBefore: Self.t0 - 3600) == 1)
        #expect(try store.consoleSession(idHash: "s3") == nil)
        try store.insertConsoleSession(session("s5", 1, created: Self.t0 + 200))
        #expect(try store.deleteConsoleSessions(accountID: 1, idHash: nil) == 2)
        #expect(try store.consoleSession(idHash: "s1") == nil && store.consoleSession(idHash: "s5") == nil)
    }
}
