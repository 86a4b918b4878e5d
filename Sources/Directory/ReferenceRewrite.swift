import MailCore
import Storage

/// The lookup key of an address as stored in a target or member list, or nil when it no
/// longer parses.
func addressKey(_ text: String) -> String? {
    (try? EmailAddress(text))?.key
}

/// Every place the directory names one address (alias targets; list members, owners,
/// moderators and allowed senders; catch-alls), changed to a new address or, with nil, taken
/// out. Renaming and removing an account share it, so both follow the same references.
struct ReferenceRewrite {
    private(set) var writes: [DirectoryWrite] = []
    private var upserted: [DirectorySnapshot.Entry] = []
    private var removedKeys: [String] = []
    private var domains: [DomainRecord] = []
    /// What changed, for the administrator (used when removing).
    private(set) var report: [String] = []

    init(of key: String, to replacement: String?, in snap: DirectorySnapshot) {
        func rewrite(_ list: [String]) -> [String] {
            list.compactMap { addressKey($0) == key ? replacement : $0 }
        }
        for e in snap.entries.values {
            switch e {
            case .alias(var a):
                let targets = rewrite(a.targets)
                guard targets != a.targets else { continue }
                if targets.isEmpty {
                    writes.append(.deleteAlias(id: a.id))
                    removedKeys.append(a.address.key)
                    report.append("alias \(a.address.displayForm) (it pointed only to this account)")
                } else {
                    a.targets = targets
                    writes.append(.updateAlias(a))
                    upserted.append(.alias(a))
                    report.append("target of alias \(a.address.displayForm)")
                }
            case .list(var l):
                let changed = (rewrite(l.members), rewrite(l.allowedSenders), rewrite(l.owners), rewrite(l.moderators))
                guard changed != (l.members, l.allowedSenders, l.owners, l.moderators) else { continue }
                if changed.0 != l.members { report.append("membership of list \(l.address.displayForm)") }
                (l.members, l.allowedSenders, l.owners, l.moderators) = changed
                writes.append(.updateList(l))
                upserted.append(.list(l))
            case .account:
                continue
            }
        }
        for var d in snap.domainsByID.values {
            guard let c = d.catchAll, addressKey(c) == key else { continue }
            d.catchAll = replacement
            writes.append(.updateDomain(d))
            domains.append(d)
            report.append("catch-all of \(d.name.unicode)")
        }
    }

    /// The same changes, applied to the snapshot once the store has them.
    func apply(to snap: inout DirectorySnapshot) {
        for k in removedKeys { snap.remove(key: k) }
        for e in upserted { snap.upsert(e) }
        for d in domains { snap.upsert(domain: d) }
    }
}
