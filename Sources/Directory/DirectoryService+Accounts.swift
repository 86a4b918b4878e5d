import LoginKit
import Crypto
import Foundation
import MailCore
import Storage
import Synchronization

extension DirectoryService {
    /// Adds an account with `password`, or one the server generates, or (neither) none yet.
    /// `quota`: `5G`, `500M`, a number of bytes, or `unlimited` (the default).
    public func addAccount(
        _ address: String, password: String? = nil, generatePassword: Bool = false, name: String = "", quota: String? = nil,
        actor: AdminActor
    ) throws -> AccountCreated {
        var generated: String?
        let hash: String?
        switch (password, generatePassword) {
        case (.some, true):
            throw AdminError.invalid("password_conflict", "give either a password or --generate-password, not both")
        case (.some(let p), false):
            hash = try hashPassword(p)
        case (nil, true):
            let p = PasswordPolicy.generate()
            generated = p
            hash = try hashPassword(p)
        case (nil, false):
            hash = nil
        }
        try Self.checkText(name, field: "name", max: 256)
        let quota = try quota.map(Self.parseQuota) ?? 0
        return try mutate { snap in
            let address = try newEntryAddress(address, actor, in: snap)
            var record = AccountRecord(address: address, name: name, passwordHash: hash, quotaBytes: quota, createdAt: clock())
            let entry = audit(actor, "account.add", target: address.description, domain: address.domain, before: nil, after: record)
            return ([.insertAccount(record)], [entry], { ids, s in
                record.id = ids[0]
                s.upsert(.account(record))
                return AccountCreated(account: self.view(record, in: nil), generatedPassword: generated)
            })
        }
    }

    /// Page `page` (from 1) of `limit` accounts, of one domain or (a server admin) all, and how
    /// many there are in all.
    public func accounts(domain: String?, page: Int, limit: Int, actor: AdminActor) throws -> (items: [AccountView], total: Int) {
        guard page >= 1 else { throw AdminError.invalid("invalid_page", "page starts at 1") }
        guard (1...1000).contains(limit) else { throw AdminError.invalid("invalid_limit", "limit must be 1 to 1000") }
        let snap = snapshot
        var domainID: Int64?
        if let domain {
            domainID = try managedDomain(try Self.parseDomain(domain), actor, in: snap).id
        } else if !actor.isServerAdmin {
            throw AdminError.invalid("domain_required", "a domain admin must name the domain: --domain example.org")
        }
        let items = try store.accounts(domainID: domainID, offset: (page - 1) * limit, limit: limit)
        let total = try store.accountCount(domainID: domainID)
        return (items.map { view($0, in: nil) }, total)
    }

    public func account(_ address: String, actor: AdminActor) throws -> AccountView {
        let snap = snapshot
        let a = try existingAccount(address, actor, in: snap)
        var v = view(a, in: snap)
        let stats = try store.mailboxStats(accountID: a.id)
        (v.messages, v.storedBytes) = (stats.messages, stats.bytes)
        try addLogins(to: &v, accountID: a.id)
        return v
    }

    /// Changes what is given: the name, the quota, the state (`active` or `disabled`).
    public func updateAccount(
        _ address: String, name: String? = nil, quota: String? = nil, state: String? = nil, actor: AdminActor
    ) throws -> AccountView {
        if let name { try Self.checkText(name, field: "name", max: 256) }
        let quota = try quota.map(Self.parseQuota)
        let state: AccountState? = try state.map { s in
            guard let st = AccountState(rawValue: s) else {
                throw AdminError.invalid("invalid_state", "state must be active or disabled")
            }
            return st
        }
        return try mutate { snap in
            let before = try existingAccount(address, actor, in: snap)
            var after = before
            if let name { after.name = name }
            if let quota { after.quotaBytes = quota }
            if let state { after.state = state }
            after.updatedAt = clock()
            let action = state == .disabled ? "account.disable" : state == .active ? "account.enable" : "account.update"
            let entry = audit(actor, action, target: after.address.description, domain: after.address.domain, before: before, after: after)
            return ([.updateAccount(after)], [entry], { _, s in
                s.upsert(.account(after))
                return self.view(after, in: s)
            })
        }
    }

