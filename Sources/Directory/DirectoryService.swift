import Crypto
import Foundation
import MailCore
import Storage
import Synchronization

/// Every admin operation on the directory, written once: the HTTP API and (through it) the CLI
/// call these. Each checks the actor's rights, validates, writes to the store with its audit
/// entry in one transaction, and then updates the in-memory snapshot that resolution reads.
public final class DirectoryService: Sendable {
    /// What the directory keeps in the store: itself, the credentials beside it, the events,
    /// audit and logins it reports, junk training it resets, and per-account mail totals.
    public typealias Store = DirectoryStore & EventStore & JunkStore & MailboxStore

    public let store: any Store
    private let state: Mutex<DirectorySnapshot>
    /// Serialises writers, so that validation against the snapshot and the write that follows
    /// see no other change in between.
    private let writer = Mutex<Void>(())
    let clock: @Sendable () -> Date
    let passwordIterations: Int
    public let limits: ResolutionLimits
    /// Logins verified lately: account key → HMAC (process-random key) of the stored hash and
    /// the password. Mail clients reconnect all day; PBKDF2 at 210,000 rounds on each is
    /// CPU thrown away (Dovecot keeps an auth cache for the same reason). A new password
    /// changes the stored hash, so an entry for the old one never matches again.
    let loginCache = Mutex<[String: [UInt8]]>([:])
    let loginCacheKey = SymmetricKey(size: .bits256)

    public init(
        store: any Store, clock: @escaping @Sendable () -> Date = DirectoryService.now,
        passwordIterations: Int = PasswordHash.defaultIterations, limits: ResolutionLimits = ResolutionLimits()
    ) throws {
        self.store = store
        self.state = Mutex(DirectorySnapshot(try store.loadDirectory()))
        self.clock = clock
        self.passwordIterations = passwordIterations
        self.limits = limits
    }

    /// The time in whole milliseconds since 1970, the form the store keeps, so that a record in
    /// the snapshot equals the same record read back from the store. Rounded down, never to
    /// the nearest: a time that is still to come would make mail queued now not yet due when
    /// the queue is asked at once (a test failed so, under load).
    public static func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    /// The current directory; a cheap copy that never changes under the caller.
    public var snapshot: DirectorySnapshot { state.withLock { $0 } }

    /// Resolves an address against the current snapshot.
    public func resolve(_ address: String) -> Resolution { snapshot.resolve(address, limits: limits) }

    // MARK: Writing

    /// Runs `body` with the writer lock held. `body` validates against the snapshot it is given
    /// and returns the writes, audit entries and snapshot update to commit.
    func mutate<T>(
        _ body: (DirectorySnapshot) throws -> (writes: [DirectoryWrite], audit: [AuditEntry], apply: ([Int64], inout DirectorySnapshot) -> T)
    ) throws -> T {
        try writer.withLock { _ in
            let current = snapshot
            let (writes, audit, apply) = try body(current)
            let ids: [Int64]
            do { ids = try store.write(writes, audit: audit) } catch let e as StoreError { throw AdminError.from(e) }
            return state.withLock { snap in apply(ids, &snap) }
        }
    }

    func audit(
        _ actor: AdminActor, _ action: String, target: String, domain: DomainName?, before: (any Encodable)?,
        after: (any Encodable)?
    ) -> AuditEntry {
        AuditEntry(
            at: clock(), actor: actor.name, action: action, target: target, domain: domain?.ascii,
            before: before.map(Self.auditJSON), after: after.map(Self.auditJSON), sourceIP: actor.sourceIP)
    }

    /// An audit entry for an action outside the directory (quarantine, queue), to be written
    /// in the same transaction as the action.
    public func auditEntry(_ actor: AdminActor, _ action: String, target: String, domain: DomainName? = nil) -> AuditEntry {
        audit(actor, action, target: target, domain: domain, before: nil, after: nil)
    }

    /// JSON for the audit log. Password hashes never go there.
    static func auditJSON(_ value: any Encodable) -> String {
        let encoder = JSONConventions.encoder()
        guard let data = try? encoder.encode(value),
            var object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return "{}" }
        object["password_hash"] = nil
        let out = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Rights

