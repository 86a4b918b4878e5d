import Foundation
import GRDB

/// What a user taught a message to be.
public enum JunkClass: String, Hashable, Sendable {
    case ham
    case spam
}

/// What training one message changed.
public enum JunkTrainingOutcome: Hashable, Sendable {
    /// Counted as the class asked for, for the first time.
    case trained
    /// Had been trained as the other class: that is undone, and it counts as the new one.
    case retrained(from: JunkClass)
    /// Already trained as this class: nothing changed (a message copied twice counts once).
    case unchanged
}

/// One account's counts for the tokens of a message: totals of trained messages, and per token
/// the number of ham and spam messages it was seen in (tokens never seen are absent).
public struct JunkCountsSnapshot: Sendable {
    public var hamMessages: Int
    public var spamMessages: Int
    public var tokens: [String: (ham: Int, spam: Int)]
}

/// How many messages an account's classifier was taught as ham and as spam.
public struct JunkTotals: Hashable, Sendable {
    public var ham: Int
    public var spam: Int

    public init(ham: Int, spam: Int) {
        self.ham = ham
        self.spam = spam
    }
}

/// Per-account junk learning counts (schema step v12-junk).
extension SQLiteStore {
    /// Trains one message (known by its blob hash) as ham or spam for an account: adds its
    /// tokens to that class, and takes them off the other class if the message had been trained
    /// as that — all in one transaction. Counts never go below zero.
    @discardableResult
    public func trainJunk(accountID: Int64, blobHash: String, tokens: [String], as junkClass: JunkClass) throws
        -> JunkTrainingOutcome
    {
        let unique = Array(Set(tokens))
        defer { junkTotals.forget(accountID) }
        return try writer.write { db in
            let before = try String.fetchOne(
                db, sql: "SELECT class FROM junk_trained WHERE account_id = ? AND blob_hash = ?",
                arguments: [accountID, blobHash]
            ).flatMap(JunkClass.init(rawValue:))
            if before == junkClass { return .unchanged }
            try db.execute(sql: "INSERT OR IGNORE INTO junk_totals (account_id) VALUES (?)", arguments: [accountID])
            if let before { try Self.count(unique, accountID: accountID, junkClass: before, by: -1, db) }
            try Self.count(unique, accountID: accountID, junkClass: junkClass, by: 1, db)
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO junk_trained (account_id, blob_hash, class, trained_at) VALUES (?, ?, ?, ?)",
                arguments: [accountID, blobHash, junkClass.rawValue, Date().timeIntervalSince1970])
            return before.map { .retrained(from: $0) } ?? .trained
        }
    }

    /// Undoes a message's training, whichever class it was; false when it was not trained.
    @discardableResult
    public func untrainJunk(accountID: Int64, blobHash: String, tokens: [String]) throws -> Bool {
        let unique = Array(Set(tokens))
        defer { junkTotals.forget(accountID) }
        return try writer.write { db in
            guard
                let before = try String.fetchOne(
                    db, sql: "SELECT class FROM junk_trained WHERE account_id = ? AND blob_hash = ?",
                    arguments: [accountID, blobHash]
                ).flatMap(JunkClass.init(rawValue:))
            else { return false }
            try Self.count(unique, accountID: accountID, junkClass: before, by: -1, db)
            try db.execute(
                sql: "DELETE FROM junk_trained WHERE account_id = ? AND blob_hash = ?",
                arguments: [accountID, blobHash])
            return true
        }
    }

    /// How a message was trained for an account, if at all.
    public func junkTraining(accountID: Int64, blobHash: String) throws -> JunkClass? {
        try writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT class FROM junk_trained WHERE account_id = ? AND blob_hash = ?",
                arguments: [accountID, blobHash]
            ).flatMap(JunkClass.init(rawValue:))
        }
    }

    /// The account's totals, if known without reading the database (see ``AccountCache``).
    public func knownJunkTotals(accountID: Int64) -> JunkTotals? { junkTotals.known(accountID) }

    /// The account's totals and the counts of those of `tokens` it has seen.
    public func junkCounts(accountID: Int64, tokens: [String]) throws -> JunkCountsSnapshot {
        let generation = junkTotals.generation
        return try writer.read { db in
            // Cached statements: preparing was a visible cost when this was asked for every
            // message received.
            let totals = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT ham, spam FROM junk_totals WHERE account_id = ?"), arguments: [accountID])
            var snapshot = JunkCountsSnapshot(
                hamMessages: totals?["ham"] ?? 0, spamMessages: totals?["spam"] ?? 0, tokens: [:])
            junkTotals.remember(
                JunkTotals(ham: snapshot.hamMessages, spam: snapshot.spamMessages), for: accountID, readSince: generation)
            guard totals != nil else { return snapshot }
            let statement = try db.cachedStatement(
                sql: "SELECT ham, spam FROM junk_tokens WHERE account_id = ? AND token = ?")
            for token in Set(tokens) {
                guard let row = try Row.fetchOne(statement, arguments: [accountID, token]) else { continue }
                snapshot.tokens[token] = (row["ham"], row["spam"])
            }
            return snapshot
        }
    }

    /// Adds `delta` (±1) to the class's total and to each token's count, clamping at zero;
    /// tokens left with no counts are removed.
    static func count(_ tokens: [String], accountID: Int64, junkClass: JunkClass, by delta: Int, _ db: Database) throws
    {
        let column = junkClass == .ham ? "ham" : "spam"
        try db.execute(
            sql: "UPDATE junk_totals SET \(column) = MAX(0, \(column) + ?) WHERE account_id = ?",
            arguments: [delta, accountID])
        if delta > 0 {
            let upsert = try db.makeStatement(
                sql: """
                    INSERT INTO junk_tokens (account_id, token, \(column)) VALUES (?, ?, 1)
                    ON CONFLICT (account_id, token) DO UPDATE SET \(column) = \(column) + 1
                    """)
            for token in tokens { try upsert.execute(arguments: [accountID, token]) }
        } else {
            let lower = try db.makeStatement(
                sql: "UPDATE junk_tokens SET \(column) = MAX(0, \(column) - 1) WHERE account_id = ? AND token = ?")
            let drop = try db.makeStatement(
                sql: "DELETE FROM junk_tokens WHERE account_id = ? AND token = ? AND ham = 0 AND spam = 0")
            for token in tokens {
                try lower.execute(arguments: [accountID, token])
                try drop.execute(arguments: [accountID, token])
            }
        }
    }
}

