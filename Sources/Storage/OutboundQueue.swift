import Foundation
import GRDB
import MailCore

/// One remote recipient of one message on the outbound queue.
public struct QueueEntry: Hashable, Sendable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Not tried yet.
        case queued
        /// A delivery is under way.
        case active
        /// Tried; waiting for its next attempt.
        case deferred
        /// Held by an administrator: not tried until released.
        case held
    }

    public var id: Int64
    public var queueID: String
    public var messageID: String?
    public var sender: String
    public var recipient: String
    public var domain: String
    public var blobHash: String
    public var headerPrefix: [UInt8]
    public var size: Int
    public var createdAt: Date
    public var nextAttempt: Date
    public var attempts: Int
    public var lastReply: String?
    public var lastAttempt: Date?
    public var status: Status
    public var warned: Bool

    /// The destination domain of an address: what follows its last `@`, lower-cased.
    public static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }

    init(row: Row) {
        id = row["id"]
        queueID = row["queue_id"]
        messageID = row["message_id"]
        sender = row["sender"]
        recipient = row["recipient"]
        domain = row["domain"]
        blobHash = row["blob_hash"]
        headerPrefix = Array((row["header_prefix"] as Data?) ?? Data())
        size = row["size"]
        createdAt = Date(unix: row["created_at"])
        nextAttempt = Date(unix: row["next_attempt"])
        attempts = row["attempts"]
        lastReply = row["last_reply"]
        lastAttempt = (row["last_attempt"] as Double?).map(Date.init(unix:))
        status = Status(rawValue: row["status"]) ?? .deferred
        warned = (row["warned"] as Int? ?? 0) != 0
    }
}

/// One delivery attempt of one queued recipient, as recorded: the same fields as `queue show`
/// lists (``QueueAttemptView``), so the history is handed over as it is read.
public typealias QueueAttempt = QueueAttemptView

/// What became of one attempt at a queued recipient.
public struct QueueOutcome: Sendable {
    public enum Result: Sendable {
        /// Accepted by the remote server: the entry leaves the queue.
        case delivered
        /// Try again at this time. `warned` marks that the sender was told of the delay.
        case deferred(next: Date, warned: Bool)
        /// Failed for good (bounced, expired or deleted): the entry leaves the queue.
        case failed
    }

    public var rowID: Int64
    public var result: Result
    public var attempt: QueueAttempt?

    public init(rowID: Int64, result: Result, attempt: QueueAttempt?) {
        self.rowID = rowID
        self.result = result
        self.attempt = attempt
    }
}

/// Which queue entries an admin command applies to.
public struct QueueSelection: Sendable {
    public var queueID: String?
    public var domain: String?
    public var sender: String?
    public var recipient: String?
    public var status: QueueEntry.Status?
    /// Only these entries (row ids).
    public var ids: [Int64]?

    public init(queueID: String? = nil, domain: String? = nil, sender: String? = nil, recipient: String? = nil, status: QueueEntry.Status? = nil) {
        self.queueID = queueID
        self.domain = domain
        self.sender = sender
        self.recipient = recipient
        self.status = status
    }

    var sql: (String, StatementArguments) {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let queueID {
            clauses.append("queue_id = ?")
            args.append(queueID)
        }
        if let domain {
            clauses.append("domain = ?")
            args.append(domain.lowercased())
        }
        if let sender {
            clauses.append("sender = ? COLLATE NOCASE")
            args.append(sender)
        }
        if let recipient {
            clauses.append("recipient = ? COLLATE NOCASE")
            args.append(recipient)
        }
        if let status {
            clauses.append("status = ?")
            args.append(status.rawValue)
        }
        if let ids { clauses.append("id IN (\(ids.map(String.init).joined(separator: ",")))") }
        return (clauses.isEmpty ? "1" : clauses.joined(separator: " AND "), StatementArguments(args) ?? StatementArguments())
    }
}

