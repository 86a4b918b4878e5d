import Crypto
import Dispatch
import Foundation
import MailCore
import Storage
import Synchronization

// Tokens, the audit log, and bulk import/export.
extension DirectoryService {
    // MARK: Tokens

    /// A token for `role` (`server-admin`, or `domain-admin` of `domains`); its secret is in
    /// the answer only.
    public func createToken(name: String, role: String, domains: [String] = [], actor: AdminActor) throws -> TokenCreated {
        try requireServerAdmin(actor, "create tokens")
        try Self.checkText(name, field: "name", max: 128)
        guard !name.isEmpty else { throw AdminError.invalid("name_required", "give the token a name saying who or what uses it") }
        guard let role = TokenRole(rawValue: role) else {
            throw AdminError.invalid("invalid_role", "role must be server-admin or domain-admin")
        }
        let snap = snapshot
        let domains = try domains.map { text -> DomainName in
            let d = try Self.parseDomain(text)
            guard snap.domain(d) != nil else { throw AdminError.domainMissing(d) }
            return d
        }
        if role == .domainAdmin && domains.isEmpty {
            throw AdminError.invalid("domains_required", "a domain-admin token needs the domains it manages: --domain example.org")
        }
        if role == .serverAdmin && !domains.isEmpty {
            throw AdminError.invalid("domains_not_allowed", "a server-admin token manages every domain; leave out --domain")
        }
        let (secret, record) = newToken(name: name, role: role, domains: domains)
        var stored = record
        stored.id = try store.insertToken(record, audit: audit(actor, "token.create", target: "token \(name)", domain: nil, before: nil, after: view(record)))
        return TokenCreated(token: view(stored), secret: secret)
    }

