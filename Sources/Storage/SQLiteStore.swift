import Foundation
import GRDB
import GRDBSQLite
import MailCore
import Synchronization
import WALWrites

/// The metadata store on SQLite (GRDB), in WAL mode with `synchronous = FULL`, so that a
/// committed transaction is on stable storage when the commit returns.
public final class SQLiteStore: Sendable {
    let writer: any DatabaseWriter
    /// Tells live IMAP sessions which mailboxes changed, after each commit.
    public let changes = MailboxChangeHub()
    /// Wakes the outbound queue runner when a commit added remote recipients.
    public let outbound = Wakeup()
    /// Junk totals per account, as last read (asked for every message received).
    let junkTotals = AccountCache<JunkTotals>()
    /// Each account's active Sieve script (nil: none), as last read (asked for every message
    /// delivered to the account).
    let activeSieveScripts = AccountCache<SieveScriptRecord?>()
    /// Deliveries waiting for the writer: the search indexer ends its transaction for them.
    let deliveriesWaiting = Atomic<Int>(0)
    /// Checkpoints the WAL off the commits' path (file stores; nil in memory).
    let checkpointer: Checkpointer?

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public convenience init(path: String) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // No memory map, whatever SQLite was built with. In WAL mode SQLite unmaps a
            // connection's whole map at the start of any read after another connection
            // committed, so under a steady writer every read re-faults its pages, and a reader
            // that last scanned a large table (SEARCH BODY) spent 25 ms in munmap at the start
            // of its next small read (a SELECT that otherwise takes 0.6 ms). A read() per page
            // costs less than that, and the database's pages stop counting in the RSS.
            try db.execute(sql: "PRAGMA mmap_size = 0")
        }
        config.busyMode = .timeout(5)
        // Before the first connection: the VFS that lets a delivery write its WAL frames with
        // one call (see immediateTransaction). Should it fail, SQLite's own VFS does it all.
        _ = mailroom_wal_install()
        let pool = try DatabasePool(path: path, configuration: config)
        // Every commit fsyncs the WAL before it returns (FULL): a 250 is only said for mail on
        // stable storage. With NORMAL a power cut loses what was committed since the last
        // checkpoint. GRDB sets NORMAL on the writer when it turns WAL on, after the
        // connection's own setup, so it is set here, once the pool is open.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let checkpointer = Checkpointer(path: path)
        try self.init(writer: pool, checkpointer: checkpointer)
        try checkpointer.takeOver(pool)
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> SQLiteStore {
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA foreign_keys = ON") }
        return try SQLiteStore(writer: try DatabaseQueue(configuration: config))
    }

    init(writer: any DatabaseWriter, checkpointer: Checkpointer? = nil) throws {
        self.writer = writer
        self.checkpointer = checkpointer
        let migrator = Schema.migrator
        try writer.read { db in
            let applied = try migrator.appliedIdentifiers(db)
            let unknown = applied.subtracting(Schema.migrationNames)
            if !unknown.isEmpty { throw StoreError.schemaTooNew(unknown: unknown.sorted()) }
        }
        try migrator.migrate(writer)
    }

    /// The names of the schema steps applied to this database, oldest first.
    public func schemaVersion() throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
    }

    /// Runs `body` in a write transaction that is not fsynced on its own: for background work
    /// that can be done again after a crash (the search index, filing staged events), whose
    /// loss loses nothing, and whose next fsynced commit covers it anyway.
    func withoutFsync<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            let synchronous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 2
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            defer { try? db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// Runs `body` in an IMMEDIATE transaction, as `writer.write` does, but with the BEGIN and
    /// COMMIT statements prepared once per connection: GRDB parses both again for every
    /// transaction (28 and 18 µs per message received from one session, timed with bpftrace
    /// beside 87 µs for the nine statements that store it; the commit took about 20 µs less
    /// once they were cached). On an error it rolls back, as GRDB does.
    /// `body` must not catch an error of a statement and go on: SQLite may have rolled the
    /// transaction back already, and the statements after it would each commit on their own.
    ///
    /// When the connection syncs its commits (`synchronous = FULL`, as the writer's are), the
    /// transaction's WAL writes are gathered and written with one call where SQLite makes two
    /// per page (see WALWrites.c): a message received wrote 17 pages with 34 pwrite calls,
    /// about 2.3 µs each.
    static func immediateTransaction<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
        let coalesce = try db.fetchFirstBound("PRAGMA synchronous", row: { sqlite3_column_int($0, 0) }) ?? 0 >= 2
        let connection = UnsafeMutableRawPointer(db.sqliteConnection)
        if coalesce { _ = mailroom_wal_coalesce(connection, 1) }
        // After a commit that synced, nothing is held (the sync wrote it first); after a
        // failure, what is held is frames no connection will read, rewritten by the next.
        defer { if coalesce { _ = mailroom_wal_coalesce(connection, 0) } }
        do {
            let result = try body(db)
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return result
        } catch {
            // Only when SQLite has not rolled back already; the first error is the one to tell.
            try? db.rollback()
            throw error
        }
    }

    /// Fails when the database cannot be read.
    public func healthCheck() throws {
        _ = try writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Directory

    public func loadDirectory() throws -> DirectoryData {
        try writer.read { db in
            DirectoryData(
                domains: try Row.fetchAll(db, sql: "SELECT * FROM domains ORDER BY id").map(DomainRecord.init(row:)),
                accounts: try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY id").map(AccountRecord.init(row:)),
                aliases: try Row.fetchAll(db, sql: "SELECT * FROM aliases ORDER BY id").map(AliasRecord.init(row:)),
                lists: try Row.fetchAll(db, sql: "SELECT * FROM lists ORDER BY id").map(ListRecord.init(row:))
            )
        }
    }

    /// Applies `writes` and records `audit` in one transaction. Returns, for each write, the id of
    /// the row it inserted (or the id it touched).
    @discardableResult
    public func write(_ writes: [DirectoryWrite], audit: [AuditEntry]) throws -> [Int64] {
        try writer.write { db in
            var ids: [Int64] = []
            for w in writes { ids.append(try Self.apply(w, db)) }
            for entry in audit { try Self.insertAudit(entry, db) }
            return ids
        }
    }

    /// Accounts sorted by address, optionally in one domain.
    public func accounts(domainID: Int64?, offset: Int, limit: Int) throws -> [AccountRecord] {
        try writer.read { db in
            if let domainID {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM accounts WHERE domain_id = ? ORDER BY address_key LIMIT ? OFFSET ?",
                    arguments: [domainID, limit, offset]
                ).map(AccountRecord.init(row:))
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM accounts ORDER BY address_key LIMIT ? OFFSET ?", arguments: [limit, offset]
            ).map(AccountRecord.init(row:))
        }
    }

    public func accountCount(domainID: Int64?) throws -> Int {
        try writer.read { db in
            if let domainID {
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts WHERE domain_id = ?", arguments: [domainID]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") ?? 0
        }
    }

    // MARK: Tokens

    @discardableResult
    public func insertToken(_ token: TokenRecord, audit: AuditEntry?) throws -> Int64 {
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tokens (name, secret_hash, role, domains, created_at, last_used_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, NULL, NULL)
                    """,
                arguments: [
                    token.name, token.secretHash, token.role.rawValue, Self.json(token.domains.map(\.ascii)),
                    token.createdAt.timeIntervalSince1970,
                ])
            let id = db.lastInsertedRowID
            if let audit { try Self.insertAudit(audit, db) }
            return id
        }
    }

    public func tokens() throws -> [TokenRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY id").map(TokenRecord.init(row:))
        }
    }

    public func token(secretHash: String) throws -> TokenRecord? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE secret_hash = ?", arguments: [secretHash])
                .map(TokenRecord.init(row:))
        }
    }

    public func revokeToken(id: Int64, at: Date, audit: AuditEntry?) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ?", arguments: [at.timeIntervalSince1970, id])
            guard db.changesCount == 1 else { throw StoreError.notFound("token \(id)") }
            if let audit { try Self.insertAudit(audit, db) }
        }
    }

    public func markTokenUsed(id: Int64, at: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE tokens SET last_used_at = ? WHERE id = ?", arguments: [at.timeIntervalSince1970, id])
        }
    }

    // MARK: Audit

    public func recordAudit(_ entry: AuditEntry) throws {
        try writer.write { db in try Self.insertAudit(entry, db) }
    }

    /// Audit entries, newest first. `domains` limits the result to entries about those domains.
    public func auditEntries(since: Date?, target: String?, domains: [String]?, limit: Int) throws -> [AuditEntry] {
        try writer.read { db in
            var clauses: [String] = []
            var args: [any DatabaseValueConvertible] = []
            if let since {
                clauses.append("at >= ?")
                args.append(since.timeIntervalSince1970)
            }
            if let target {
                clauses.append("(target = ? COLLATE NOCASE OR target LIKE ? ESCAPE '\\')")
                args.append(target)
                args.append("%" + target.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%")
            }
            if let domains {
                guard !domains.isEmpty else { return [] }
                clauses.append("domain IN (\(domains.map { _ in "?" }.joined(separator: ",")))")
                args.append(contentsOf: domains)
            }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            args.append(limit)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM audit \(whereSQL) ORDER BY id DESC LIMIT ?",
                arguments: StatementArguments(args)
            ).map(AuditEntry.init(row:))
        }
    }
}

// MARK: - Writing

extension SQLiteStore {
    static func apply(_ write: DirectoryWrite, _ db: Database) throws -> Int64 {
        switch write {
        case .insertDomain(let d):
            if try Int.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [d.name.ascii]) != nil {
                throw StoreError.domainTaken(d.name.unicode)
            }
            try db.execute(
                sql: "INSERT INTO domains (name, alias_of, catch_all, mta_sts, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [d.name.ascii, d.aliasOf, d.catchAll, d.mtaSTS.rawValue, d.createdAt.timeIntervalSince1970])
            return db.lastInsertedRowID
        case .updateDomain(let d):
            try db.execute(
                sql: "UPDATE domains SET alias_of = ?, catch_all = ?, mta_sts = ? WHERE id = ?",
                arguments: [d.aliasOf, d.catchAll, d.mtaSTS.rawValue, d.id])
            try requireChange(db, "domain \(d.name)")
            return d.id
        case .deleteDomain(let id):
            try db.execute(sql: "DELETE FROM domains WHERE id = ?", arguments: [id])
            try requireChange(db, "domain \(id)")
            return id

        case .insertAccount(let a):
            try claimAddress(a.address, kind: "account", db)
            try db.execute(
                sql: """
                    INSERT INTO accounts (domain_id, address, address_key, name, password_hash, quota_bytes, state,
                        created_at, updated_at)
                    VALUES ((SELECT id FROM domains WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    a.address.domain.ascii, a.address.description, a.address.key, a.name, a.passwordHash,
                    a.quotaBytes, a.state.rawValue, a.createdAt.timeIntervalSince1970, a.updatedAt.timeIntervalSince1970,
                ])
            let id = db.lastInsertedRowID
            try ensureDefaultMailboxes(id, db)
            return id
        case .updateAccount(let a):
            try moveAddress(table: "accounts", id: a.id, to: a.address, kind: "account", db)
            try db.execute(
                sql: """
                    UPDATE accounts SET domain_id = (SELECT id FROM domains WHERE name = ?), address = ?,
                        address_key = ?, name = ?, password_hash = ?, quota_bytes = ?, state = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    a.address.domain.ascii, a.address.description, a.address.key, a.name, a.passwordHash,
                    a.quotaBytes, a.state.rawValue, a.updatedAt.timeIntervalSince1970, a.id,
                ])
            try requireChange(db, "account \(a.address)")
            return a.id
        case .deleteAccount(let id):
            return try deleteAddressOwner(table: "accounts", id: id, db)

        case .insertAlias(let a):
            try claimAddress(a.address, kind: "alias", db)
            try db.execute(
                sql: """
                    INSERT INTO aliases (domain_id, address, address_key, targets, created_at)
                    VALUES ((SELECT id FROM domains WHERE name = ?), ?, ?, ?, ?)
                    """,
                arguments: [
                    a.address.domain.ascii, a.address.description, a.address.key, json(a.targets),
                    a.createdAt.timeIntervalSince1970,
                ])
            return db.lastInsertedRowID
        case .updateAlias(let a):
            try moveAddress(table: "aliases", id: a.id, to: a.address, kind: "alias", db)
            try db.execute(
                sql: """
                    UPDATE aliases SET domain_id = (SELECT id FROM domains WHERE name = ?), address = ?,
                        address_key = ?, targets = ? WHERE id = ?
                    """,
                arguments: [a.address.domain.ascii, a.address.description, a.address.key, json(a.targets), a.id])
            try requireChange(db, "alias \(a.address)")
            return a.id
        case .deleteAlias(let id):
            return try deleteAddressOwner(table: "aliases", id: id, db)

        case .insertList(let l):
            try claimAddress(l.address, kind: "list", db)
            try db.execute(
                sql: """
                    INSERT INTO lists (domain_id, address, address_key, name, description, members, posting_policy,
                        allowed_senders, owners, moderators, subject_prefix, reply_to, hidden_members, created_at)
                    VALUES ((SELECT id FROM domains WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: listArguments(l) + [l.createdAt.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            try db.execute(sql: "UPDATE lists SET dmarc_rewrite = ? WHERE id = ?", arguments: [l.dmarcRewrite.rawValue, id])
            return id
        case .updateList(let l):
            try moveAddress(table: "lists", id: l.id, to: l.address, kind: "list", db)
            try db.execute(
                sql: """
                    UPDATE lists SET domain_id = (SELECT id FROM domains WHERE name = ?), address = ?, address_key = ?,
                        name = ?, description = ?, members = ?, posting_policy = ?, allowed_senders = ?, owners = ?,
                        moderators = ?, subject_prefix = ?, reply_to = ?, hidden_members = ?
                    WHERE id = ?
                    """,
                arguments: listArguments(l) + [l.id])
            try requireChange(db, "list \(l.address)")
            try db.execute(sql: "UPDATE lists SET dmarc_rewrite = ? WHERE id = ?", arguments: [l.dmarcRewrite.rawValue, l.id])
            return l.id
        case .deleteList(let id):
            return try deleteAddressOwner(table: "lists", id: id, db)
        }
    }

    private static func listArguments(_ l: ListRecord) -> StatementArguments {
        [
            l.address.domain.ascii, l.address.description, l.address.key, l.name, l.description, json(l.members),
            l.postingPolicy.rawValue, json(l.allowedSenders), json(l.owners), json(l.moderators), l.subjectPrefix,
            l.replyTo.rawValue, l.hiddenMembers,
        ]
    }

    /// One address space: an address belongs to at most one account, alias or list.
    private static func claimAddress(_ address: EmailAddress, kind: String, _ db: Database) throws {
        if let owner = try String.fetchOne(db, sql: "SELECT kind FROM addresses WHERE key = ?", arguments: [address.key]) {
            throw StoreError.addressTaken(address.displayForm, kind: "an \(owner == "list" ? "distribution list" : owner)")
        }
        guard try Int.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [address.domain.ascii]) != nil
        else { throw StoreError.notFound("domain \(address.domain.unicode)") }
        try db.execute(sql: "INSERT INTO addresses (key, kind) VALUES (?, ?)", arguments: [address.key, kind])
    }

    private static func moveAddress(table: String, id: Int64, to address: EmailAddress, kind: String, _ db: Database) throws {
        guard let oldKey = try String.fetchOne(db, sql: "SELECT address_key FROM \(table) WHERE id = ?", arguments: [id])
        else { throw StoreError.notFound("\(kind) \(id)") }
        guard oldKey != address.key else { return }
        try db.execute(sql: "DELETE FROM addresses WHERE key = ?", arguments: [oldKey])
        try claimAddress(address, kind: kind, db)
    }

    private static func deleteAddressOwner(table: String, id: Int64, _ db: Database) throws -> Int64 {
        guard let key = try String.fetchOne(db, sql: "SELECT address_key FROM \(table) WHERE id = ?", arguments: [id])
        else { throw StoreError.notFound("\(table) row \(id)") }
        try db.execute(sql: "DELETE FROM \(table) WHERE id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM addresses WHERE key = ?", arguments: [key])
        return id
    }

    private static func requireChange(_ db: Database, _ what: String) throws {
        if db.changesCount == 0 { throw StoreError.notFound(what) }
    }

    static func insertAudit(_ e: AuditEntry, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO audit (at, actor, action, target, domain, before, after, source_ip)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [e.at.timeIntervalSince1970, e.actor, e.action, e.target, e.domain, e.before, e.after, e.sourceIP])
    }

    static func json(_ strings: [String]) -> String {
        String(decoding: try! JSONEncoder().encode(strings), as: UTF8.self)
    }

    static func strings(_ text: String?) -> [String] {
        guard let text, let data = text.data(using: .utf8) else { return [] }
        return (try? JSONDecoder().decode([String].self, from: data)) ?? []
    }
}

