import MailCore
import Storage

extension DirectoryService {
    public static let maxListMembers = 100_000

    public func createList(
        _ address: String, name: String = "", description: String = "", members: [String] = [], actor: AdminActor
    ) throws -> ListView {
        try Self.checkText(name, field: "name", max: 256)
        try Self.checkText(description, field: "description", max: 4096)
        return try mutate { snap in
            let address = try newEntryAddress(address, actor, in: snap)
            let members = try checkTargets(members, in: snap, what: "member")
            var record = ListRecord(address: address, name: name, description: description, members: members, createdAt: clock())
            let entry = audit(actor, "list.create", target: address.description, domain: address.domain, before: nil, after: record)
            return ([.insertList(record)], [entry], { ids, s in
                record.id = ids[0]
                s.upsert(.list(record))
                return self.view(record, in: s, withMembers: true)
            })
        }
    }

    public func lists(domain: String?, actor: AdminActor) throws -> [ListView] {
        let snap = snapshot
        var only: DomainName?
        if let domain { only = try managedDomain(try Self.parseDomain(domain), actor, in: snap).name }
        return snap.entries.values.compactMap { e -> ListRecord? in
            guard case .list(let l) = e else { return nil }
            if let only, l.address.domain != only { return nil }
            return may(actor, manage: l.address.domain, in: snap) ? l : nil
        }.sorted { $0.address.key < $1.address.key }.map { view($0, in: snap, withMembers: false) }
    }

    public func list(_ address: String, actor: AdminActor) throws -> ListView {
        let snap = snapshot
        return view(try existingList(address, actor, in: snap), in: snap, withMembers: true)
    }