    /// The domain record for `name` if it exists and the actor may manage it.
    func managedDomain(_ name: DomainName, _ actor: AdminActor, in snap: DirectorySnapshot) throws -> DomainRecord {
        guard let d = snap.domain(name) else {
            // A domain admin learns nothing about domains that are not theirs.
            if !actor.isServerAdmin { throw AdminError.forbidden(notYours(name)) }
            throw AdminError.domainMissing(name)
        }
        try authorize(actor, domain: d, in: snap)
        return d
    }

    func authorize(_ actor: AdminActor, domain: DomainRecord, in snap: DirectorySnapshot) throws {
        guard !actor.isServerAdmin else { return }
        if actor.domains.contains(domain.name) { return }
        if let target = domain.aliasOf, let t = snap.domainsByID[target], actor.domains.contains(t.name) { return }
        throw AdminError.forbidden(notYours(domain.name))
    }

    func may(_ actor: AdminActor, manage domain: DomainName, in snap: DirectorySnapshot) -> Bool {
        guard let d = snap.domain(domain) else { return actor.isServerAdmin }
        return (try? authorize(actor, domain: d, in: snap)) != nil
    }

    /// Whether `actor` may manage `domain` (a server admin always may).
    public func may(_ actor: AdminActor, manageDomain domain: DomainName, in snap: DirectorySnapshot) -> Bool {
        may(actor, manage: domain, in: snap)
    }

    public func requireServerAdmin(_ actor: AdminActor, _ what: String) throws {
        guard actor.isServerAdmin else {
            throw AdminError.forbidden("only a server admin may \(what); this token is a domain admin's")
        }
    }

    private func notYours(_ name: DomainName) -> String {
        "this token may not manage \(name.unicode): it is limited to other domains"
    }

    static func parseAddress(_ text: String) throws -> EmailAddress {
        do { return try EmailAddress(text.trimmingCharacters(in: .whitespaces)) } catch { throw AdminError.badAddress(error) }
    }

    static func parseDomain(_ text: String) throws -> DomainName {
        do { return try DomainName(text) } catch { throw AdminError.badAddress(error) }
    }

    /// An address for a new directory entry: a plain dot-atom local part in a managed domain
    /// that is not itself a domain alias.
    func newEntryAddress(_ text: String, _ actor: AdminActor, in snap: DirectorySnapshot) throws -> EmailAddress {
        let address = try Self.parseAddress(text)
        guard !address.isQuoted else {
            throw AdminError.invalid(
                "invalid_address", "\(text): quoted local parts cannot be used for accounts, aliases or lists")
        }
        let domain = try managedDomain(address.domain, actor, in: snap)
        if let target = domain.aliasOf.flatMap({ snap.domainsByID[$0] }) {
            throw AdminError.invalid(
                "domain_is_alias",
                "\(domain.name.unicode) is an alias of \(target.name.unicode): create \(address.localPart)@\(target.name.unicode) instead")
        }
        if let existing = snap.entry(address) {
            throw AdminError.conflict(
                "address_taken",
                "\(address.displayForm) is already \(existing.kindName == "alias" ? "an" : "a") \(existing.kindName == "list" ? "distribution list" : existing.kindName) — choose another address, or remove that one first"
            )
        }
        return address
    }

    /// Checks targets and members: each must be a valid address; a local one must exist.
    func checkTargets(_ targets: [String], in snap: DirectorySnapshot, what: String) throws -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        for t in targets {
            let a = try Self.parseAddress(t)
            if snap.isLocal(a.domain) {
                if case .unknown = snap.lookup(a) {
                    throw AdminError.invalid(
                        "unknown_target",
                        "\(what) \(a.displayForm) does not exist — create the account, alias or list first")
                }
            }
            if seen.insert(a.key).inserted { out.append(a.description) }
        }
        return out
    }

    static func checkText(_ text: String, field: String, max: Int) throws {
        guard text.utf8.count <= max else { throw AdminError.invalid("field_too_long", "\(field) is longer than \(max) bytes") }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AdminError.invalid("invalid_field", "\(field) contains control characters")
        }
    }

    static func parseQuota(_ text: String) throws -> Int64 {
        guard let q = ByteSize.parse(text) else {
            throw AdminError.invalid("invalid_quota", "quota \"\(text)\" is not a size: write it like 5G, 500M or unlimited")
        }
        return q
    }
}