extension SQLiteStore {
    /// The blob hashes of a mailbox's messages with these UIDs (those still there).
    public func blobHashes(mailboxID: Int64, uids: [Int64]) throws -> [String] {
        try writer.read { db in
            let statement = try db.makeStatement(sql: "SELECT blob_hash FROM messages WHERE mailbox_id = ? AND uid = ?")
            return try uids.compactMap { try String.fetchOne(statement, arguments: [mailboxID, $0]) }
        }
    }
}

/// What an account's junk classifier has learned so far.
public struct JunkSummary: Sendable, Hashable {
    public var hamMessages: Int
    public var spamMessages: Int
    /// Distinct tokens it has counts for.
    public var tokens: Int
}

extension SQLiteStore {
    public func junkSummary(accountID: Int64) throws -> JunkSummary {
        try writer.read { db in
            let totals = try Row.fetchOne(db, sql: "SELECT ham, spam FROM junk_totals WHERE account_id = ?", arguments: [accountID])
            let tokens = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM junk_tokens WHERE account_id = ?", arguments: [accountID]) ?? 0
            return JunkSummary(hamMessages: totals?["ham"] ?? 0, spamMessages: totals?["spam"] ?? 0, tokens: tokens)
        }
    }

    /// Forgets everything an account's classifier learned (it starts untrained), with the
    /// audit entry in the same transaction.
    public func resetJunk(accountID: Int64, audit: AuditEntry) throws {
        defer { junkTotals.forget(accountID) }
        try writer.write { db in
            for table in ["junk_totals", "junk_tokens", "junk_trained"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE account_id = ?", arguments: [accountID])
            }
            try Self.insertAudit(audit, db)
        }
    }
}
