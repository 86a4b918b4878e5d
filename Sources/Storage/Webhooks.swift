import Foundation
import GRDB

/// A webhook: where events are posted, which, and the secret that signs them.
public struct WebhookRecord: Sendable, Hashable {
    public var id: Int64
    public var url: String
    public var events: [String]
    public var secret: String
    public var createdAt: Date
}

/// One event for one hook: delivered, waiting for its next attempt, or given up on.
public struct WebhookDeliveryRecord: Sendable, Hashable {
    public var id: Int64
    public var hookID: Int64
    public var event: String
    public var payload: String
    public var createdAt: Date
    /// `pending`, `delivered` or `failed`.
    public var status: String
    public var attempts: Int
    public var nextAttempt: Date
    public var lastStatus: Int?
    public var lastError: String?
    public var finishedAt: Date?
}

/// A row of a table events come from, as the webhook dispatcher reads it.
public struct WebhookSourceRow: Sendable {
    public var id: Int64
    public var columns: [String: String]
}

extension SQLiteStore {
    /// The tables webhook events are read from, each with its columns.
    public static let webhookSources: [String: [String]] = [
        "delivery_events": ["at", "queue_id", "message_id", "event", "sender", "recipient", "client_ip", "detail", "reply"],
        "login_failures": ["at", "account_id", "protocol", "ip", "reason"],
        "audit": ["at", "actor", "action", "target", "domain", "source_ip"],
    ]

    public func insertWebhook(url: String, events: [String], secret: String, at: Date, audit: AuditEntry) throws -> Int64 {
        try writer.write { db in
            _ = try Self.fileStagedEvents(limit: nil, db)
            // A first hook starts from now: history is not replayed to it.
            for table in Self.webhookSources.keys {
                let last = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM \(table)") ?? 0
                try db.execute(sql: "INSERT OR IGNORE INTO webhook_cursors (source, last_id) VALUES (?, ?)", arguments: [table, last])
            }
            try db.execute(
                sql: "INSERT INTO webhooks (url, events, secret, created_at) VALUES (?, ?, ?, ?)",
                arguments: [url, Self.json(events), secret, at.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            try Self.insertAudit(audit, db)
            return id
        }
    }

    public func webhooks() throws -> [WebhookRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhooks ORDER BY id").map {
                WebhookRecord(id: $0["id"], url: $0["url"], events: Self.strings($0["events"]), secret: $0["secret"], createdAt: Date(timeIntervalSince1970: $0["created_at"]))
            }
        }
    }

    public func deleteWebhook(id: Int64, audit: AuditEntry) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM webhooks WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw StoreError.notFound("webhook \(id)") }
            try Self.insertAudit(audit, db)
            // Without hooks the cursors go: a hook added later starts from its own now.
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhooks") == 0 { try db.execute(sql: "DELETE FROM webhook_cursors") }
        }
    }

    /// Reads up to `limit` rows of each source past its cursor, lets `events` turn them into
    /// deliveries (hook id, event name, payload), queues those and moves the cursors, in one
    /// transaction: an event is queued once, even across a crash.
    @discardableResult
    public func queueWebhookEvents(
        limit: Int, at now: Date, _ events: (String, WebhookSourceRow) -> [(hookID: Int64, event: String, payload: String)]
    ) throws -> Int {
        try writer.write { db in
            _ = try Self.fileStagedEvents(limit: nil, db)
            var queued = 0
            for (table, columns) in Self.webhookSources {
                guard let cursor = try Int64.fetchOne(db, sql: "SELECT last_id FROM webhook_cursors WHERE source = ?", arguments: [table]) else {
                    continue
                }
                let rows = try Row.fetchAll(
                    db, sql: "SELECT id, \(columns.joined(separator: ", ")) FROM \(table) WHERE id > ? ORDER BY id LIMIT ?", arguments: [cursor, limit])
                guard let last = rows.last else { continue }
                for row in rows {
                    var values: [String: String] = [:]
                    for c in columns {
                        let v = row[c] as DatabaseValue
                        switch v.storage {
                        case .null: continue
                        case .double(let d): values[c] = String(d)
                        case .int64(let i): values[c] = String(i)
                        case .string(let s): values[c] = s
                        case .blob: continue
                        }
                    }
                    for d in events(table, WebhookSourceRow(id: row["id"], columns: values)) {
                        try db.execute(
                            sql: "INSERT INTO webhook_deliveries (hook_id, event, payload, created_at, next_attempt) VALUES (?, ?, ?, ?, ?)",
                            arguments: [d.hookID, d.event, d.payload, now.timeIntervalSince1970, now.timeIntervalSince1970])
                        queued += 1
                    }
                }
                try db.execute(sql: "UPDATE webhook_cursors SET last_id = ? WHERE source = ?", arguments: [last["id"] as Int64, table])
            }
            return queued
        }
    }

    public func dueWebhookDeliveries(at now: Date, limit: Int) throws -> [WebhookDeliveryRecord] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt <= ? ORDER BY next_attempt LIMIT ?",
                arguments: [now.timeIntervalSince1970, limit]
            ).map(Self.delivery)
        }
    }

    /// Records an attempt: delivered, failed for good, or to be tried again at `retryAt`.
    public func recordWebhookAttempt(id: Int64, status: String, httpStatus: Int?, error: String?, retryAt: Date?, at now: Date) throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_status = ?, last_error = ?,
                        next_attempt = COALESCE(?, next_attempt), finished_at = ? WHERE id = ?
                    """,
                arguments: [
                    status, httpStatus, error, retryAt?.timeIntervalSince1970, status == "pending" ? nil : now.timeIntervalSince1970, id,
                ])
        }
    }

    /// A hook's deliveries, newest first.
    public func webhookDeliveries(hookID: Int64, limit: Int) throws -> [WebhookDeliveryRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook_deliveries WHERE hook_id = ? ORDER BY id DESC LIMIT ?", arguments: [hookID, limit])
                .map(Self.delivery)
        }
    }

    /// Forgets finished deliveries older than `before`.
    @discardableResult
    public func pruneWebhookDeliveries(before: Date) throws -> Int {
        try writer.write { db in
            try db.execute(
                sql: "DELETE FROM webhook_deliveries WHERE status != 'pending' AND finished_at < ?", arguments: [before.timeIntervalSince1970])
            return db.changesCount
        }
    }

    private static func delivery(_ row: Row) -> WebhookDeliveryRecord {
        WebhookDeliveryRecord(
            id: row["id"], hookID: row["hook_id"], event: row["event"], payload: row["payload"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
            status: row["status"], attempts: row["attempts"], nextAttempt: Date(timeIntervalSince1970: row["next_attempt"]), lastStatus: row["last_status"],
            lastError: row["last_error"], finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}