// MARK: - Reading rows

extension Date {
    init(unix: Double) { self.init(timeIntervalSince1970: unix) }
}

/// A row holds a value this version cannot read (hand-edited database?).
struct CorruptRow: Error, CustomStringConvertible {
    var description: String
}

extension DomainRecord {
    init(row: Row) throws {
        do {
            self.init(
                id: row["id"], name: try DomainName(row["name"] as String), aliasOf: row["alias_of"],
                catchAll: row["catch_all"], mtaSTS: MTASTSMode(rawValue: row["mta_sts"]) ?? .testing,
                createdAt: Date(unix: row["created_at"]))
        } catch { throw CorruptRow(description: "domains row \(row["id"] as Int64): \(error)") }
    }
}

extension AccountRecord {
    init(row: Row) throws {
        do {
            self.init(
                id: row["id"], address: try EmailAddress(row["address"] as String), name: row["name"],
                passwordHash: row["password_hash"], quotaBytes: row["quota_bytes"],
                state: AccountState(rawValue: row["state"]) ?? .disabled, createdAt: Date(unix: row["created_at"]),
                updatedAt: Date(unix: row["updated_at"]))
        } catch { throw CorruptRow(description: "accounts row \(row["id"] as Int64): \(error)") }
    }
}

extension AliasRecord {
    init(row: Row) throws {
        do {
            self.init(
                id: row["id"], address: try EmailAddress(row["address"] as String),
                targets: SQLiteStore.strings(row["targets"]), createdAt: Date(unix: row["created_at"]))
        } catch { throw CorruptRow(description: "aliases row \(row["id"] as Int64): \(error)") }
    }
}

