import MailCore
import Storage

extension DirectoryService {
    /// Adds a domain, as an alias of the existing domain `aliasOf` if given, with a catch-all
    /// target if given.
    public func addDomain(_ name: String, aliasOf: String? = nil, catchAll: String? = nil, actor: AdminActor) throws -> DomainView {
        try requireServerAdmin(actor, "add domains")
        let name = try Self.parseDomain(name)
        return try mutate { snap in
            if snap.domain(name) != nil {
                throw AdminError.conflict("domain_exists", "domain \(name.unicode) already exists — see it with `mailroom domain show \(name.unicode)`")
            }
            var targetID: Int64?
            if let target = aliasOf {
                let t = try Self.parseDomain(target)
                guard let td = snap.domain(t) else { throw AdminError.domainMissing(t) }
                if td.aliasOf != nil {
                    throw AdminError.invalid("alias_of_alias", "\(t.unicode) is itself a domain alias; point \(name.unicode) at the domain it aliases")
                }
                targetID = td.id
            }
            var record = DomainRecord(name: name, aliasOf: targetID, catchAll: nil, createdAt: clock())
            if let c = catchAll, !c.isEmpty {
                guard targetID == nil else {
                    throw AdminError.invalid("catch_all_on_alias", "a domain alias delivers as its target; set the catch-all there")
                }
                record.catchAll = try catchAllTarget(c, domain: name, in: snap)
            }
            let entry = audit(actor, "domain.add", target: name.ascii, domain: name, before: nil, after: record)
            return ([.insertDomain(record)], [entry], { ids, s in
                record.id = ids[0]
                s.upsert(domain: record)
                return self.view(record, in: s)
            })
        }
    }

    public func domains(actor: AdminActor) -> [DomainView] {
        let snap = snapshot
        var counts: [Int64: (Int, Int, Int)] = [:]
        for e in snap.entries.values {
            guard let id = snap.domain(e.address.domain)?.id else { continue }
            var c = counts[id] ?? (0, 0, 0)
            switch e {
            case .account: c.0 += 1
            case .alias: c.1 += 1
            case .list: c.2 += 1
            }
            counts[id] = c
        }
        return snap.domainsByID.values
            .filter { may(actor, manage: $0.name, in: snap) }
            .sorted { $0.name.unicode < $1.name.unicode }
            .map { d in
                let c = counts[d.id] ?? (0, 0, 0)
                return view(d, in: snap, counts: c)
            }
    }

    public func domain(_ name: String, actor: AdminActor) throws -> DomainView {
        let snap = snapshot
        let d = try managedDomain(try Self.parseDomain(name), actor, in: snap)
        return view(d, in: snap)
    }

    /// Sets or (with an empty string) clears the catch-all target; sets the MTA-STS mode
    /// (`none`, `testing` or `enforce`). What is nil stays as it is.
    public func updateDomain(_ name: String, catchAll: String? = nil, mtaSts: String? = nil, actor: AdminActor) throws -> DomainView {
        let domainName = try Self.parseDomain(name)
        return try mutate { snap in
            let before = try managedDomain(domainName, actor, in: snap)
            var after = before
            if let m = mtaSts {
                guard let mode = MTASTSMode(rawValue: m.lowercased()) else {
                    throw AdminError.invalid("invalid_mta_sts", "mta-sts must be none, testing or enforce, not \"\(m)\"")
                }
                after.mtaSTS = mode
            }
            if let c = catchAll {
                if c.isEmpty {
                    after.catchAll = nil
                } else {
                    guard before.aliasOf == nil else {
                        throw AdminError.invalid("catch_all_on_alias", "a domain alias delivers as its target; set the catch-all there")
                    }
                    after.catchAll = try catchAllTarget(c, domain: domainName, in: snap)
                }
            }
            let entry = audit(actor, "domain.update", target: domainName.ascii, domain: domainName, before: before, after: after)
            return ([.updateDomain(after)], [entry], { _, s in
                s.upsert(domain: after)
                return self.view(after, in: s)
            })
        }
    }

    public func removeDomain(_ name: String, actor: AdminActor) throws {
        try requireServerAdmin(actor, "remove domains")
        let domainName = try Self.parseDomain(name)
        try mutate { snap in
            let d = try managedDomain(domainName, actor, in: snap)
            let v = view(d, in: snap)
            var held: [String] = []
            if v.accounts > 0 { held.append("\(v.accounts) account\(v.accounts == 1 ? "" : "s")") }
            if v.aliases > 0 { held.append("\(v.aliases) alias\(v.aliases == 1 ? "" : "es")") }
            if v.lists > 0 { held.append("\(v.lists) list\(v.lists == 1 ? "" : "s")") }
            if !v.domainAliases.isEmpty { held.append("domain aliases \(v.domainAliases.joined(separator: ", "))") }
            if !held.isEmpty {
                throw AdminError.conflict(
                    "domain_not_empty",
                    "domain \(d.name.unicode) still has \(held.joined(separator: ", ")) — remove them first "
                        + "(`mailroom account list --domain \(d.name.unicode)` shows the accounts)")
            }
            let entry = audit(actor, "domain.remove", target: d.name.ascii, domain: d.name, before: d, after: nil)
            return ([.deleteDomain(id: d.id)], [entry], { _, s in s.remove(domain: d) })
        }
    }

    private func catchAllTarget(_ text: String, domain: DomainName, in snap: DirectorySnapshot) throws -> String {
        let target = try Self.parseAddress(text)
        if target.domain == domain, snap.entry(target) == nil {
            throw AdminError.invalid(
                "unknown_target", "catch-all target \(target.displayForm) does not exist — create that account first")
        }
        return try checkTargets([text], in: snap, what: "catch-all target")[0]
    }

    func view(_ d: DomainRecord, in snap: DirectorySnapshot, counts: (Int, Int, Int)? = nil) -> DomainView {
        var c = counts ?? (0, 0, 0)
        if counts == nil {
            for e in snap.entries.values where e.address.domain == d.name {
                switch e {
                case .account: c.0 += 1
                case .alias: c.1 += 1
                case .list: c.2 += 1
                }
            }
        }
        return DomainView(
            name: d.name.ascii, displayName: d.name.unicode,
            aliasOf: d.aliasOf.flatMap { snap.domainsByID[$0]?.name.unicode }, catchAll: d.catchAll,
            domainAliases: snap.domainAliases(of: d).map(\.name.unicode), accounts: c.0, aliases: c.1, lists: c.2,
            mtaSts: d.mtaSTS.rawValue, createdAt: d.createdAt)
    }
}
