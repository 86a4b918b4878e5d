import MailCore
import Storage

extension DirectoryService {
    /// Creates an alias, or adds targets to an existing one.
    public func addAlias(_ address: String, targets: [String], actor: AdminActor) throws -> AliasView {
        guard !targets.isEmpty else {
            throw AdminError.invalid("targets_required", "an alias needs at least one target address")
        }
        guard targets.count <= 1000 else { throw AdminError.invalid("too_many_targets", "an alias may have at most 1000 targets") }
        return try mutate { snap in
            let source = try Self.parseAddress(address)
            let targets = try checkTargets(targets, in: snap, what: "target")
            if targets.contains(where: { addressKey($0) == source.key }) {
                throw AdminError.invalid("alias_loop", "an alias cannot point to itself")
            }
            if let existing = snap.alias(source) {
                _ = try managedDomain(source.domain, actor, in: snap)
                var after = existing
                for t in targets where !after.targets.contains(where: { addressKey($0) == addressKey(t) }) {
                    after.targets.append(t)
                }
                let entry = audit(actor, "alias.update", target: source.description, domain: source.domain, before: existing, after: after)
                return ([.updateAlias(after)], [entry], { _, s in
                    s.upsert(.alias(after))
                    return self.view(after)
                })
            }
            let address = try newEntryAddress(address, actor, in: snap)
            var record = AliasRecord(address: address, targets: targets, createdAt: clock())
            let entry = audit(actor, "alias.add", target: address.description, domain: address.domain, before: nil, after: record)
            return ([.insertAlias(record)], [entry], { ids, s in
                record.id = ids[0]
                s.upsert(.alias(record))
                return self.view(record)
            })
        }
    }

    public func aliases(domain: String?, actor: AdminActor) throws -> [AliasView] {
        let snap = snapshot
        var only: DomainName?
        if let domain { only = try managedDomain(try Self.parseDomain(domain), actor, in: snap).name }
        return snap.entries.values.compactMap { e -> AliasRecord? in
            guard case .alias(let a) = e else { return nil }
            if let only, a.address.domain != only { return nil }
            return may(actor, manage: a.address.domain, in: snap) ? a : nil
        }.sorted { $0.address.key < $1.address.key }.map(view)
    }

    public func alias(_ address: String, actor: AdminActor) throws -> AliasView {
        let snap = snapshot
        return view(try existingAlias(address, actor, in: snap))
    }

    /// Removes the whole alias, or only `targets` from it (the alias goes when none are left).
    public func removeAlias(_ address: String, targets: [String], actor: AdminActor) throws -> AliasView? {
        try mutate { snap in
            let before = try existingAlias(address, actor, in: snap)
            let dropKeys = Set(try targets.map { try Self.parseAddress($0).key })
            for k in dropKeys where !before.targets.contains(where: { addressKey($0) == k }) {
                throw AdminError.notFound("target_not_found", "\(k) is not a target of \(before.address.displayForm)")
            }
            var after = before
            after.targets = before.targets.filter { t in !dropKeys.contains(addressKey(t) ?? t) }
            if dropKeys.isEmpty || after.targets.isEmpty {
                let entry = audit(actor, "alias.remove", target: before.address.description, domain: before.address.domain, before: before, after: nil)
                return ([.deleteAlias(id: before.id)], [entry], { _, s in
                    s.remove(key: before.address.key)
                    return nil
                })
            }
            let entry = audit(actor, "alias.update", target: before.address.description, domain: before.address.domain, before: before, after: after)
            return ([.updateAlias(after)], [entry], { _, s in
                s.upsert(.alias(after))
                return self.view(after)
            })
        }
    }

    func existingAlias(_ text: String, _ actor: AdminActor, in snap: DirectorySnapshot) throws -> AliasRecord {
        let address = try Self.parseAddress(text)
        _ = try managedDomain(address.domain, actor, in: snap)
        guard let a = snap.alias(address) else {
            throw AdminError.notFound("alias_not_found", "alias \(address.displayForm) does not exist — see `mailroom alias list`")
        }
        return a
    }

    func view(_ a: AliasRecord) -> AliasView {
        AliasView(address: a.address.description, targets: a.targets, createdAt: a.createdAt)
    }

    // MARK: Resolve

    public func resolveView(_ address: String, actor: AdminActor) throws -> ResolutionView {
        let snap = snapshot
        if let a = try? EmailAddress(address), snap.isLocal(a.domain) {
            _ = try managedDomain(a.domain, actor, in: snap)
        } else if !actor.isServerAdmin {
            throw AdminError.forbidden("a domain admin may resolve only addresses in their own domains")
        }
        return Self.view(snap.resolve(address, limits: limits))
    }

    static func view(_ r: Resolution) -> ResolutionView {
        ResolutionView(
            input: r.input, kind: r.kind.rawValue, canonical: r.canonical, subaddressTag: r.subaddressTag,
            viaDomainAlias: r.viaDomainAlias, deliverable: r.isDeliverable,
            recipients: r.recipients.map { RecipientView(address: $0.address, local: $0.accountID != nil, path: $0.path) },
            skipped: r.skipped.map { SkippedView(address: $0.address, reason: $0.reason.rawValue, path: $0.path) },
            truncated: r.truncated, error: r.error)
    }
}
