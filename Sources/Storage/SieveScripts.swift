import Foundation
import GRDB

/// One of an account's Sieve scripts (schema step v17-sieve).
public struct SieveScriptRecord: Sendable, Hashable {
    public var name: String
    public var text: String
    /// The one script that runs at delivery; an account has at most one.
    public var active: Bool
    public var updatedAt: Date

    public init(name: String, text: String, active: Bool, updatedAt: Date) {
        self.name = name
        self.text = text
        self.active = active
        self.updatedAt = updatedAt
    }

    init(row: Row) {
        self.init(
            name: row["name"], text: row["script"], active: row["active"],
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }
}

/// What a delivery's Sieve runs leave behind, written in the delivery's own transaction so
/// that a reply is never recorded without the message being stored, nor the other way round.
public struct SieveMemory: Sendable, Hashable {
    /// A vacation reply sent: (account, handle, sender) → when.
    public struct Reply: Sendable, Hashable {
        public var accountID: Int64
        public var handle: String
        public var sender: String
        public init(accountID: Int64, handle: String, sender: String) {
            self.accountID = accountID
            self.handle = handle
            self.sender = sender
        }
    }

    /// A message id the duplicate test asked about, seen now.
    public struct Seen: Sendable, Hashable {
        public var accountID: Int64
        public var handle: String
        public var uniqueID: String
        /// The test answered "not a duplicate": the period starts again from now.
        public var fresh: Bool
        public init(accountID: Int64, handle: String, uniqueID: String, fresh: Bool) {
            self.accountID = accountID
            self.handle = handle
            self.uniqueID = uniqueID
            self.fresh = fresh
        }
    }