    /// Sets `password`, or (with `generate`) one the server makes up and returns.
    public func setPassword(_ address: String, password: String? = nil, generate: Bool = false, actor: AdminActor) throws -> String? {
        var generated: String?
        let hash: String
        switch (password, generate) {
        case (.some(let p), false): hash = try hashPassword(p)
        case (nil, true):
            let p = PasswordPolicy.generate()
            generated = p
            hash = try hashPassword(p)
        default:
            throw AdminError.invalid("password_required", "give exactly one of a password or --generate-password")
        }
        try mutate { snap in
            let before = try existingAccount(address, actor, in: snap)
            var after = before
            after.passwordHash = hash
            after.updatedAt = clock()
            let entry = audit(actor, "account.passwd", target: after.address.description, domain: after.address.domain, before: nil, after: nil)
            return ([.updateAccount(after)], [entry], { _, s in s.upsert(.account(after)) })
        }
        return generated
    }

    /// Gives an account a new address, keeping its mail. Aliases, lists and catch-alls that
    /// named the old address are changed to the new one in the same transaction.
    /// With `keepAlias`, the old address stays as an alias of the new one.
    public func renameAccount(_ address: String, to newAddress: String, keepAlias: Bool = false, actor: AdminActor) throws -> AccountView {
        try mutate { snap in
            let before = try existingAccount(address, actor, in: snap)
            let newAddress = try newEntryAddress(newAddress, actor, in: snap)
            let after = AccountRecord(
                id: before.id, address: newAddress, name: before.name, passwordHash: before.passwordHash,
                quotaBytes: before.quotaBytes, state: before.state, createdAt: before.createdAt, updatedAt: clock())
            let refs = ReferenceRewrite(of: before.address.key, to: newAddress.description, in: snap)
            var writes: [DirectoryWrite] = [.updateAccount(after)] + refs.writes
            var entries = [audit(actor, "account.rename", target: newAddress.description, domain: newAddress.domain, before: before, after: after)]
            var keptAlias: AliasRecord?
            if keepAlias {
                let alias = AliasRecord(address: before.address, targets: [newAddress.description], createdAt: clock())
                writes.append(.insertAlias(alias))
                entries.append(audit(actor, "alias.add", target: alias.address.description, domain: alias.address.domain, before: nil, after: alias))
                keptAlias = alias
            }
            return (writes, entries, { ids, s in
                s.remove(key: before.address.key)
                s.upsert(.account(after))
                refs.apply(to: &s)
                if var alias = keptAlias {
                    alias.id = ids.last!
                    s.upsert(.alias(alias))
                }
                return self.view(after, in: s)
            })
        }
    }

    /// Removes an account and takes it out of every alias and list that named it.
    public func removeAccount(_ address: String, actor: AdminActor) throws -> AccountRemoved {
        try mutate { snap in
            let before = try existingAccount(address, actor, in: snap)
            let refs = ReferenceRewrite(of: before.address.key, to: nil, in: snap)
            let entry = audit(actor, "account.remove", target: before.address.description, domain: before.address.domain, before: before, after: nil)
            return ([.deleteAccount(id: before.id)] + refs.writes, [entry], { _, s in
                s.remove(key: before.address.key)
                refs.apply(to: &s)
                return AccountRemoved(
                    address: before.address.description, removed: ["the account \(before.address.displayForm) and its password"] + refs.report)
            })
        }
    }

    /// Checks a login: the account if the password is right and the account active. A hash
    /// imported from another system is replaced by our own at the first login it accepts.
    /// One of the account's app passwords is accepted as well, except where a person signs in
    /// (the console), which takes the account password only.
    public func authenticate(address: String, password: String, allowAppPassword: Bool = true) -> AccountRecord? {
        guard let a = try? EmailAddress(address), let account = snapshot.account(a), account.state == .active else { return nil }
        // An app password is tried first: it has its own shape, and trying the slow hash of
        // the account password first would cost every device login a PBKDF2 run.
        if allowAppPassword, let byApp = authenticateAppPassword(account, password) { return byApp }
        guard let hashText = account.passwordHash, let stored = StoredPassword(hashText) else { return nil }
        switch stored {
        case .native(let hash):
            let proof = Array(HMAC<SHA256>.authenticationCode(for: Array((hashText + "\u{0}" + password).utf8), using: loginCacheKey))
            if loginCache.withLock({ $0[account.address.key] }) == proof { return account }
            guard hash.verify(password) else { return nil }
            loginCache.withLock { cache in
                if cache.count >= 100_000 { cache.removeAll() }
                cache[account.address.key] = proof
            }
            return account
        case .foreign(let foreign):
            guard foreign.verify(password) else { return nil }
            return (try? rehash(account, from: hashText, password: password)) ?? account
        }
    }