extension SQLiteStore {
    /// Entries whose delivery was under way when the process stopped become due again. A
    /// recipient whose `250` was received but not yet recorded is the one window where a
    /// message can be sent twice (docs/outbound.md).
    public func resetActiveQueueEntries() throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE queue SET status = 'deferred' WHERE status = 'active'")
        }
    }

    /// Marks up to `limit` due entries active and returns them, oldest due first.
    public func claimDueQueueEntries(now: Date, limit: Int) throws -> [QueueEntry] {
        try writer.write { db in
            try Row.fetchAll(
                db,
                sql: """
                    UPDATE queue SET status = 'active' WHERE id IN (
                        SELECT id FROM queue WHERE status IN ('queued', 'deferred') AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?)
                    RETURNING *
                    """,
                arguments: [now.timeIntervalSince1970, limit]
            ).map(QueueEntry.init(row:)).sorted { $0.id < $1.id }
        }
    }

    /// When the next entry falls due, if any is waiting.
    public func nextQueueAttempt() throws -> Date? {
        try writer.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(next_attempt) FROM queue WHERE status IN ('queued', 'deferred')").map(Date.init(unix:))
        }
    }

    /// Records attempts in one transaction, with the events that tell them and the messages
    /// (bounces) they cause: a failure and its bounce are on disk together or not at all.
    /// Entries already gone (deleted by an admin meanwhile) are skipped.
    public func recordQueueOutcomes(_ outcomes: [QueueOutcome], events: [DeliveryEvent], messages: [MessageCommit]) throws {
        guard !outcomes.isEmpty || !events.isEmpty || !messages.isEmpty else { return }
        let touched = try writer.write { db in
            for o in outcomes {
                switch o.result {
                case .delivered, .failed:
                    try Self.removeQueueEntry(o.rowID, db)
                case .deferred(let next, let warned):
                    let a = o.attempt
                    try db.execute(
                        sql: """
                            UPDATE queue SET status = 'deferred', next_attempt = ?, attempts = attempts + 1,
                                last_reply = COALESCE(?, last_reply), last_attempt = COALESCE(?, last_attempt), warned = warned OR ?
                            WHERE id = ? AND status != 'held'
                            """,
                        arguments: [next.timeIntervalSince1970, a?.reply, a?.at.timeIntervalSince1970, warned, o.rowID])
                    if db.changesCount == 0 {
                        // Held meanwhile: keep it held, but count the attempt.
                        try db.execute(
                            sql: "UPDATE queue SET attempts = attempts + 1, last_reply = COALESCE(?, last_reply) WHERE id = ?",
                            arguments: [a?.reply, o.rowID])
                    }
                    if let a {
                        try db.execute(
                            sql: "INSERT INTO queue_attempts (queue_row, at, mx, ip, tls, reply) SELECT id, ?, ?, ?, ?, ? FROM queue WHERE id = ?",
                            arguments: [a.at.timeIntervalSince1970, a.mx, a.ip, a.tls, a.reply, o.rowID])
                    }
                }
            }
            let touched = try Self.commit(messages, db)
            for e in events { try Self.insertEvent(e, db) }
            return touched
        }
        if messages.contains(where: { !$0.remote.isEmpty }) { outbound.signal() }
        changes.publish(touched)
    }

    /// Deletes a queue entry and drops its reference to the blob; a blob nobody refers to any
    /// more, that no mailbox ever indexed and that no message uses, is deleted with it (file
    /// blobs: the caller removes the file, see ``orphanedBlobFiles``).
    static func removeQueueEntry(_ id: Int64, _ db: Database) throws {
        guard let hash = try String.fetchOne(db, sql: "DELETE FROM queue WHERE id = ? RETURNING blob_hash", arguments: [id]) else { return }
        try db.execute(sql: "UPDATE blobs SET refs = refs - 1 WHERE hash = ?", arguments: [hash])
        try db.execute(
            sql: """
                DELETE FROM blobs WHERE hash = ? AND refs <= 0 AND data IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM blob_meta WHERE blob_id = blobs.rowid)
                AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = blobs.rowid)
                """,
            arguments: [hash])
    }

    /// Queue entries, oldest first.
    public func queueEntries(_ selection: QueueSelection, limit: Int) throws -> [QueueEntry] {
        let (whereSQL, args) = selection.sql
        return try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM queue WHERE \(whereSQL) ORDER BY created_at, id LIMIT ?", arguments: args + [limit])
                .map(QueueEntry.init(row:))
        }
    }

    /// The attempts made for these entries, oldest first.
    public func queueAttempts(rowIDs: [Int64]) throws -> [Int64: [QueueAttempt]] {
        guard !rowIDs.isEmpty else { return [:] }
        return try writer.read { db in
            var out: [Int64: [QueueAttempt]] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM queue_attempts WHERE queue_row IN (\(rowIDs.map(String.init).joined(separator: ","))) ORDER BY id")
            for r in rows {
                out[r["queue_row"], default: []].append(
                    QueueAttempt(at: Date(unix: r["at"]), mx: r["mx"], ip: r["ip"], tls: r["tls"], reply: r["reply"]))
            }
            return out
        }
    }

    /// Makes the selected entries due now (`retry`), holds them, or releases held ones.
    /// Returns the entries changed. Entries with a delivery under way are left alone.
    public func updateQueue(_ selection: QueueSelection, action: QueueAction, now: Date, events: (QueueEntry) -> DeliveryEvent) throws -> [QueueEntry] {
        let (whereSQL, args) = selection.sql
        let set: String
        let from: String
        switch action {
        case .retry:
            set = "next_attempt = \(now.timeIntervalSince1970)"
            from = "status IN ('queued', 'deferred')"
        case .hold:
            set = "status = 'held'"
            from = "status IN ('queued', 'deferred')"
        case .release:
            set = "status = 'deferred', next_attempt = \(now.timeIntervalSince1970)"
            from = "status = 'held'"
        }
        let changed = try writer.write { db in
            let rows = try Row.fetchAll(db, sql: "UPDATE queue SET \(set) WHERE \(from) AND \(whereSQL) RETURNING *", arguments: args)
                .map(QueueEntry.init(row:))
            for e in rows { try Self.insertEvent(events(e), db) }
            return rows
        }
        if !changed.isEmpty { outbound.signal() }
        return changed
    }

    /// Removes the selected entries that are not being delivered right now, with their events
    /// and any bounces built for them, in one transaction. Returns the entries removed.
    public func deleteQueueEntries(_ entries: [QueueEntry], events: [DeliveryEvent], messages: [MessageCommit]) throws -> [QueueEntry] {
        let (removed, touched) = try writer.write { db -> ([QueueEntry], Set<Int64>) in
            var removed: [QueueEntry] = []
            for e in entries {
                guard try Int.fetchOne(db, sql: "SELECT 1 FROM queue WHERE id = ? AND status != 'active'", arguments: [e.id]) != nil else { continue }
                try Self.removeQueueEntry(e.id, db)
                removed.append(e)
            }
            let ids = Set(removed.map(\.queueID))
            for ev in events where ids.contains(ev.queueID) { try Self.insertEvent(ev, db) }
            let touched = removed.isEmpty ? [] : try Self.commit(messages, db)
            return (removed, touched)
        }
        if !removed.isEmpty, messages.contains(where: { !$0.remote.isEmpty }) { outbound.signal() }
        changes.publish(touched)
        return removed
    }

    /// When the oldest entry still on the queue was queued, for metrics; nil when it is empty.
    public func oldestQueued() throws -> Date? {
        try writer.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(created_at) FROM queue").map { Date(unix: $0) }
        }
    }

    /// The bytes of every message stored, each counted once however many mailboxes hold it
    /// (a scan of the blob table: for metrics, not for every request).
    public func storedMessageBytes() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM blobs") ?? 0 }
    }

    /// Entries by status, for metrics.
    public func queueCounts() throws -> [QueueEntry.Status: Int] {
        try writer.read { db in
            var out: [QueueEntry.Status: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM queue GROUP BY status") {
                if let s = QueueEntry.Status(rawValue: r["status"]) { out[s] = r["n"] }
            }
            return out
        }
    }
}

