import Crypto
import Foundation
import LoginKit
import MailCore
import Storage

/// What the web console needs of the directory: who may administer, second factors and app
/// passwords. Each change is audited like every other directory change.
extension DirectoryService {
    // MARK: Roles

    /// `mailroom account set ADDRESS --role …`: `server-admin`, `domain-admin` (with the
    /// domains it manages) or `user`. Only a server admin gives roles.
    public func setRole(_ address: String, role: String, domains: [String], actor: AdminActor) throws -> AccountRoleView {
        try requireServerAdmin(actor, "give console roles")
        let snap = snapshot
        let account = try existingAccount(address, actor, in: snap)
        let new: AccountRole?
        switch role {
        case "user":
            guard domains.isEmpty else { throw AdminError.invalid("invalid_domains", "only a domain admin has domains") }
            new = nil
        case TokenRole.serverAdmin.rawValue:
            guard domains.isEmpty else { throw AdminError.invalid("invalid_domains", "a server admin manages every domain; give no --domain") }
            new = AccountRole(role: .serverAdmin)
        case TokenRole.domainAdmin.rawValue:
            guard !domains.isEmpty else {
                throw AdminError.invalid("domains_required", "a domain admin needs at least one --domain it manages")
            }
            let names = try domains.map { text -> DomainName in
                let name = try Self.parseDomain(text)
                guard snap.domain(name) != nil else { throw AdminError.domainMissing(name) }
                return name
            }
            new = AccountRole(role: .domainAdmin, domains: names)
        default:
            throw AdminError.invalid("invalid_role", "role must be server-admin, domain-admin or user")
        }
        let before = try store.accountRoles()[account.id]
        let entry = audit(
            actor, "account.role", target: account.address.description, domain: account.address.domain,
            before: AccountRoleView(address: account.address.description, role: before), after: AccountRoleView(address: account.address.description, role: new))
        try store.setAccountRole(accountID: account.id, new, audit: entry)
        // A changed role takes effect at once: sessions signed in under the old one end.
        try store.deleteConsoleSessions(accountID: account.id, idHash: nil)
        return AccountRoleView(address: account.address.description, role: new)
    }

    public func role(_ address: String, actor: AdminActor) throws -> AccountRoleView {
        let account = try existingAccount(address, actor, in: snapshot)
        return AccountRoleView(address: account.address.description, role: try store.accountRoles()[account.id])
    }

    /// The admin rights an account signs in to the console with; nil for a plain user.
    public func consoleActor(_ account: AccountRecord, sourceIP: String?) -> AdminActor? {
        guard let role = try? store.accountRoles()[account.id] else { return nil }
        return AdminActor(name: account.address.description, role: role.role, domains: Set(role.domains), sourceIP: sourceIP)
    }

    /// The actor for what a person does to their own account on the self-service pages:
    /// every operation it is given names that account and no other (the console sees to it).
    public func selfActor(_ account: AccountRecord, sourceIP: String?) -> AdminActor {
        AdminActor(name: account.address.description, role: .domainAdmin, domains: [account.address.domain], sourceIP: sourceIP)
    }

    // MARK: App passwords

    /// App passwords look like `abcd-efgh-ijkl-mnop`: 16 letters from a 26-letter alphabet,
    /// 75 bits, typed on a phone without a symbol keyboard.
    static func isAppPasswordShaped(_ p: String) -> Bool {
        let u = Array(p.utf8)
        guard u.count == 19 else { return false }
        for (i, c) in u.enumerated() {
            if i % 5 == 4 { if c != UInt8(ascii: "-") { return false } } else if !(UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) { return false }
        }
        return true
    }