    /// Replaces an imported hash by our SCRAM-SHA-256 keys of the password it just accepted,
    /// unless the account's password changed meanwhile. If the write fails the login still
    /// succeeds, and the next one tries again.
    func rehash(_ account: AccountRecord, from old: String, password: String) throws -> AccountRecord {
        let new = try PasswordHash.make(password: password, iterations: passwordIterations).description
        return try mutate { snap in
            guard let current = snap.account(account.address), current.id == account.id, current.passwordHash == old else {
                return ([], [], { _, _ in account })
            }
            var after = current
            after.passwordHash = new
            after.updatedAt = clock()
            let scheme = (try? ForeignPasswordHash(old).scheme.rawValue) ?? "imported"
            let entry = audit(
                .system, "account.rehash", target: after.address.description, domain: after.address.domain,
                before: ["password_scheme": scheme], after: ["password_scheme": PasswordHash.scheme])
            return ([.updateAccount(after)], [entry], { _, s in
                s.upsert(.account(after))
                return after
            })
        }
    }

    /// The SCRAM-SHA-256 keys of an active account (SMTP and IMAP logins), or nil.
    public func scramCredentials(for user: String) -> SCRAMCredentials? {
        guard let address = try? EmailAddress(user), let account = snapshot.account(address), account.state == .active,
            let hash = account.passwordHash.flatMap(PasswordHash.init)
        else { return nil }
        return SCRAMCredentials(salt: hash.salt, iterations: hash.iterations, storedKey: hash.storedKey, serverKey: hash.serverKey)
    }

    /// The account at `text`, when the actor may manage it (a domain admin: accounts of their
    /// domains); for operations other modules write (Sieve scripts).
    public func managedAccount(_ text: String, actor: AdminActor) throws -> AccountRecord {
        try existingAccount(text, actor, in: snapshot)
    }

    func existingAccount(_ text: String, _ actor: AdminActor, in snap: DirectorySnapshot) throws -> AccountRecord {
        let address = try Self.parseAddress(text)
        _ = try managedDomain(address.domain, actor, in: snap)
        switch snap.entry(address) {
        case .account(let a): return a
        case .alias:
            throw AdminError.notFound("not_an_account", "\(address.displayForm) is an alias, not an account — see `mailroom alias list`")
        case .list:
            throw AdminError.notFound("not_an_account", "\(address.displayForm) is a distribution list, not an account — see `mailroom list show \(address.displayForm)`")
        case nil:
            throw AdminError.notFound(
                "account_not_found", "account \(address.displayForm) does not exist — add it with `mailroom account add \(address.displayForm)`")
        }
    }

    func hashPassword(_ password: String) throws -> String {
        if let problem = PasswordPolicy.problem(with: password) { throw AdminError.invalid("weak_password", problem) }
        return try PasswordHash.make(password: password, iterations: passwordIterations).description
    }

    /// `snap` given: include what names the account directly.
    func view(_ a: AccountRecord, in snap: DirectorySnapshot?) -> AccountView {
        var memberOf: [String]?
        if let snap {
            let key = a.address.key
            memberOf = snap.entries.values.compactMap { e -> String? in
                switch e {
                case .alias(let al) where al.targets.contains(where: { addressKey($0) == key }):
                    return al.address.description
                case .list(let l) where l.members.contains(where: { addressKey($0) == key }):
                    return l.address.description
                default: return nil
                }
            }.sorted()
        }
        var v = AccountView(
            address: a.address.description, name: a.name, quota: a.quotaBytes, state: a.state.rawValue,
            hasPassword: a.passwordHash != nil, memberOf: memberOf, createdAt: a.createdAt, updatedAt: a.updatedAt)
        v.passwordScheme = a.passwordHash.flatMap(StoredPassword.init).map {
            switch $0 {
            case .native: PasswordHash.scheme
            case .foreign(let f): f.scheme.rawValue
            }
        }
        return v
    }
}
