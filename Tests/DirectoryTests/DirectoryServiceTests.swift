import Foundation
import Testing

@testable import Directory
@testable import MailCore
@testable import Storage

/// Admin operations against a real (in-memory) store.
@Suite struct DirectoryServiceTests {
    let dir: DirectoryService
    let admin = AdminActor(name: "test", role: .serverAdmin)

    init() throws {
        dir = try DirectoryService(store: try SQLiteStore.inMemory(), passwordIterations: 4096)
        _ = try dir.addDomain("example.org", actor: admin)
        _ = try dir.addDomain("example.net", aliasOf: "example.org", actor: admin)
        _ = try dir.addDomain("other.org", actor: admin)
        _ = try dir.addAccount("alice@example.org", password: "alice-password-1", actor: admin)
        _ = try dir.addAccount("bob@example.org", actor: admin)
    }

    func code(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let e as AdminError { return e.code } catch { return "\(error)" }
    }

    /// The store's time (whole milliseconds) is never ahead of the clock: what is recorded
    /// "now" is due at any moment after. (A microsecond allows for the conversion's own
    /// rounding; rounding to the nearest millisecond was ahead by up to 500.)
    @Test func nowIsNeverAheadOfTheClock() {
        for _ in 0..<2000 { #expect(DirectoryService.now() <= Date().addingTimeInterval(0.000_001)) }
    }

    @Test func oneAddressSpace() {
        #expect(code { _ = try dir.addAccount("ALICE@example.org", actor: admin) } == "address_taken")
        // alias add on an account's address is a conflict, not an extension
        #expect(code { _ = try dir.addAlias("alice@example.org", targets: ["bob@example.org"], actor: admin) } == "address_taken")
        #expect(code { _ = try dir.createList("Alice@Example.org", actor: admin) } == "address_taken")
        #expect(code { _ = try dir.addAccount("x@example.net", actor: admin) } == "domain_is_alias")
        #expect(code { _ = try dir.addAccount("x@nowhere.org", actor: admin) } == "domain_not_found")
    }

    @Test func passwordsAreHashedAndChecked() throws {
        #expect(dir.authenticate(address: "alice@example.org", password: "alice-password-1") != nil)
        #expect(dir.authenticate(address: "ALICE@example.net", password: "alice-password-1") == nil)  // login names are exact addresses
        #expect(dir.authenticate(address: "alice@example.org", password: "wrong-password") == nil)
        let stored = try #require(dir.snapshot.account(try EmailAddress("alice@example.org"))?.passwordHash)
        #expect(!stored.contains("alice-password-1"))
        #expect(code { _ = try dir.addAccount("c@example.org", password: "short", actor: admin) } == "weak_password")
        let generated = try dir.setPassword("bob@example.org", generate: true, actor: admin)
        #expect(dir.authenticate(address: "bob@example.org", password: try #require(generated)) != nil)
    }

    @Test func disabledAccountsCannotLogInAndRefuseMail() throws {
        _ = try dir.updateAccount("alice@example.org", state: "disabled", actor: admin)
        #expect(dir.authenticate(address: "alice@example.org", password: "alice-password-1") == nil)
        #expect(dir.resolve("alice@example.org").kind == .disabled)
        _ = try dir.updateAccount("alice@example.org", state: "active", actor: admin)
        #expect(dir.resolve("alice@example.org").kind == .account)
    }

    @Test func renameKeepsIdentityAndFollowsReferences() throws {
        _ = try dir.createList("eng@example.org", members: ["alice@example.org"], actor: admin)
        _ = try dir.addAlias("boss@example.org", targets: ["alice@example.org"], actor: admin)
        let id = try #require(dir.snapshot.account(try EmailAddress("alice@example.org"))?.id)
        _ = try dir.renameAccount("alice@example.org", to: "alice.smith@example.org", keepAlias: true, actor: admin)
        #expect(dir.snapshot.account(try EmailAddress("alice.smith@example.org"))?.id == id)
        #expect(try dir.list("eng@example.org", actor: admin).members?.map(\.address) == ["alice.smith@example.org"])
        #expect(try dir.alias("boss@example.org", actor: admin).targets == ["alice.smith@example.org"])
        // the old address still delivers, through the kept alias
        #expect(dir.resolve("alice@example.org").recipients.map(\.address) == ["alice.smith@example.org"])
        #expect(dir.authenticate(address: "alice.smith@example.org", password: "alice-password-1") != nil)
        // and the snapshot matches what a fresh load from the store gives
        let loaded = try DirectorySnapshot(dir.store.loadDirectory()).entries
        for (k, v) in dir.snapshot.entries where loaded[k] != v { Issue.record("\(k): \(v) vs \(String(describing: loaded[k]))") }
    }

    @Test func removeAccountCleansUpAndSaysWhat() throws {
        _ = try dir.createList("eng@example.org", members: ["alice@example.org", "bob@example.org"], actor: admin)
        _ = try dir.addAlias("only@example.org", targets: ["alice@example.org"], actor: admin)
        let r = try dir.removeAccount("alice@example.org", actor: admin)
        #expect(r.removed.contains { $0.contains("membership of list eng@example.org") })
        #expect(r.removed.contains { $0.contains("alias only@example.org") })
        #expect(dir.resolve("only@example.org").kind == .unknown)
        #expect(try dir.list("eng@example.org", actor: admin).members?.map(\.address) == ["bob@example.org"])
        #expect(try DirectorySnapshot(dir.store.loadDirectory()).entries == dir.snapshot.entries)
    }

    @Test func domainRemovalRefusedWhileInUse() throws {
        #expect(code { try dir.removeDomain("example.org", actor: admin) } == "domain_not_empty")
        try dir.removeDomain("other.org", actor: admin)
        #expect(code { _ = try dir.domain("other.org", actor: admin) } == "domain_not_found")
    }

    @Test func listTargetsMustExistLocally() {
        #expect(code { _ = try dir.createList("l@example.org", members: ["ghost@example.org"], actor: admin) } == "unknown_target")
        #expect(code { _ = try dir.createList("l@example.org", members: ["someone@elsewhere.com"], actor: admin) } == nil)
        #expect(code { _ = try dir.addMembers("l@example.org", ["l@example.org"], actor: admin) } == "list_loop")
    }

    @Test func nestedListCycleResolvesOnceEach() throws {
        _ = try dir.createList("a@example.org", members: ["alice@example.org"], actor: admin)
        _ = try dir.createList("b@example.org", members: ["bob@example.org", "a@example.org"], actor: admin)
        _ = try dir.addMembers("a@example.org", ["b@example.org"], actor: admin)
        let r = try dir.expandList("a@example.org", actor: admin)
        #expect(r.recipients.map(\.address).sorted() == ["alice@example.org", "bob@example.org"])
        #expect(code { try dir.deleteList("b@example.org", actor: admin) } == "list_in_use")
    }

    @Test func listPolicyNeedsWhatItNames() {
        #expect(code { _ = try dir.createList("l@example.org", actor: admin) } == nil)
        #expect(code { _ = try dir.updateList("l@example.org", postingPolicy: "senders", actor: admin) } == "senders_required")
        #expect(code { _ = try dir.updateList("l@example.org", postingPolicy: "moderated", actor: admin) } == "moderators_required")
        #expect(code { _ = try dir.updateList("l@example.org", postingPolicy: "whoever", actor: admin) } == "invalid_policy")
        #expect(code { _ = try dir.updateList("l@example.org", postingPolicy: "moderated", moderators: ["alice@example.org"], actor: admin) } == nil)
    }

    @Test func domainAdminSeesOnlyItsDomains() throws {
        let da = AdminActor(name: "da", role: .domainAdmin, domains: [try DomainName("other.org")])
        #expect(dir.domains(actor: da).map(\.name) == ["other.org"])
        #expect(code { _ = try dir.addAccount("x@example.org", actor: da) } == "forbidden")
        #expect(code { _ = try dir.account("alice@example.org", actor: da) } == "forbidden")
        #expect(code { _ = try dir.accounts(domain: nil, page: 1, limit: 10, actor: da) } == "domain_required")
        #expect(code { _ = try dir.addAccount("x@other.org", actor: da) } == nil)
        #expect(code { _ = try dir.addDomain("new.org", actor: da) } == "forbidden")
        #expect(code { _ = try dir.resolveView("alice@example.org", actor: da) } == "forbidden")
        #expect(try dir.auditLog(since: nil, target: nil, limit: 100, actor: da).allSatisfy { $0.domain == "other.org" })
    }

    @Test func everyChangeIsAudited() throws {
        _ = try dir.updateAccount("bob@example.org", name: "Bob B", actor: admin)
        let log = try dir.auditLog(since: nil, target: "bob@example.org", limit: 10, actor: admin)
        let entry = try #require(log.first)
        #expect(entry.action == "account.update")
        #expect(entry.before?.contains("\"name\":\"\"") == true)
        #expect(entry.after?.contains("Bob B") == true)
        // password hashes never reach the audit log
        let all = try dir.auditLog(since: nil, target: nil, limit: 1000, actor: admin)
        #expect(!all.contains { ($0.after ?? "").contains("SCRAM") || ($0.before ?? "").contains("SCRAM") })
    }

    @Test func importIsAllOrNothingUnlessPartial() throws {
        let csv = """
            address,name,quota,password
            carol@example.org,Carol,1G,carol-password-1
            bad address,X,,
            alice@example.org,Dup,,
            dave@example.org,Dave,lots,
            erin@example.org,"Erin, E.",,erin-password-1
            """
        let refused = try dir.importAccounts(csv: csv, partial: false, actor: admin)
        #expect(refused.imported == 0)
        #expect(refused.errors.map(\.line) == [3, 4, 5])
        #expect(dir.resolve("carol@example.org").kind == .unknown)
        let partial = try dir.importAccounts(csv: csv, partial: true, actor: admin)
        #expect(partial.imported == 2)
        #expect(dir.authenticate(address: "erin@example.org", password: "erin-password-1") != nil)
        #expect(try dir.account("erin@example.org", actor: admin).name == "Erin, E.")
        // export then re-import elsewhere keeps the password hashes
        let exported = try dir.exportAccounts(domain: "example.org", actor: admin)
        let other = try DirectoryService(store: try SQLiteStore.inMemory(), passwordIterations: 4096)
        _ = try other.addDomain("example.org", actor: admin)
        let back = try other.importAccounts(
            csv: exported.replacingOccurrences(of: "address,name,quota,password_hash", with: "address,name,quota,password_hash"),
            partial: false, actor: admin)
        #expect(back.imported == 4)
        #expect(other.authenticate(address: "carol@example.org", password: "carol-password-1") != nil)
    }

    @Test func tokensAuthenticateUntilRevoked() throws {
        let created = try dir.createToken(name: "helpdesk", role: "domain-admin", domains: ["example.org"], actor: admin)
        let actor = try #require(dir.actor(bearer: created.secret, sourceIP: "192.0.2.1"))
        #expect(actor.role == .domainAdmin)
        #expect(!(try dir.store.tokens().contains { $0.secretHash == created.secret }))
        try dir.revokeToken(created.token.id, actor: admin)
        #expect(dir.actor(bearer: created.secret, sourceIP: nil) == nil)
        #expect(dir.actor(bearer: "mrt_guess", sourceIP: nil) == nil)
        #expect(code { _ = try dir.createToken(name: "x", role: "domain-admin", actor: admin) } == "domains_required")
    }

    @Test func catchAllFollowsTheDirectory() throws {
        _ = try dir.updateDomain("example.org", catchAll: "bob@example.org", actor: admin)
        #expect(dir.resolve("whoever@example.net").recipients.map(\.address) == ["bob@example.org"])
        #expect(code { _ = try dir.updateDomain("example.org", catchAll: "ghost@example.org", actor: admin) } == "unknown_target")
        _ = try dir.updateDomain("example.org", catchAll: "", actor: admin)
        #expect(dir.resolve("whoever@example.org").kind == .unknown)
    }

    @Test func oversizedAndControlFieldsAreRefused() {
        #expect(code { _ = try dir.addAccount("z@example.org", name: String(repeating: "n", count: 300), actor: admin) } == "field_too_long")
        #expect(code { _ = try dir.addAccount("z@example.org", name: "a\u{1b}[31m", actor: admin) } == "invalid_field")
        #expect(code { _ = try dir.addAccount("z@example.org", quota: "lots", actor: admin) } == "invalid_quota")
    }
}