    /// Creates a named app password for an account and returns it; it is shown once.
    public func createAppPassword(_ account: AccountRecord, name: String, actor: AdminActor) throws -> String {
        try Self.checkText(name, field: "name", max: 64)
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw AdminError.invalid("name_required", "give the device a name") }
        var g = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let groups = (0..<4).map { _ in String((0..<4).map { _ in letters[Int.random(in: 0..<26, using: &g)] }) }
        let password = groups.joined(separator: "-")
        let entry = audit(actor, "account.app-password.create", target: account.address.description, domain: account.address.domain, before: nil, after: ["name": name])
        do {
            _ = try store.insertAppPassword(accountID: account.id, name: name, secretHash: Self.tokenHash(password), at: clock(), audit: entry)
        } catch {
            throw AdminError.conflict("app_password_exists", "an app password named \(name) exists; revoke it first or choose another name")
        }
        return password
    }

    public func appPasswords(_ account: AccountRecord) throws -> [AppPasswordRecord] {
        try store.appPasswords(accountID: account.id)
    }

    public func revokeAppPassword(_ account: AccountRecord, id: Int64, actor: AdminActor) throws {
        let name = try store.appPasswords(accountID: account.id).first { $0.id == id }?.name
        let entry = audit(actor, "account.app-password.revoke", target: account.address.description, domain: account.address.domain, before: ["name": name ?? "?"], after: nil)
        do { try store.deleteAppPassword(accountID: account.id, id: id, audit: entry) } catch let e as StoreError { throw AdminError.from(e) }
    }

    /// An app password login: the account when `password` is one of its app passwords.
    func authenticateAppPassword(_ account: AccountRecord, _ password: String) -> AccountRecord? {
        guard Self.isAppPasswordShaped(password),
            let record = try? store.appPassword(accountID: account.id, secretHash: Self.tokenHash(password))
        else { return nil }
        let now = clock()
        if record.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true { try? store.markAppPasswordUsed(id: record.id, at: now) }
        return account
    }

    // MARK: Reset links

    /// A one-time link token for setting the account's password without the old one, valid
    /// for `lifetime`; only its SHA-256 is stored.
    public func createResetToken(_ address: String, lifetime: TimeInterval = 24 * 3600, actor: AdminActor) throws -> String {
        let account = try existingAccount(address, actor, in: snapshot)
        var g = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &g) }.lowercaseHex
        let entry = audit(actor, "account.reset-link", target: account.address.description, domain: account.address.domain, before: nil, after: nil)
        try store.insertPasswordReset(tokenHash: Self.tokenHash(token), accountID: account.id, expires: clock().addingTimeInterval(lifetime), audit: entry)
        return token
    }

    /// The account a reset token is for, while it is unused and unexpired.
    public func resetAccount(token: String) -> AccountRecord? {
        guard token.utf8.count == 64, let id = try? store.passwordReset(tokenHash: Self.tokenHash(token), now: clock(), consume: false) else {
            return nil
        }
        return activeAccount(id: id)
    }

    /// Sets a new password through a reset link, using the link up.
    public func resetPassword(token: String, password: String) throws -> AccountRecord {
        // A refused password leaves the link usable for a better one.
        if let problem = PasswordPolicy.problem(with: password) { throw AdminError.invalid("weak_password", problem) }
        guard token.utf8.count == 64, let id = try store.passwordReset(tokenHash: Self.tokenHash(token), now: clock(), consume: true),
            let account = activeAccount(id: id)
        else { throw AdminError.notFound("reset_link_invalid", "this link has expired or was used already; ask for a new one") }
        let me = AdminActor(name: account.address.description + " (reset link)", role: .domainAdmin, domains: [account.address.domain])
        _ = try setPassword(account.address.description, password: password, actor: me)
        try store.deleteConsoleSessions(accountID: account.id, idHash: nil)
        return account
    }

    // MARK: Second factor

    /// Starts TOTP set-up (or restarts an unfinished one): a new secret, not yet required.
    public func beginTOTP(_ account: AccountRecord) throws -> TOTP {
        if let existing = try store.totp(accountID: account.id), existing.enabled {
            throw AdminError.conflict("totp_enabled", "two-factor sign-in is already on; turn it off first to set up a new device")
        }
        let secret = TOTP.newSecret()
        try store.setTOTP(accountID: account.id, TOTPRecord(secret: secret, enabled: false, recovery: [], lastStep: 0), audit: nil)
        return TOTP(secret: secret)
    }

    /// The pending set-up's secret, if one is under way.
    public func pendingTOTP(_ account: AccountRecord) throws -> TOTP? {
        guard let t = try store.totp(accountID: account.id), !t.enabled else { return nil }
        return TOTP(secret: t.secret)
    }

    public func totpEnabled(_ account: AccountRecord) -> Bool {
        (try? store.totp(accountID: account.id))??.enabled ?? false
    }

    /// Finishes set-up with a first code from the app; returns ten recovery codes, shown once.
    public func confirmTOTP(_ account: AccountRecord, code: String, actor: AdminActor) throws -> [String] {
        guard var t = try store.totp(accountID: account.id), !t.enabled else {
            throw AdminError.invalid("totp_not_started", "start two-factor set-up first")
        }
        guard let step = TOTP(secret: t.secret).matchingStep(code, at: clock()) else {
            throw AdminError.invalid("wrong_code", "that code is not the app's current one; check the phone's clock and try the next code")
        }
        var g = SystemRandomNumberGenerator()
        let letters = Array("abcdefghjkmnpqrstuvwxyz23456789")
        let codes = (0..<10).map { _ in String((0..<10).map { _ in letters[Int.random(in: 0..<letters.count, using: &g)] }) }
        t.enabled = true
        t.lastStep = step
        t.recovery = codes.map(Self.tokenHash)
        let entry = audit(actor, "account.totp.enable", target: account.address.description, domain: account.address.domain, before: nil, after: nil)
        try store.setTOTP(accountID: account.id, t, audit: entry)
        return codes
    }

    /// Turns the second factor off (the person themselves, or an admin for a lost phone).
    public func disableTOTP(_ account: AccountRecord, actor: AdminActor) throws {
        let entry = audit(actor, "account.totp.disable", target: account.address.description, domain: account.address.domain, before: nil, after: nil)
        try store.setTOTP(accountID: account.id, nil, audit: entry)
    }

    /// Checks a second-factor code (the app's, or an unused recovery code, used up by this).
    public func verifySecondFactor(_ account: AccountRecord, code: String) -> Bool {
        guard let t = try? store.totp(accountID: account.id), t.enabled else { return false }
        let typed = code.trimmingCharacters(in: .whitespaces)
        if let step = TOTP(secret: t.secret).matchingStep(typed, at: clock()) {
            return (try? store.consumeTOTP(accountID: account.id, step: step, recoveryHash: nil)) ?? false
        }
        guard typed.count == 10 else { return false }
        return (try? store.consumeTOTP(accountID: account.id, step: nil, recoveryHash: Self.tokenHash(typed.lowercased()))) ?? false
    }

    /// The account with this address, if it exists and is active (console sign-in).
    public func activeAccount(_ address: String) -> AccountRecord? {
        guard let a = try? EmailAddress(address), let account = snapshot.account(a), account.state == .active else { return nil }
        return account
    }

    /// The account with this id (a console session's), if it is still active.
    public func activeAccount(id: Int64) -> AccountRecord? {
        guard let text = try? store.accountAddress(id: id), let address = try? EmailAddress(text),
            let account = snapshot.account(address), account.id == id, account.state == .active
        else { return nil }
        return account
    }
}

extension AccountRoleView {
    init(address: String, role: AccountRole?) {
        self.init(address: address, role: role?.role.rawValue ?? "user", domains: role?.domains.map(\.unicode) ?? [])
    }
}
