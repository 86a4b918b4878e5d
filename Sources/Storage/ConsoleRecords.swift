import Foundation
import GRDB
import MailCore

/// An account's administrative role (schema step v18-console); an account without one is a
/// plain user, who may use only the self-service pages.
public struct AccountRole: Sendable, Hashable, Codable {
    public var role: TokenRole
    /// For a domain admin, the domains it manages.
    public var domains: [DomainName]

    public init(role: TokenRole, domains: [DomainName] = []) {
        self.role = role
        self.domains = domains
    }
}

/// An account's TOTP second factor. `enabled` is false between set-up and the first code.
public struct TOTPRecord: Sendable, Hashable {
    public var secret: [UInt8]
    public var enabled: Bool
    /// SHA-256 (hex) of each unused recovery code.
    public var recovery: [String]
    /// The last time step accepted, so that a code is never accepted twice (RFC 6238 §5.2).
    public var lastStep: Int64

    public init(secret: [UInt8], enabled: Bool, recovery: [String], lastStep: Int64) {
        self.secret = secret
        self.enabled = enabled
        self.recovery = recovery
        self.lastStep = lastStep
    }
}

/// A signed-in console session. Only the SHA-256 of the cookie's value is stored.
public struct ConsoleSessionRecord: Sendable, Hashable {
    public var idHash: String
    public var accountID: Int64
    /// The token every form of this session carries.
    public var csrf: String
    /// False while the second factor is still to be given.
    public var verified: Bool
    public var createdAt: Date
    public var lastSeenAt: Date
    public var ip: String

    public init(idHash: String, accountID: Int64, csrf: String, verified: Bool, createdAt: Date, lastSeenAt: Date, ip: String) {
        self.idHash = idHash
        self.accountID = accountID
        self.csrf = csrf
        self.verified = verified
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.ip = ip
    }
}

/// A named password for one device, usable for IMAP and SMTP logins.
public struct AppPasswordRecord: Sendable, Hashable {
    public var id: Int64
    public var accountID: Int64
    public var name: String
    public var createdAt: Date
    public var lastUsedAt: Date?
}

extension SQLiteStore {
    // MARK: Roles