    /// Changes the settings given; nil leaves one as it is. `postingPolicy`: `anyone`,
    /// `members`, `organisation`, `senders` or `moderated`; `replyTo`: `list` or `sender`;
    /// `dmarcRewrite`: `auto`, `always` or `never`.
    public func updateList(
        _ address: String, name: String? = nil, description: String? = nil, postingPolicy: String? = nil,
        allowedSenders: [String]? = nil, owners: [String]? = nil, moderators: [String]? = nil, subjectPrefix: String? = nil,
        replyTo: String? = nil, hiddenMembers: Bool? = nil, dmarcRewrite: String? = nil, actor: AdminActor
    ) throws -> ListView {
        if let name { try Self.checkText(name, field: "name", max: 256) }
        if let description { try Self.checkText(description, field: "description", max: 4096) }
        if let subjectPrefix { try Self.checkText(subjectPrefix, field: "subject prefix", max: 64) }
        let policy = try postingPolicy.map { p in
            guard let v = PostingPolicy(rawValue: p) else {
                throw AdminError.invalid(
                    "invalid_policy",
                    "posting policy must be one of \(PostingPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return v
        }
        let replyTo = try replyTo.map { r in
            guard let v = ReplyToMode(rawValue: r) else { throw AdminError.invalid("invalid_reply_to", "reply-to must be list or sender") }
            return v
        }
        let rewrite = try dmarcRewrite.map { r in
            guard let v = DMARCRewrite(rawValue: r) else {
                throw AdminError.invalid("invalid_dmarc_rewrite", "dmarc-rewrite must be auto, always or never")
            }
            return v
        }
        return try mutate { snap in
            let before = try existingList(address, actor, in: snap)
            var after = before
            if let name { after.name = name }
            if let description { after.description = description }
            if let policy { after.postingPolicy = policy }
            if let replyTo { after.replyTo = replyTo }
            if let rewrite { after.dmarcRewrite = rewrite }
            if let subjectPrefix { after.subjectPrefix = subjectPrefix }
            if let hiddenMembers { after.hiddenMembers = hiddenMembers }
            // Senders, owners and moderators may be anyone, inside or outside: only their form is checked.
            if let s = allowedSenders { after.allowedSenders = try s.map { try Self.parseAddress($0).description } }
            if let o = owners { after.owners = try o.map { try Self.parseAddress($0).description } }
            if let m = moderators { after.moderators = try m.map { try Self.parseAddress($0).description } }
            if after.postingPolicy == .senders && after.allowedSenders.isEmpty {
                throw AdminError.invalid(
                    "senders_required", "posting policy 'senders' needs at least one allowed sender (--allowed-senders)")
            }
            if after.postingPolicy == .moderated && after.moderators.isEmpty && after.owners.isEmpty {
                throw AdminError.invalid(
                    "moderators_required", "a moderated list needs a moderator or owner to approve messages (--moderators)")
            }
            let entry = audit(actor, "list.update", target: after.address.description, domain: after.address.domain, before: before, after: after)
            return ([.updateList(after)], [entry], { _, s in
                s.upsert(.list(after))
                return self.view(after, in: s, withMembers: true)
            })
        }
    }

    public func deleteList(_ address: String, actor: AdminActor) throws {
        try mutate { snap in
            let before = try existingList(address, actor, in: snap)
            let key = before.address.key
            for e in snap.entries.values {
                if case .list(let other) = e, other.members.contains(where: { addressKey($0) == key }) {
                    throw AdminError.conflict(
                        "list_in_use",
                        "\(before.address.displayForm) is a member of \(other.address.displayForm) — remove it there first "
                            + "(`mailroom list remove-member \(other.address.displayForm) \(before.address.displayForm)`)")
                }
                if case .alias(let a) = e, a.targets.contains(where: { addressKey($0) == key }) {
                    throw AdminError.conflict(
                        "list_in_use", "alias \(a.address.displayForm) points to \(before.address.displayForm) — change the alias first")
                }
            }
            let entry = audit(actor, "list.delete", target: before.address.description, domain: before.address.domain, before: before, after: nil)
            return ([.deleteList(id: before.id)], [entry], { _, s in s.remove(key: key) })
        }
    }

    public func addMembers(_ address: String, _ members: [String], actor: AdminActor) throws -> ListView {
        guard !members.isEmpty else { throw AdminError.invalid("members_required", "name at least one member to add") }
        return try mutate { snap in
            let before = try existingList(address, actor, in: snap)
            let checked = try checkTargets(members, in: snap, what: "member")
            var after = before
            let present = Set(before.members.compactMap { addressKey($0) })
            for m in checked {
                let a = try Self.parseAddress(m)
                if a.key == before.address.key { throw AdminError.invalid("list_loop", "a list cannot be a member of itself") }
                if !present.contains(a.key) { after.members.append(m) }
            }
            guard after.members.count <= Self.maxListMembers else {
                throw AdminError.invalid("too_many_members", "a list may have at most \(Self.maxListMembers) direct members; nest lists for more")
            }
            let entry = audit(actor, "list.add-member", target: after.address.description, domain: after.address.domain, before: before, after: after)
            return ([.updateList(after)], [entry], { _, s in
                s.upsert(.list(after))
                return self.view(after, in: s, withMembers: true)
            })
        }
    }

    public func removeMembers(_ address: String, _ members: [String], actor: AdminActor) throws -> ListView {
        try mutate { snap in
            let before = try existingList(address, actor, in: snap)
            let keys = Set(try members.map { try Self.parseAddress($0).key })
            let present = Set(before.members.compactMap { addressKey($0) })
            for k in keys where !present.contains(k) {
                throw AdminError.notFound("member_not_found", "\(k) is not a member of \(before.address.displayForm)")
            }
            var after = before
            after.members = before.members.filter { !keys.contains(addressKey($0) ?? $0) }
            let entry = audit(actor, "list.remove-member", target: after.address.description, domain: after.address.domain, before: before, after: after)
            return ([.updateList(after)], [entry], { _, s in
                s.upsert(.list(after))
                return self.view(after, in: s, withMembers: true)
            })
        }
    }

    /// Every final recipient of the list with the path that leads to it.
    public func expandList(_ address: String, actor: AdminActor) throws -> ResolutionView {
        let snap = snapshot
        let l = try existingList(address, actor, in: snap)
        return Self.view(snap.resolve(l.address.description, limits: limits))
    }

    func existingList(_ text: String, _ actor: AdminActor, in snap: DirectorySnapshot) throws -> ListRecord {
        let address = try Self.parseAddress(text)
        _ = try managedDomain(address.domain, actor, in: snap)
        guard let l = snap.list(address) else {
            throw AdminError.notFound(
                "list_not_found", "list \(address.displayForm) does not exist — create it with `mailroom list create \(address.displayForm)`")
        }
        return l
    }

    func view(_ l: ListRecord, in snap: DirectorySnapshot, withMembers: Bool) -> ListView {
        let members: [MemberView]? = withMembers ? l.members.map { m in
            guard let a = try? EmailAddress(m) else { return MemberView(address: m, kind: "invalid") }
            switch snap.lookup(a) {
            case .external: return MemberView(address: m, kind: "external")
            case .unknown: return MemberView(address: m, kind: "unknown")
            case .catchAll: return MemberView(address: m, kind: "catch-all")
            case .entry(.account(let acc), _, _): return MemberView(address: m, kind: acc.state == .active ? "account" : "disabled")
            case .entry(.alias, _, _): return MemberView(address: m, kind: "alias")
            case .entry(.list, _, _): return MemberView(address: m, kind: "list")
            }
        } : nil
        return ListView(
            address: l.address.description, name: l.name, description: l.description, memberCount: l.members.count,
            members: members, postingPolicy: l.postingPolicy.rawValue, allowedSenders: l.allowedSenders,
            owners: l.owners, moderators: l.moderators, subjectPrefix: l.subjectPrefix, replyTo: l.replyTo.rawValue,
            hiddenMembers: l.hiddenMembers, dmarcRewrite: l.dmarcRewrite.rawValue, createdAt: l.createdAt)
    }
}
