import Delivery
import Directory
import EmailAuth
import Foundation
import MailCore
import Storage
import Synchronization

/// The DKIM keys of the local domains: generated and rotated by administrators, and used to
/// sign mail from those domains before it is queued (relaxed/relaxed, From oversigned).
public final class DKIMKeyring: OutboundSigner {
    let store: any DKIMKeyStore
    let directory: DirectoryService
    /// The active signer of each domain (ASCII, lower-case).
    private let signers = Mutex<[String: DKIMSigner]>([:])

    public init(store: any DKIMKeyStore, directory: DirectoryService) throws {
        self.store = store
        self.directory = directory
        try reload()
    }

    public func reload() throws {
        var active: [String: DKIMSigner] = [:]
        for r in try store.dkimKeys() where r.active {
            guard let algorithm = DKIMAlgorithm(rawValue: r.algorithm), let key = try? DKIMKey(algorithm: algorithm, privateKeyPEM: r.privateKeyPEM) else {
                continue
            }
            active[r.domain] = DKIMSigner(domain: r.domain, selector: r.selector, key: key)
        }
        signers.withLock { $0 = active }
    }

    /// Signs with the key of the From: domain; when it has none, with the envelope sender's.
    public func signature(for message: [UInt8], from: String?, sender: String?) -> String? {
        let keys = signers.withLock { $0 }
        guard !keys.isEmpty else { return nil }
        let candidates = [from.flatMap(Self.domain(ofField:)), sender.map(QueueEntry.domain(of:))].compactMap { $0 }
        guard let signer = candidates.lazy.compactMap({ keys[$0] }).first else { return nil }
        return signer.signature(for: message)
    }

    /// Seals a forwarded message with the forwarding domain's active key (RFC 8617 §5.1).
    public func arcSet(for message: [UInt8], domain: String, context: ARCContext) -> String? {
        guard let signer = signers.withLock({ $0[domain.lowercased()] }) else { return nil }
        let chain = ARCVerification(
            result: context.chainPassed ? .pass : .fail, instances: context.instances, sealers: [], reason: "")
        return ARCSealer(domain: signer.domain, selector: signer.selector, key: signer.key).seal(message, results: context.results, chain: chain)
    }

    /// The domain of the (first) address in a From: field's value (`Name <a@b>` or `a@b`).
    static func domain(ofField value: String) -> String? {
        let address = value.firstIndex(of: "<").map { value[value.index(after: $0)...].prefix { $0 != ">" } } ?? Substring(value)
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...].prefix { !" \t\r\n>,;()".contains($0) }
        return domain.isEmpty ? nil : domain.lowercased()
    }

    // MARK: - Administration

    func view(_ r: DKIMKeyRecord) -> DKIMKeyView {
        let record = DKIMAlgorithm(rawValue: r.algorithm).flatMap { try? DKIMKey(algorithm: $0, privateKeyPEM: r.privateKeyPEM) }?.dnsRecord ?? ""
        return DKIMKeyView(
            domain: r.domain, selector: r.selector, algorithm: r.algorithm, active: r.active, createdAt: r.createdAt,
            dnsName: "\(r.selector)._domainkey.\(r.domain)", dnsRecord: record)
    }

    public func list(actor: AdminActor) throws -> [DKIMKeyView] {
        let snap = directory.snapshot
        return try store.dkimKeys().filter { r in
            actor.isServerAdmin || ((try? DomainName(r.domain)).map { directory.may(actor, manageDomain: $0, in: snap) } ?? false)
        }.map(view)
    }

    /// Makes a new key for a local domain and makes it the active one. `rotate` is the same
    /// with a fresh selector: the old key stays (inactive) so its DNS record can be kept until
    /// mail signed with it has been delivered and checked. `algorithm`: `rsa-2048` (default)
    /// or `ed25519`; `selector`: by default a name from the date, e.g. `mr202611`.
    public func generate(domain name: String, algorithm: String? = nil, selector: String? = nil, actor: AdminActor) throws -> DKIMKeyView {
        let domain: DomainName
        do { domain = try DomainName(name) } catch {
            throw AdminError.invalid("invalid_domain", "\(name) is not a domain name")
        }
        let snap = directory.snapshot
        guard snap.isLocal(domain) else {
            throw AdminError.notFound("domain_not_found", "\(domain.unicode) is not a local domain — add it with `mailroom domain add \(domain.unicode)`")
        }
        guard directory.may(actor, manageDomain: domain, in: snap) else {
            throw AdminError.forbidden("this token may not manage \(domain.unicode)")
        }
        let algorithmName = algorithm ?? DKIMAlgorithm.rsa2048.rawValue
        guard let algorithm = DKIMAlgorithm(rawValue: algorithmName) else {
            throw AdminError.invalid("invalid_algorithm", "algorithm must be one of \(DKIMAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let now = DirectoryService.now()
        let existing = Set(try store.dkimKeys().filter { $0.domain == domain.ascii }.map(\.selector))
        let selector = try selector ?? Self.defaultSelector(now, algorithm: algorithm, taken: existing)
        guard Self.isValidSelector(selector) else {
            throw AdminError.invalid("invalid_selector", "a selector is letters, digits and hyphens (dot-separated), like mr202611")
        }
        let key = DKIMKey.generate(algorithm)
        let record = DKIMKeyRecord(domain: domain.ascii, selector: selector, algorithm: algorithm.rawValue, privateKeyPEM: key.privateKeyPEM, createdAt: now, active: true)
        do {
            _ = try store.addDKIMKey(
                record,
                audit: AuditEntry(
                    at: now, actor: actor.name, action: "dkim.generate", target: "\(selector)._domainkey.\(domain.ascii)", domain: domain.ascii,
                    before: nil, after: algorithm.rawValue, sourceIP: actor.sourceIP))
        } catch let e as StoreError {
            throw AdminError.from(e)
        }
        try reload()
        return view(record)
    }

    static func defaultSelector(_ now: Date, algorithm: DKIMAlgorithm, taken: Set<String>) throws -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMM"
        let base = "mr" + f.string(from: now) + (algorithm == .ed25519 ? "e" : "")
        if !taken.contains(base) { return base }
        for n in 2...1000 where !taken.contains("\(base)-\(n)") { return "\(base)-\(n)" }
        throw AdminError.conflict("selector_taken", "no free selector; pass --selector")
    }

    static func isValidSelector(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 63
            && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                !label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-") && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }
}

/// What the admin API serves about outbound mail.
public struct OutboundAdmin: Sendable {
    public let queue: QueueAdmin
    public let dkim: DKIMKeyring
    public let stats: OutboundStats

    public init(queue: QueueAdmin, dkim: DKIMKeyring, stats: OutboundStats) {
        self.queue = queue
        self.dkim = dkim
        self.stats = stats
    }
}