    /// A new random secret and the record that stores its hash.
    public func newToken(name: String, role: TokenRole, domains: [DomainName]) -> (String, TokenRecord) {
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = rng.next() }
        let secret = "mrt_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return (secret, TokenRecord(name: name, secretHash: Self.tokenHash(secret), role: role, domains: domains, createdAt: clock()))
    }

    /// Tokens (and app passwords, console sessions, reset links, recovery codes) are
    /// high-entropy secrets, so a fast hash is enough to keep the database from holding
    /// anything usable.
    public static func tokenHash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).lowercaseHex
    }

    public func tokens(actor: AdminActor) throws -> [TokenView] {
        try requireServerAdmin(actor, "list tokens")
        return try store.tokens().map(view)
    }

    public func revokeToken(_ id: Int64, actor: AdminActor) throws {
        try requireServerAdmin(actor, "revoke tokens")
        guard let t = try store.tokens().first(where: { $0.id == id }) else {
            throw AdminError.notFound("token_not_found", "token \(id) does not exist — see `mailroom token list`")
        }
        guard t.revokedAt == nil else { throw AdminError.conflict("token_revoked", "token \(id) is already revoked") }
        try store.revokeToken(id: id, at: clock(), audit: audit(actor, "token.revoke", target: "token \(t.name)", domain: nil, before: view(t), after: nil))
    }

    /// The actor a bearer secret stands for, or nil when it is unknown or revoked.
    public func actor(bearer secret: String, sourceIP: String?) -> AdminActor? {
        guard secret.hasPrefix("mrt_"), secret.utf8.count < 200,
            let t = try? store.token(secretHash: Self.tokenHash(secret)), t.revokedAt == nil
        else { return nil }
        let now = clock()
        // Record use at most once a minute, so reads do not each cost a disk write.
        if t.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            try? store.markTokenUsed(id: t.id, at: now)
        }
        return AdminActor(name: "token:\(t.name)", role: t.role, domains: Set(t.domains), sourceIP: sourceIP)
    }

    func view(_ t: TokenRecord) -> TokenView {
        TokenView(
            id: t.id, name: t.name, role: t.role.rawValue, domains: t.domains.map(\.unicode), createdAt: t.createdAt,
            lastUsedAt: t.lastUsedAt, revokedAt: t.revokedAt)
    }

    // MARK: Audit

    public func auditLog(since: Date?, target: String?, limit: Int, actor: AdminActor) throws -> [AuditView] {
        guard (1...10_000).contains(limit) else { throw AdminError.invalid("invalid_limit", "limit must be 1 to 10000") }
        var domains: [String]?
        if !actor.isServerAdmin {
            let snap = snapshot
            domains = snap.domainsByID.values.filter { may(actor, manage: $0.name, in: snap) }.map(\.name.ascii)
        }
        return try store.auditEntries(since: since, target: target, domains: domains, limit: limit).map {
            AuditView(
                id: $0.id, at: $0.at, actor: $0.actor, action: $0.action, target: $0.target, domain: $0.domain,
                before: $0.before, after: $0.after, sourceIp: $0.sourceIP)
        }
    }

    // MARK: Bulk

    public static let csvColumns = ["address", "name", "quota", "password", "password_hash"]

    /// Imports accounts from CSV (header row naming the columns; `address` required; `name`,
    /// `quota`, `password`, `password_hash` optional). With `partial` false nothing is imported
    /// if any row is bad; every bad row is reported with its line either way.
    public func importAccounts(csv: String, partial: Bool, actor: AdminActor) throws -> ImportReport {
        let records: [CSV.Record]
        do { records = try CSV.parse(csv) } catch {
            return ImportReport(imported: 0, errors: [.init(line: error.line, message: error.message)])
        }
        guard let header = records.first else { throw AdminError.invalid("empty_csv", "the CSV file is empty") }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if let unknown = columns.first(where: { !Self.csvColumns.contains($0) }) {
            throw AdminError.invalid(
                "unknown_column", "line \(header.line): unknown column \"\(unknown)\"; columns are \(Self.csvColumns.joined(separator: ", "))")
        }
        guard columns.contains("address") else {
            throw AdminError.invalid("address_column_required", "line \(header.line): the header must name an address column")
        }
        struct Row { var line: Int; var address: String; var name: String; var quota: Int64; var password: String?; var hash: String? }
        var rows: [Row] = []
        var errors: [ImportReport.RowError] = []
        for r in records.dropFirst() {
            guard r.fields.count == columns.count else {
                errors.append(.init(line: r.line, message: "has \(r.fields.count) fields, the header has \(columns.count)"))
                continue
            }
            var v: [String: String] = [:]
            for (c, f) in zip(columns, r.fields) { v[c] = f }
            do {
                let name = v["name"] ?? ""
                try Self.checkText(name, field: "name", max: 256)
                let quota = try (v["quota"].flatMap { $0.isEmpty ? nil : $0 }).map(Self.parseQuota) ?? 0
                let password = v["password"].flatMap { $0.isEmpty ? nil : $0 }
                let hash = v["password_hash"].flatMap { $0.isEmpty ? nil : $0 }
                if password != nil && hash != nil { throw AdminError.invalid("password_conflict", "give password or password_hash, not both") }
                if let password, let p = PasswordPolicy.problem(with: password) { throw AdminError.invalid("weak_password", p) }
                if let hash {
                    do { try StoredPassword.validate(hash) } catch {
                        throw AdminError.invalid("invalid_hash", "password_hash \(error.message)")
                    }
                }
                rows.append(Row(line: r.line, address: v["address"] ?? "", name: name, quota: quota, password: password, hash: hash))
            } catch let e as AdminError {
                errors.append(.init(line: r.line, message: e.message))
            }
        }
        // Check addresses against the directory and each other before spending time on hashes.
        let snap = snapshot
        var seen: Set<String> = []
        rows = rows.filter { row in
            do {
                let a = try newEntryAddress(row.address, actor, in: snap)
                guard seen.insert(a.key).inserted else { throw AdminError.conflict("duplicate", "\(a.displayForm) appears twice in the file") }
                return true
            } catch let e as AdminError {
                errors.append(.init(line: row.line, message: e.message))
                return false
            } catch { return false }
        }
        errors.sort { $0.line < $1.line }
        if !errors.isEmpty && !partial { return ImportReport(imported: 0, errors: errors) }
        // Hash on every core: PBKDF2 dominates the import's time.
        let hashes = Mutex<[Int: String]>([:])
        let iterations = passwordIterations
        let plain = rows.enumerated().compactMap { i, r in r.password.map { (i, $0) } }
        DispatchQueue.concurrentPerform(iterations: plain.count) { k in
            let (i, p) = plain[k]
            if let h = try? PasswordHash.make(password: p, iterations: iterations) {
                hashes.withLock { $0[i] = h.description }
            }
        }
        let computed = hashes.withLock { $0 }
        let now = clock()
        return try mutate { snap in
            var writes: [DirectoryWrite] = []
            var records: [AccountRecord] = []
            for (i, row) in rows.enumerated() {
                // The directory may have changed while hashing: check again under the lock.
                let address = try newEntryAddress(row.address, actor, in: snap)
                let record = AccountRecord(
                    address: address, name: row.name, passwordHash: row.hash ?? computed[i], quotaBytes: row.quota, createdAt: now)
                writes.append(.insertAccount(record))
                records.append(record)
            }
            let entry = audit(
                actor, "account.import", target: "\(records.count) accounts", domain: nil, before: nil,
                after: records.map(\.address.description))
            return (writes, [entry], { ids, s in
                for (var r, id) in zip(records, ids) {
                    r.id = id
                    s.upsert(.account(r))
                }
                return ImportReport(imported: records.count, errors: errors)
            })
        }
    }

    /// All accounts (of one domain, or all the actor manages) as CSV with password hashes, in
    /// the form `importAccounts` reads.
    public func exportAccounts(domain: String?, actor: AdminActor) throws -> String {
        let snap = snapshot
        var only: DomainName?
        if let domain { only = try managedDomain(try Self.parseDomain(domain), actor, in: snap).name }
        var lines = [CSV.format(["address", "name", "quota", "password_hash"])]
        let accounts = snap.entries.values.compactMap { e -> AccountRecord? in
            guard case .account(let a) = e else { return nil }
            if let only, a.address.domain != only { return nil }
            return may(actor, manage: a.address.domain, in: snap) ? a : nil
        }.sorted { $0.address.key < $1.address.key }
        for a in accounts {
            lines.append(CSV.format([a.address.description, a.name, a.quotaBytes == 0 ? "" : String(a.quotaBytes), a.passwordHash ?? ""]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
