import MailCore
import Storage

// Bringing a Dovecot/Postfix directory over: passwd-files and Postfix virtual tables. Each
// import is planned against the directory as a whole; it is applied, in one transaction with
// one audit entry, only when the plan has no conflict and it is not a dry run.
extension DirectoryService {
    /// Imports a Dovecot passwd-file's `text`; `domain` is the domain of users written without one.
    public func importDovecotPasswd(_ text: String, domain: String? = nil, dryRun: Bool = false, actor: AdminActor) throws -> MigrationReport {
        let (entries, errors) = DovecotPasswd.parse(text)
        guard !entries.isEmpty || !errors.isEmpty else {
            throw AdminError.invalid("empty_file", "the passwd file has no user lines")
        }
        let domain = try domain.map(Self.parseDomain)
        return try runImport(dryRun: dryRun, action: "import.dovecot-passwd", actor: actor) { snap in
            var plan = ImportPlan(snap: snap)
            for e in errors { plan.conflict(e.line, "", e.message) }
            for e in entries {
                let text = e.user.contains("@") ? e.user : domain.map { "\(e.user)@\($0.unicode)" }
                guard let text else {
                    plan.conflict(
                        e.line, e.user, "\(e.user) has no domain: give the domain of such users with --domain")
                    continue
                }
                guard let address = plan.address(text, line: e.line, actor: actor, directory: self) else { continue }
                let hash = e.password.isEmpty ? nil : e.password
                let scheme = hash.flatMap { try? ForeignPasswordHash($0).scheme.rawValue }
                switch snap.entry(address) {
                case .account(let a):
                    guard a.passwordHash != hash else {
                        plan.unchanged(e.line, address, "already has this password")
                        continue
                    }
                    guard let hash else {
                        plan.unchanged(e.line, address, "has no password in the file; its current password is kept")
                        continue
                    }
                    var after = a
                    after.passwordHash = hash
                    after.updatedAt = clock()
                    plan.changed(
                        e.line, address, "password replaced by the file's {\(scheme ?? "")} hash: the account's current password stops working", .updateAccount(after)
                    )
                case .alias, .list:
                    plan.taken(e.line, address)
                case nil:
                    let record = AccountRecord(address: address, name: "", passwordHash: hash, createdAt: clock())
                    plan.created(
                        e.line, address,
                        hash == nil
                            ? "account without a password (it cannot log in until one is set with `mailroom account passwd`)"
                            : "account, password {\(scheme ?? "")} kept until the first login replaces it",
                        .insertAccount(record))
                }
            }
            return plan
        }
    }

    /// Imports a Postfix virtual table's `text`: a `virtual_mailbox_maps` table (accounts)
    /// with `mailboxMaps`, else a `virtual_alias_maps` table (aliases and catch-alls).
    public func importPostfixVirtual(_ text: String, mailboxMaps: Bool = false, dryRun: Bool = false, actor: AdminActor) throws -> MigrationReport {
        let (entries, errors) = PostfixVirtual.parse(text)
        guard !entries.isEmpty || !errors.isEmpty else {
            throw AdminError.invalid("empty_file", "the table has no entries")
        }
        return try runImport(dryRun: dryRun, action: "import.postfix-virtual", actor: actor) { snap in
            var plan = ImportPlan(snap: snap)
            for e in errors { plan.conflict(e.line, "", e.message) }
            if mailboxMaps {
                for e in entries { planMailbox(e, &plan, actor: actor) }
            } else {
                // Targets may be aliases made further down the same file.
                for e in entries { if let a = try? EmailAddress(e.key) { plan.newKeys.insert(a.key) } }
                for e in entries { planAlias(e, &plan, actor: actor) }
            }
            return plan
        }
    }

    private func planMailbox(_ e: PostfixVirtual.Entry, _ plan: inout ImportPlan, actor: AdminActor) {
        if e.key.hasPrefix("@") {
            plan.conflict(
                e.line, e.key,
                "a catch-all mailbox cannot be an account: make an account and set it as the domain's catch-all (`mailroom domain set \(e.key.dropFirst()) --catch-all ADDRESS`)"
            )
            return
        }
        guard e.values.count == 1 else {
            plan.conflict(
                e.line, e.key, "has \(e.values.count) values; a virtual_mailbox_maps line has one mailbox path")
            return
        }
        guard let address = plan.address(e.key, line: e.line, actor: actor, directory: self) else { return }
        switch plan.snap.entry(address) {
        case .account: plan.unchanged(e.line, address, "account exists")
        case .alias, .list: plan.taken(e.line, address)
        case nil:
            plan.created(
                e.line, address,
                "account without a password (import the passwd file with `mailroom import dovecot-passwd`); the mail in \(e.values[0]) is not copied",
                .insertAccount(AccountRecord(address: address, name: "", passwordHash: nil, createdAt: clock())))
        }
    }