    public func accountRoles() throws -> [Int64: AccountRole] {
        try writer.read { db in
            var roles: [Int64: AccountRole] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM account_roles") {
                guard let role = TokenRole(rawValue: row["role"]) else { continue }
                roles[row["account_id"]] = AccountRole(
                    role: role, domains: Self.strings(row["domains"]).compactMap { try? DomainName($0) })
            }
            return roles
        }
    }

    /// Sets (or with nil, removes) an account's role, with its audit entry.
    public func setAccountRole(accountID: Int64, _ role: AccountRole?, audit: AuditEntry) throws {
        try writer.write { db in
            if let role {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO account_roles (account_id, role, domains) VALUES (?, ?, ?)",
                    arguments: [accountID, role.role.rawValue, Self.json(role.domains.map(\.ascii))])
            } else {
                try db.execute(sql: "DELETE FROM account_roles WHERE account_id = ?", arguments: [accountID])
            }
            try Self.insertAudit(audit, db)
        }
    }

    // MARK: TOTP

    public func totp(accountID: Int64) throws -> TOTPRecord? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM account_totp WHERE account_id = ?", arguments: [accountID]).map {
                TOTPRecord(secret: [UInt8]($0["secret"] as Data), enabled: $0["enabled"], recovery: Self.strings($0["recovery"]), lastStep: $0["last_step"])
            }
        }
    }

    /// Stores (or with nil, removes) an account's TOTP state; `audit` is written with it.
    public func setTOTP(accountID: Int64, _ totp: TOTPRecord?, audit: AuditEntry?) throws {
        try writer.write { db in
            if let totp {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO account_totp (account_id, secret, enabled, recovery, last_step) VALUES (?, ?, ?, ?, ?)",
                    arguments: [accountID, Data(totp.secret), totp.enabled, Self.json(totp.recovery), totp.lastStep])
            } else {
                try db.execute(sql: "DELETE FROM account_totp WHERE account_id = ?", arguments: [accountID])
            }
            if let audit { try Self.insertAudit(audit, db) }
        }
    }

    /// Records a used TOTP step or recovery code, only if no other sign-in used it first:
    /// returns false when the step was already used (a replayed code).
    public func consumeTOTP(accountID: Int64, step: Int64?, recoveryHash: String?) throws -> Bool {
        try writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM account_totp WHERE account_id = ?", arguments: [accountID]) else {
                return false
            }
            if let step {
                guard step > row["last_step"] as Int64 else { return false }
                try db.execute(sql: "UPDATE account_totp SET last_step = ? WHERE account_id = ?", arguments: [step, accountID])
            }
            if let recoveryHash {
                var codes = Self.strings(row["recovery"])
                guard let i = codes.firstIndex(of: recoveryHash) else { return false }
                codes.remove(at: i)
                try db.execute(sql: "UPDATE account_totp SET recovery = ? WHERE account_id = ?", arguments: [Self.json(codes), accountID])
            }
            return true
        }
    }

    // MARK: Sessions

    /// The address of the account with this id (sessions keep the id, which a rename keeps).
    public func accountAddress(id: Int64) throws -> String? {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT address FROM accounts WHERE id = ?", arguments: [id]) }
    }

    public func insertConsoleSession(_ s: ConsoleSessionRecord) throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO console_sessions (id_hash, account_id, csrf, verified, created_at, last_seen_at, ip)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [s.idHash, s.accountID, s.csrf, s.verified, s.createdAt.timeIntervalSince1970, s.lastSeenAt.timeIntervalSince1970, s.ip])
        }
    }

    public func consoleSession(idHash: String) throws -> ConsoleSessionRecord? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM console_sessions WHERE id_hash = ?", arguments: [idHash]).map {
                ConsoleSessionRecord(
                    idHash: $0["id_hash"], accountID: $0["account_id"], csrf: $0["csrf"], verified: $0["verified"],
                    createdAt: Date(timeIntervalSince1970: $0["created_at"]), lastSeenAt: Date(timeIntervalSince1970: $0["last_seen_at"]),
                    ip: $0["ip"])
            }
        }
    }

    public func touchConsoleSession(idHash: String, at: Date, verified: Bool) throws {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE console_sessions SET last_seen_at = ?, verified = ? WHERE id_hash = ?",
                arguments: [at.timeIntervalSince1970, verified, idHash])
        }
    }

    /// Ends one session, or with nil every session of the account ("sign out everywhere").
    @discardableResult
    public func deleteConsoleSessions(accountID: Int64, idHash: String?) throws -> Int {
        try writer.write { db in
            if let idHash {
                try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ? AND account_id = ?", arguments: [idHash, accountID])
            } else {
                try db.execute(sql: "DELETE FROM console_sessions WHERE account_id = ?", arguments: [accountID])
            }
            return db.changesCount
        }
    }

    /// Drops sessions idle since `idleBefore` or created before `createdBefore`.
    @discardableResult
    public func expireConsoleSessions(idleBefore: Date, createdBefore: Date) throws -> Int {
        try writer.write { db in
            try db.execute(
                sql: "DELETE FROM console_sessions WHERE last_seen_at < ? OR created_at < ?",
                arguments: [idleBefore.timeIntervalSince1970, createdBefore.timeIntervalSince1970])
            return db.changesCount
        }
    }

    // MARK: App passwords

    public func insertAppPassword(accountID: Int64, name: String, secretHash: String, at: Date, audit: AuditEntry) throws -> Int64 {
        try writer.write { db in
            try db.execute(
                sql: "INSERT INTO app_passwords (account_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                arguments: [accountID, name, secretHash, at.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            try Self.insertAudit(audit, db)
            return id
        }
    }

    public func appPasswords(accountID: Int64) throws -> [AppPasswordRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM app_passwords WHERE account_id = ? ORDER BY name", arguments: [accountID]).map {
                AppPasswordRecord(
                    id: $0["id"], accountID: $0["account_id"], name: $0["name"], createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                    lastUsedAt: ($0["last_used_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    /// The app password of the account with this hash, if any.
    public func appPassword(accountID: Int64, secretHash: String) throws -> AppPasswordRecord? {
        try writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM app_passwords WHERE account_id = ? AND secret_hash = ?", arguments: [accountID, secretHash]
            ).map {
                AppPasswordRecord(
                    id: $0["id"], accountID: $0["account_id"], name: $0["name"], createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                    lastUsedAt: ($0["last_used_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    public func markAppPasswordUsed(id: Int64, at: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE app_passwords SET last_used_at = ? WHERE id = ?", arguments: [at.timeIntervalSince1970, id])
        }
    }

    public func deleteAppPassword(accountID: Int64, id: Int64, audit: AuditEntry) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM app_passwords WHERE id = ? AND account_id = ?", arguments: [id, accountID])
            if db.changesCount == 0 { throw StoreError.notFound("app password \(id)") }
            try Self.insertAudit(audit, db)
        }
    }

    // MARK: Password reset links

    public func insertPasswordReset(tokenHash: String, accountID: Int64, expires: Date, audit: AuditEntry) throws {
        try writer.write { db in
            try db.execute(
                sql: "INSERT INTO password_resets (token_hash, account_id, expires_at) VALUES (?, ?, ?)",
                arguments: [tokenHash, accountID, expires.timeIntervalSince1970])
            try Self.insertAudit(audit, db)
        }
    }

    /// The account a live reset link is for; with `consume`, the link is used up by this.
    public func passwordReset(tokenHash: String, now: Date, consume: Bool) throws -> Int64? {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM password_resets WHERE expires_at < ?", arguments: [now.timeIntervalSince1970])
            let id = try Int64.fetchOne(db, sql: "SELECT account_id FROM password_resets WHERE token_hash = ?", arguments: [tokenHash])
            if consume, id != nil { try db.execute(sql: "DELETE FROM password_resets WHERE token_hash = ?", arguments: [tokenHash]) }
            return id
        }
    }

    // MARK: Dashboard

    /// Messages per hour since `since`, by what happened to them: `received`, `delivered`
    /// (stored here or accepted by the remote server), `bounced` and `refused`.
    public func eventCountsPerHour(since: Date) throws -> [String: [Int64: Int]] {
        try writer.read { db in
            var out: [String: [Int64: Int]] = [:]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT CAST(at / 3600 AS INTEGER) AS hour, event, COUNT(*) AS n
                    FROM (SELECT at, event FROM delivery_events WHERE at >= ? UNION ALL SELECT at, event FROM event_staging WHERE at >= ?)
                    WHERE event IN ('received', 'stored', 'delivered', 'bounced', 'rejected')
                    GROUP BY hour, event
                    """,
                arguments: [since.timeIntervalSince1970, since.timeIntervalSince1970])
            for row in rows {
                let event: String = row["event"]
                let name = event == "stored" ? "delivered" : event == "rejected" ? "refused" : event
                out[name, default: [:]][row["hour"], default: 0] += row["n"] as Int
            }
            return out
        }
    }
}
