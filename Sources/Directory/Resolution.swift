import MailCore
import Storage

/// How an address resolves: what it is, and every final recipient it delivers to with the path
/// of aliases and lists that leads there. Computed by ``DirectorySnapshot/resolve(_:limits:)``, a
/// pure function of the snapshot and the address.
public struct Resolution: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case account
        case alias
        case list
        /// Unknown local part delivered to the domain's catch-all target.
        case catchAll = "catch-all"
        /// Not one of our domains.
        case external
        /// One of our domains, but no such address and no catch-all.
        case unknown
        /// An account that is disabled: mail to it is refused.
        case disabled
        /// Not a valid address.
        case invalid
    }

    public struct Recipient: Hashable, Sendable {
        /// The final address mail goes to.
        public var address: String
        /// The local account, or nil for an external address.
        public var accountID: Int64?
        /// The aliases and lists passed through, outermost first (empty for a direct account).
        public var path: [String]

        public init(address: String, accountID: Int64?, path: [String]) {
            self.address = address
            self.accountID = accountID
            self.path = path
        }
    }

    /// A member or target that yields no recipient, and why.
    public struct Skipped: Hashable, Sendable {
        public enum Reason: String, Hashable, Sendable, Codable {
            case disabled, unknown, invalid, tooDeep = "too-deep", limit
        }
        public var address: String
        public var reason: Reason
        public var path: [String]
    }

    public var input: String
    public var kind: Kind
    /// The address the directory entry has (after domain alias and subaddress), when local.
    public var canonical: String?
    /// `tag` of `user+tag@…`, when the address matched through its subaddress.
    public var subaddressTag: String?
    /// The domain alias the address came in through (`example.net` for `x@example.net`).
    public var viaDomainAlias: String?
    public var recipients: [Recipient]
    public var skipped: [Skipped]
    /// The expansion stopped at the recipient limit.
    public var truncated: Bool
    /// Why the address is invalid, when it is.
    public var error: String?

    /// Whether mail to this address can be accepted for local delivery or forwarding.
    public var isDeliverable: Bool {
        switch kind {
        case .account, .alias, .list, .catchAll: return !recipients.isEmpty
        case .external, .unknown, .disabled, .invalid: return false
        }
    }
}

/// Bounds on expansion, so that a hostile or mistaken directory cannot make one address cost
/// without limit.
public struct ResolutionLimits: Hashable, Sendable {
    /// Most final recipients one address expands to.
    public var maxRecipients: Int
    /// Most nested aliases and lists on one path.
    public var maxDepth: Int

    public init(maxRecipients: Int = 100_000, maxDepth: Int = 32) {
        self.maxRecipients = maxRecipients
        self.maxDepth = maxDepth
    }
}

extension DirectorySnapshot {
    /// The directory entry an address names, after domain aliases, subaddressing and catch-all.
    enum Lookup {
        case entry(Entry, canonical: EmailAddress, tag: String?)
        case catchAll(target: String, canonical: EmailAddress)
        case unknown(EmailAddress)
        case external
    }

    func lookup(_ address: EmailAddress) -> Lookup {
        guard let domain = effectiveDomain(address.domain) else { return .external }
        guard let local = try? EmailAddress(localPart: address.localPart, domain: domain.name) else {
            return .unknown(address)
        }
        if let e = entries[local.key] { return .entry(e, canonical: local, tag: nil) }
        if let (base, tag) = local.subaddress(), let baseAddress = try? EmailAddress(localPart: base, domain: domain.name),
            let e = entries[baseAddress.key]
        {
            return .entry(e, canonical: baseAddress, tag: tag)
        }
        if let target = domain.catchAll { return .catchAll(target: target, canonical: local) }
        return .unknown(local)
    }

    /// The account, alias or list an address names, after domain aliases and subaddressing
    /// (not catch-all).
    public func resolvedEntry(_ address: EmailAddress) -> Entry? {
        if case .entry(let e, _, _) = lookup(address) { return e }
        return nil
    }