    private func planAlias(_ e: PostfixVirtual.Entry, _ plan: inout ImportPlan, actor: AdminActor) {
        if let path = e.values.first(where: { $0.hasSuffix("/") }) {
            plan.conflict(
                e.line, e.key,
                "\(path) is a mailbox path, not an address: this looks like a virtual_mailbox_maps table — run with --mailbox-maps"
            )
            return
        }
        if e.key.hasPrefix("@") {
            planCatchAll(e, &plan, actor: actor)
            return
        }
        if !e.key.contains("@") {
            // virtual_alias_domains may be listed in the same table as `example.org  anything`.
            if e.key.contains("."), let d = try? DomainName(e.key) {
                if plan.snap.domain(d) != nil {
                    plan.unchanged(e.line, e.key, "domain exists")
                } else {
                    plan.conflict(
                        e.line, e.key,
                        "declares the domain \(d.unicode), which does not exist — add it with `mailroom domain add \(d.unicode)`"
                    )
                }
            } else {
                plan.conflict(
                    e.line, e.key,
                    "\(e.key) has no domain (Postfix would append $myorigin): write it as \(e.key)@domain")
            }
            return
        }
        guard let address = plan.address(e.key, line: e.line, actor: actor, directory: self),
            let targets = plan.targets(e.values, line: e.line, address: address.description)
        else { return }
        let others = targets.filter { addressKey($0) != address.key }
        switch plan.snap.entry(address) {
        case .account where others.isEmpty:
            // `alice@x alice@x` only told Postfix the address delivers: the account does that.
            plan.unchanged(e.line, address, "maps to itself, and the account receives its own mail")
        case .account:
            plan.conflict(
                e.line, address.description,
                "is an account, and an address is either an account or an alias in Mailroom: forward its mail with a Sieve redirect instead, or remove the account first"
            )
        case .list:
            plan.taken(e.line, address)
        case .alias(let existing):
            var after = existing
            for t in others where !after.targets.contains(where: { addressKey($0) == addressKey(t) }) {
                after.targets.append(t)
            }
            if after.targets == existing.targets {
                plan.unchanged(e.line, address, "alias already has these targets")
            } else {
                plan.changed(
                    e.line, address, "alias targets now \(after.targets.joined(separator: ", "))", .updateAlias(after))
            }
        case nil:
            guard !others.isEmpty else {
                plan.conflict(
                    e.line, address.description,
                    "maps only to itself, and there is no account \(address.displayForm): import the mailboxes first (--mailbox-maps)"
                )
                return
            }
            plan.created(
                e.line, address, "alias → \(others.joined(separator: ", "))",
                .insertAlias(AliasRecord(address: address, targets: others, createdAt: clock())))
        }
    }

    private func planCatchAll(_ e: PostfixVirtual.Entry, _ plan: inout ImportPlan, actor: AdminActor) {
        guard let name = try? DomainName(String(e.key.dropFirst())) else {
            plan.conflict(e.line, e.key, "\(e.key) is not @ followed by a domain name")
            return
        }
        guard let domain = plan.snap.domain(name) else {
            plan.conflict(
                e.line, e.key,
                "domain \(name.unicode) does not exist — add it with `mailroom domain add \(name.unicode)`")
            return
        }
        guard may(actor, manage: name, in: plan.snap) else {
            plan.conflict(e.line, e.key, "this token may not manage \(name.unicode)")
            return
        }
        guard domain.aliasOf == nil else {
            plan.conflict(
                e.line, e.key,
                "\(name.unicode) is a domain alias; it delivers as its target, so set the catch-all there")
            return
        }
        guard e.values.count == 1 else {
            plan.conflict(
                e.line, e.key,
                "a catch-all has one target in Mailroom, this one has \(e.values.count): make an alias with those targets and point the catch-all at it"
            )
            return
        }
        guard let target = plan.targets(e.values, line: e.line, address: e.key)?.first else { return }
        if domain.catchAll.map(addressKey) == addressKey(target) {
            plan.unchanged(e.line, e.key, "catch-all already \(target)")
            return
        }
        var after = domain
        after.catchAll = target
        plan.changed(e.line, e.key, "catch-all of \(name.unicode) → \(target)", .updateDomain(after))
    }