    public var replies: [Reply] = []
    public var seen: [Seen] = []
    public init() {}
    public var isEmpty: Bool { replies.isEmpty && seen.isEmpty }
}

/// Why a script operation was refused by the store.
public enum SieveStoreError: Error, Hashable, Sendable {
    case noSuchScript(String)
    case nameTaken(String)
}

extension SQLiteStore {
    /// An account's scripts, by name.
    public func sieveScripts(accountID: Int64) throws -> [SieveScriptRecord] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM sieve_scripts WHERE account_id = ? ORDER BY name", arguments: [accountID]
            )
            .map(SieveScriptRecord.init(row:))
        }
    }

    public func sieveScript(accountID: Int64, name: String) throws -> SieveScriptRecord? {
        try writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM sieve_scripts WHERE account_id = ? AND name = ?", arguments: [accountID, name]
            )
            .map(SieveScriptRecord.init(row:))
        }
    }

    /// The script that runs when mail is delivered to the account, if any.
    /// Read once per account, then answered from ``activeSieveScripts`` until a write changes it:
    /// the read transaction was 70 µs of a one-message SMTP session's 1.3 ms.
    public func activeSieveScript(accountID: Int64) throws -> SieveScriptRecord? {
        if let known = activeSieveScripts.known(accountID) { return known }
        let generation = activeSieveScripts.generation
        let script = try writer.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM sieve_scripts WHERE account_id = ? AND active = 1"), arguments: [accountID]
            )
            .map(SieveScriptRecord.init(row:))
        }
        activeSieveScripts.remember(script, for: accountID, readSince: generation)
        return script
    }

    /// Creates or replaces a script (validated by the caller), keeping its active flag, and
    /// makes it the active one when `activate`; with the audit entries, in one transaction.
    public func putSieveScript(
        accountID: Int64, name: String, text: String, activate: Bool, at: Date, audit: [AuditEntry]
    ) throws {
        defer { activeSieveScripts.forget(accountID) }
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sieve_scripts (account_id, name, script, active, updated_at) VALUES (?, ?, ?, 0, ?)
                    ON CONFLICT(account_id, name) DO UPDATE SET script = excluded.script, updated_at = excluded.updated_at
                    """,
                arguments: [accountID, name, text, at.timeIntervalSince1970])
            if activate { try Self.activateSieve(accountID: accountID, name: name, db) }
            for entry in audit { try Self.insertAudit(entry, db) }
        }
    }

    /// Makes `name` the account's active script, or deactivates all with nil. Throws
    /// ``SieveStoreError/noSuchScript(_:)`` for a name the account has no script by.
    public func setActiveSieveScript(accountID: Int64, name: String?, audit: [AuditEntry]) throws {
        defer { activeSieveScripts.forget(accountID) }
        try writer.write { db in
            if let name {
                try Self.activateSieve(accountID: accountID, name: name, db)
            } else {
                try db.execute(sql: "UPDATE sieve_scripts SET active = 0 WHERE account_id = ?", arguments: [accountID])
            }
            for entry in audit { try Self.insertAudit(entry, db) }
        }
    }

    static func activateSieve(accountID: Int64, name: String, _ db: Database) throws {
        guard
            try Int.fetchOne(
                db, sql: "SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?", arguments: [accountID, name])
                != nil
        else { throw SieveStoreError.noSuchScript(name) }
        // Off first: the partial unique index allows one active row at any moment.
        try db.execute(
            sql: "UPDATE sieve_scripts SET active = 0 WHERE account_id = ? AND name != ?", arguments: [accountID, name])
        try db.execute(
            sql: "UPDATE sieve_scripts SET active = 1 WHERE account_id = ? AND name = ?", arguments: [accountID, name])
    }

    /// Deletes a script; throws ``SieveStoreError/noSuchScript(_:)`` when there is none.
    public func deleteSieveScript(accountID: Int64, name: String, audit: [AuditEntry]) throws {
        defer { activeSieveScripts.forget(accountID) }
        try writer.write { db in
            try db.execute(
                sql: "DELETE FROM sieve_scripts WHERE account_id = ? AND name = ?", arguments: [accountID, name])
            guard db.changesCount > 0 else { throw SieveStoreError.noSuchScript(name) }
            for entry in audit { try Self.insertAudit(entry, db) }
        }
    }

    /// Renames a script, keeping its text and active flag. Throws
    /// ``SieveStoreError/noSuchScript(_:)`` when there is none, and
    /// ``SieveStoreError/nameTaken(_:)`` when `newName` is already used.
    public func renameSieveScript(accountID: Int64, from old: String, to newName: String, audit: [AuditEntry]) throws {
        defer { activeSieveScripts.forget(accountID) }
        try writer.write { db in
            if try Int.fetchOne(
                db, sql: "SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?", arguments: [accountID, newName])
                != nil
            {
                throw SieveStoreError.nameTaken(newName)
            }
            try db.execute(
                sql: "UPDATE sieve_scripts SET name = ? WHERE account_id = ? AND name = ?",
                arguments: [newName, accountID, old])
            guard db.changesCount > 0 else { throw SieveStoreError.noSuchScript(old) }
            for entry in audit { try Self.insertAudit(entry, db) }
        }
    }

    /// When the account's vacation last answered `sender` under `handle`, if ever.
    public func lastVacationReply(accountID: Int64, handle: String, sender: String) throws -> Date? {
        try writer.read { db in
            try Double.fetchOne(
                db,
                sql: "SELECT replied_at FROM sieve_vacation_replies WHERE account_id = ? AND handle = ? AND sender = ?",
                arguments: [accountID, handle, sender.lowercased()]
            ).map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// Whether the duplicate test saw `uniqueID` under `handle` after `since`: counted from its
    /// first sighting, or from its last one with `last` (RFC 7352 §3.3).
    public func sieveSeen(accountID: Int64, handle: String, uniqueID: String, since: Date, last: Bool) throws -> Bool {
        try writer.read { db in
            let column = last ? "last_seen" : "first_seen"
            return try Int.fetchOne(
                db,
                sql:
                    "SELECT 1 FROM sieve_duplicates WHERE account_id = ? AND handle = ? AND unique_id = ? AND \(column) > ?",
                arguments: [accountID, handle, uniqueID, since.timeIntervalSince1970]) != nil
        }
    }

    static func recordSieveMemory(_ memory: SieveMemory, at: Date, _ db: Database) throws {
        let t = at.timeIntervalSince1970
        for r in memory.replies {
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO sieve_vacation_replies (account_id, handle, sender, replied_at) VALUES (?, ?, ?, ?)",
                arguments: [r.accountID, r.handle, r.sender.lowercased(), t])
        }
        for s in memory.seen {
            try db.execute(
                sql: """
                    INSERT INTO sieve_duplicates (account_id, handle, unique_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(account_id, handle, unique_id) DO UPDATE SET last_seen = excluded.last_seen,
                        first_seen = CASE WHEN ? THEN excluded.first_seen ELSE first_seen END
                    """,
                arguments: [s.accountID, s.handle, s.uniqueID, t, t, s.fresh])
        }
    }
}