extension ListRecord {
    init(row: Row) throws {
        do {
            self.init(
                id: row["id"], address: try EmailAddress(row["address"] as String), name: row["name"],
                description: row["description"], members: SQLiteStore.strings(row["members"]),
                postingPolicy: PostingPolicy(rawValue: row["posting_policy"]) ?? .moderated,
                allowedSenders: SQLiteStore.strings(row["allowed_senders"]), owners: SQLiteStore.strings(row["owners"]),
                moderators: SQLiteStore.strings(row["moderators"]), subjectPrefix: row["subject_prefix"],
                replyTo: ReplyToMode(rawValue: row["reply_to"]) ?? .sender, hiddenMembers: row["hidden_members"],
                createdAt: Date(unix: row["created_at"]))
            self.dmarcRewrite = DMARCRewrite(rawValue: row["dmarc_rewrite"] ?? "auto") ?? .auto
        } catch { throw CorruptRow(description: "lists row \(row["id"] as Int64): \(error)") }
    }
}

extension TokenRecord {
    init(row: Row) throws {
        self.init(
            id: row["id"], name: row["name"], secretHash: row["secret_hash"],
            role: TokenRole(rawValue: row["role"]) ?? .domainAdmin,
            domains: SQLiteStore.strings(row["domains"]).compactMap { try? DomainName($0) },
            createdAt: Date(unix: row["created_at"]),
            lastUsedAt: (row["last_used_at"] as Double?).map(Date.init(unix:)),
            revokedAt: (row["revoked_at"] as Double?).map(Date.init(unix:)))
    }
}

extension AuditEntry {
    init(row: Row) throws {
        self.init(
            id: row["id"], at: Date(unix: row["at"]), actor: row["actor"], action: row["action"], target: row["target"],
            domain: row["domain"], before: row["before"], after: row["after"], sourceIP: row["source_ip"])
    }
}