    /// Plans against the current directory; a dry run or a plan with conflicts stops there.
    /// Otherwise the plan is made again under the writer lock (the directory may have changed
    /// meanwhile) and written with one audit entry, all or nothing.
    private func runImport(
        dryRun: Bool, action: String, actor: AdminActor, _ plan: (DirectorySnapshot) throws -> ImportPlan
    ) throws -> MigrationReport {
        let first = try plan(snapshot)
        if dryRun || !first.report.conflicts.isEmpty { return first.report }
        return try mutate { snap in
            let fresh = try plan(snap)
            guard fresh.report.conflicts.isEmpty else { return ([], [], { _, _ in fresh.report }) }
            var report = fresh.report
            report.applied = true
            let entry = audit(
                actor, action, target: "\(report.created.count) created, \(report.changed.count) changed", domain: nil,
                before: nil,
                after: ["created": report.created.map(\.address), "changed": report.changed.map(\.address)])
            let writes = fresh.writes
            return (
                writes, [entry],
                { ids, s in
                    for (write, id) in zip(writes, ids) {
                        switch write {
                        case .insertAccount(var a):
                            a.id = id
                            s.upsert(.account(a))
                        case .updateAccount(let a): s.upsert(.account(a))
                        case .insertAlias(var a):
                            a.id = id
                            s.upsert(.alias(a))
                        case .updateAlias(let a): s.upsert(.alias(a))
                        case .updateDomain(let d): s.upsert(domain: d)
                        default: preconditionFailure("an import plans no \(write)")
                        }
                    }
                    return report
                }
            )
        }
    }
}

/// The report and the writes an import would make, built line by line.
struct ImportPlan {
    let snap: DirectorySnapshot
    var report = MigrationReport()
    var writes: [DirectoryWrite] = []
    /// Addresses the file creates (so that a target further down counts as existing).
    var newKeys: Set<String> = []
    private var seen: [String: Int] = [:]

    init(snap: DirectorySnapshot) { self.snap = snap }

    mutating func conflict(_ line: Int, _ address: String, _ detail: String) {
        report.conflicts.append(.init(line: line, address: address, detail: detail))
    }
    mutating func unchanged(_ line: Int, _ address: any CustomStringConvertible, _ detail: String) {
        report.unchanged.append(.init(line: line, address: address.description, detail: detail))
    }
    mutating func changed(
        _ line: Int, _ address: any CustomStringConvertible, _ detail: String, _ write: DirectoryWrite
    ) {
        report.changed.append(.init(line: line, address: address.description, detail: detail))
        writes.append(write)
    }
    mutating func created(_ line: Int, _ address: EmailAddress, _ detail: String, _ write: DirectoryWrite) {
        report.created.append(.init(line: line, address: address.description, detail: detail))
        newKeys.insert(address.key)
        writes.append(write)
    }
    mutating func taken(_ line: Int, _ address: EmailAddress) {
        let kind =
            snap.entry(address).map { $0.kindName == "list" ? "a distribution list" : "an \($0.kindName)" } ?? "taken"
        conflict(line, address.description, "is already \(kind) — remove it first, or leave this line out")
    }

    /// The address of a line's entry, or nil after noting why it cannot be one (bad form,
    /// missing or unmanaged domain, domain alias, or already on an earlier line).
    mutating func address(_ text: String, line: Int, actor: AdminActor, directory: DirectoryService) -> EmailAddress? {
        do {
            let a = try DirectoryService.parseAddress(text)
            guard !a.isQuoted else {
                throw AdminError.invalid("invalid_address", "quoted local parts cannot be used for accounts or aliases")
            }
            let domain = try directory.managedDomain(a.domain, actor, in: snap)
            if let target = domain.aliasOf.flatMap({ snap.domainsByID[$0] }) {
                throw AdminError.invalid(
                    "domain_is_alias",
                    "\(domain.name.unicode) is an alias of \(target.name.unicode): write \(a.localPart)@\(target.name.unicode) instead"
                )
            }
            if let earlier = seen[a.key] {
                conflict(line, a.description, "appears already on line \(earlier)")
                return nil
            }
            seen[a.key] = line
            return a
        } catch let e as AdminError {
            conflict(line, text, e.message)
        } catch {
            conflict(line, text, "\(error)")
        }
        return nil
    }

    /// Alias targets as addresses; a local one must exist or be made by the same file.
    mutating func targets(_ values: [String], line: Int, address: String) -> [String]? {
        var out: [String] = []
        for v in values {
            guard v.contains("@") else {
                conflict(
                    line, address, "target \(v) has no domain (Postfix would append $myorigin): write it as \(v)@domain"
                )
                return nil
            }
            guard let t = try? DirectoryService.parseAddress(v) else {
                conflict(line, address, "target \(v) is not an email address")
                return nil
            }
            if snap.isLocal(t.domain), !newKeys.contains(t.key), case .unknown = snap.lookup(t) {
                conflict(
                    line, address,
                    "target \(t.displayForm) does not exist — create it first, or import the mailboxes (--mailbox-maps) before the aliases"
                )
                return nil
            }
            if !out.contains(where: { addressKey($0) == t.key }) { out.append(t.description) }
        }
        return out
    }
}