    /// Resolves `input` to its final recipients.
    public func resolve(_ input: String, limits: ResolutionLimits = ResolutionLimits()) -> Resolution {
        var r = Resolution(
            input: input, kind: .invalid, canonical: nil, subaddressTag: nil, viaDomainAlias: nil, recipients: [],
            skipped: [], truncated: false, error: nil)
        let address: EmailAddress
        do { address = try EmailAddress(input) } catch {
            r.error = error.description
            return r
        }
        if let d = domainsByName[address.domain.ascii], d.aliasOf != nil { r.viaDomainAlias = d.name.unicode }
        var expander = Expander(snapshot: self, limits: limits)
        switch lookup(address) {
        case .external:
            r.kind = .external
            r.recipients = [.init(address: address.description, accountID: nil, path: [])]
            return r
        case .unknown(let canonical):
            r.kind = .unknown
            r.canonical = canonical.description
            return r
        case .catchAll(let target, let canonical):
            r.kind = .catchAll
            r.canonical = canonical.description
            expander.visitedCatchAll.insert(canonical.domain.ascii)
            expander.expand(address: target, path: ["catch-all of \(canonical.domain.unicode)"], depth: 1)
        case .entry(let entry, _, let tag):
            r.canonical = entry.address.description
            r.subaddressTag = tag
            switch entry {
            case .account(let a):
                r.kind = a.state == .active ? .account : .disabled
            case .alias: r.kind = .alias
            case .list: r.kind = .list
            }
            expander.expand(entry: entry, path: [], depth: 0)
        }
        r.recipients = expander.recipients
        r.skipped = expander.skipped
        r.truncated = expander.truncated
        return r
    }
}

/// Depth-first expansion with one visit per alias or list (which both breaks cycles and gives
/// each final recipient one copy) and one entry per final recipient (first path wins).
private struct Expander {
    let snapshot: DirectorySnapshot
    let limits: ResolutionLimits
    var recipients: [Resolution.Recipient] = []
    var skipped: [Resolution.Skipped] = []
    var truncated = false
    var seenRecipients: Set<String> = []
    var expanded: Set<String> = []
    var visitedCatchAll: Set<String> = []

    init(snapshot: DirectorySnapshot, limits: ResolutionLimits) {
        self.snapshot = snapshot
        self.limits = limits
    }

    mutating func add(_ address: EmailAddress, accountID: Int64?, path: [String]) {
        guard seenRecipients.insert(address.key).inserted else { return }
        guard recipients.count < limits.maxRecipients else {
            truncated = true
            return
        }
        recipients.append(.init(address: address.description, accountID: accountID, path: path))
    }

    mutating func expand(entry: DirectorySnapshot.Entry, path: [String], depth: Int) {
        switch entry {
        case .account(let a):
            if a.state == .active {
                add(a.address, accountID: a.id, path: path)
            } else {
                skipped.append(.init(address: a.address.description, reason: .disabled, path: path))
            }
        case .alias(let alias):
            expandTargets(of: alias.address, alias.targets, path: path, depth: depth)
        case .list(let list):
            expandTargets(of: list.address, list.members, path: path, depth: depth)
        }
    }

    mutating func expandTargets(of owner: EmailAddress, _ texts: [String], path: [String], depth: Int) {
        guard expanded.insert(owner.key).inserted else { return }
        let parsed = snapshot.parsedTargets[owner.key] ?? texts.map { try? EmailAddress($0) }
        let inner = path + [owner.description]
        for (text, address) in zip(texts, parsed) { expand(text, address, path: inner, depth: depth + 1) }
    }

    mutating func expand(address text: String, path: [String], depth: Int) {
        expand(text, try? EmailAddress(text), path: path, depth: depth)
    }

    mutating func expand(_ text: String, _ address: EmailAddress?, path: [String], depth: Int) {
        guard !truncated else { return }
        guard depth <= limits.maxDepth else {
            skipped.append(.init(address: text, reason: .tooDeep, path: path))
            return
        }
        guard let address else {
            skipped.append(.init(address: text, reason: .invalid, path: path))
            return
        }
        switch snapshot.lookup(address) {
        case .external:
            add(address, accountID: nil, path: path)
        case .unknown(let canonical):
            skipped.append(.init(address: canonical.description, reason: .unknown, path: path))
        case .entry(let entry, _, _):
            expand(entry: entry, path: path, depth: depth)
        case .catchAll(let target, let canonical):
            // The catch-all target was expanded already (its recipients are in), or it points
            // back into its own domain's catch-all: nothing more to add either way.
            guard visitedCatchAll.insert(canonical.domain.ascii).inserted else { return }
            expand(address: target, path: path + ["catch-all of \(canonical.domain.unicode)"], depth: depth + 1)
        }
    }
}
