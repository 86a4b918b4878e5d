import MailCore
import Storage

/// An immutable, in-memory copy of the directory, consistent with the store: the directory
/// service updates it in the same step as every committed change. Address resolution reads only
/// this, so it costs no I/O.
public struct DirectorySnapshot: Sendable {
    public enum Entry: Sendable, Hashable {
        case account(AccountRecord)
        case alias(AliasRecord)
        case list(ListRecord)

        public var address: EmailAddress {
            switch self {
            case .account(let a): return a.address
            case .alias(let a): return a.address
            case .list(let l): return l.address
            }
        }

        public var kindName: String {
            switch self {
            case .account: return "account"
            case .alias: return "alias"
            case .list: return "list"
            }
        }
    }

    public private(set) var domainsByName: [String: DomainRecord] = [:]
    public private(set) var domainsByID: [Int64: DomainRecord] = [:]
    /// Accounts, aliases and lists by ``EmailAddress/key``.
    public private(set) var entries: [String: Entry] = [:]
    /// Alias targets and list members, parsed once when the entry is stored, so that expansion
    /// does not parse the same addresses on every resolution. nil marks an unparseable one.
    private(set) var parsedTargets: [String: [EmailAddress?]] = [:]
    public private(set) var accountCount = 0
    public private(set) var aliasCount = 0
    public private(set) var listCount = 0

    public init() {}

    public init(_ data: DirectoryData) {
        for d in data.domains { upsert(domain: d) }
        for a in data.accounts { upsert(.account(a)) }
        for a in data.aliases { upsert(.alias(a)) }
        for l in data.lists { upsert(.list(l)) }
    }

    public mutating func upsert(domain: DomainRecord) {
        if let old = domainsByID[domain.id], old.name != domain.name { domainsByName[old.name.ascii] = nil }
        domainsByName[domain.name.ascii] = domain
        domainsByID[domain.id] = domain
    }

    public mutating func remove(domain: DomainRecord) {
        domainsByName[domain.name.ascii] = nil
        domainsByID[domain.id] = nil
    }

    public mutating func upsert(_ entry: Entry) {
        let key = entry.address.key
        let old = entries.updateValue(entry, forKey: key)
        if let old { count(old, -1) }
        count(entry, +1)
        switch entry {
        case .account: parsedTargets[key] = nil
        case .alias(let a): parsedTargets[key] = a.targets.map { try? EmailAddress($0) }
        case .list(let l): parsedTargets[key] = l.members.map { try? EmailAddress($0) }
        }
    }

    public mutating func remove(key: String) {
        if let old = entries.removeValue(forKey: key) { count(old, -1) }
        parsedTargets[key] = nil
    }

    private mutating func count(_ e: Entry, _ delta: Int) {
        switch e {
        case .account: accountCount += delta
        case .alias: aliasCount += delta
        case .list: listCount += delta
        }
    }

    public func domain(_ name: DomainName) -> DomainRecord? { domainsByName[name.ascii] }

    /// The domain mail for `name` is delivered as: itself, or the target of a domain alias.
    public func effectiveDomain(_ name: DomainName) -> DomainRecord? {
        guard let d = domainsByName[name.ascii] else { return nil }
        if let target = d.aliasOf { return domainsByID[target] }
        return d
    }

    public func isLocal(_ domain: DomainName) -> Bool { domainsByName[domain.ascii] != nil }

    public func entry(_ address: EmailAddress) -> Entry? { entries[address.key] }

    public func account(_ address: EmailAddress) -> AccountRecord? {
        if case .account(let a) = entries[address.key] { return a }
        return nil
    }

    public func alias(_ address: EmailAddress) -> AliasRecord? {
        if case .alias(let a) = entries[address.key] { return a }
        return nil
    }

    public func list(_ address: EmailAddress) -> ListRecord? {
        if case .list(let l) = entries[address.key] { return l }
        return nil
    }

    /// Aliases pointing at a domain (domain aliases) of `domain`.
    public func domainAliases(of domain: DomainRecord) -> [DomainRecord] {
        domainsByID.values.filter { $0.aliasOf == domain.id }.sorted { $0.name < $1.name }
    }
}