public enum QueueAction: String, Sendable, CaseIterable {
    case retry, hold, release
}

/// A DKIM private key as stored.
public struct DKIMKeyRecord: Hashable, Sendable {
    public var id: Int64
    public var domain: String
    public var selector: String
    public var algorithm: String
    public var privateKeyPEM: String
    public var createdAt: Date
    public var active: Bool

    public init(id: Int64 = 0, domain: String, selector: String, algorithm: String, privateKeyPEM: String, createdAt: Date, active: Bool) {
        self.id = id
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.privateKeyPEM = privateKeyPEM
        self.createdAt = createdAt
        self.active = active
    }
}

extension SQLiteStore {
    public func dkimKeys() throws -> [DKIMKeyRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dkim_keys ORDER BY domain, created_at, id").map {
                DKIMKeyRecord(
                    id: $0["id"], domain: $0["domain"], selector: $0["selector"], algorithm: $0["algorithm"],
                    privateKeyPEM: $0["private_key"], createdAt: Date(unix: $0["created_at"]), active: ($0["active"] as Int) != 0)
            }
        }
    }

    /// Adds a key and makes it the domain's active one (the previous stays, inactive, so its
    /// DNS record can be kept until mail signed with it has been delivered).
    public func addDKIMKey(_ key: DKIMKeyRecord, audit: AuditEntry?) throws -> Int64 {
        try writer.write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM dkim_keys WHERE domain = ? AND selector = ?", arguments: [key.domain, key.selector]) != nil {
                throw StoreError.conflict("selector \(key.selector) is already used for \(key.domain)")
            }
            try db.execute(sql: "UPDATE dkim_keys SET active = 0 WHERE domain = ?", arguments: [key.domain])
            try db.execute(
                sql: "INSERT INTO dkim_keys (domain, selector, algorithm, private_key, created_at, active) VALUES (?, ?, ?, ?, ?, 1)",
                arguments: [key.domain, key.selector, key.algorithm, key.privateKeyPEM, key.createdAt.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            if let audit { try Self.insertAudit(audit, db) }
            return id
        }
    }
}
