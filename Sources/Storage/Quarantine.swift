import Foundation
import GRDB

/// A message the inbound checks held instead of delivering (spam score, policy), with the
/// envelope it came with.
public struct QuarantinedMessage: Hashable, Sendable {
    public var id: Int64
    public var queueID: String
    public var messageID: String?
    public var sender: String
    public var recipients: [String]
    public var blobHash: String
    public var size: Int
    public var subject: String
    public var reason: String
    /// What the checks found (the trace's `checked` line).
    public var checks: String?
    public var clientIP: String?
    public var helo: String?
    public var heldAt: Date

    public init(
        id: Int64 = 0, queueID: String, messageID: String?, sender: String, recipients: [String], blobHash: String, size: Int,
        subject: String, reason: String, checks: String?, clientIP: String?, helo: String?, heldAt: Date
    ) {
        self.id = id
        self.queueID = queueID
        self.messageID = messageID
        self.sender = sender
        self.recipients = recipients
        self.blobHash = blobHash
        self.size = size
        self.subject = subject
        self.reason = reason
        self.checks = checks
        self.clientIP = clientIP
        self.helo = helo
        self.heldAt = heldAt
    }

    init(row: Row) {
        id = row["id"]
        queueID = row["queue_id"]
        messageID = row["message_id"]
        sender = row["sender"]
        recipients = (row["recipients"] as String).split(separator: "\n").map(String.init)
        blobHash = row["blob_hash"]
        size = row["size"]
        subject = row["subject"]
        reason = row["reason"]
        checks = row["checks"]
        clientIP = row["client_ip"]
        helo = row["helo"]
        heldAt = Date(timeIntervalSince1970: row["created_at"])
    }
}

extension SQLiteStore {
    /// Holds a message: its bytes (inline when given) and the quarantine entry, with its
    /// events, in one transaction. Returns the entry's id.
    public func quarantine(_ q: QuarantinedMessage, inlineData: [UInt8]?, events: [DeliveryEvent]) throws -> Int64 {
        try writer.write { db in
            try Self.insertBlob(hash: q.blobHash, size: q.size, refs: 1, inlineData: inlineData, meta: nil, mailbox: false, db)
            try db.execute(
                sql: """
                    INSERT INTO quarantine (queue_id, message_id, sender, recipients, blob_hash, size, subject, reason, checks, client_ip, helo, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    q.queueID, q.messageID, q.sender, q.recipients.joined(separator: "\n"), q.blobHash, q.size, q.subject, q.reason,
                    q.checks, q.clientIP, q.helo, q.heldAt.timeIntervalSince1970,
                ])
            let id = db.lastInsertedRowID
            for e in events { try Self.insertEvent(e, db) }
            return id
        }
    }

    /// Held messages, newest first.
    public func quarantinedMessages(limit: Int) throws -> [QuarantinedMessage] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM quarantine ORDER BY id DESC LIMIT ?", arguments: [limit]).map(QuarantinedMessage.init(row:))
        }
    }

    public func quarantinedMessage(id: Int64) throws -> QuarantinedMessage? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM quarantine WHERE id = ?", arguments: [id]).map(QuarantinedMessage.init(row:))
        }
    }

    /// Takes a message out of quarantine: delivers `release` (if any) and drops the entry's
    /// reference to its bytes, in one transaction. False when the entry is gone already (a
    /// second release delivers nothing: exactly once).
    @discardableResult
    public func finishQuarantine(id: Int64, release: [MessageCommit], events: [DeliveryEvent], audit: AuditEntry?) throws -> Bool {
        let touched = try writer.write { db -> Set<Int64>? in
            guard let hash = try String.fetchOne(db, sql: "SELECT blob_hash FROM quarantine WHERE id = ?", arguments: [id]) else { return nil }
            if let audit { try Self.insertAudit(audit, db) }
            try db.execute(sql: "DELETE FROM quarantine WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE blobs SET refs = refs - 1 WHERE hash = ?", arguments: [hash])
            let touched = try Self.commit(release, db)
            for e in events { try Self.insertEvent(e, db) }
            return touched
        }
        guard let touched else { return false }
        if release.contains(where: { !$0.remote.isEmpty }) { outbound.signal() }
        changes.publish(touched)
        return true
    }

    /// The entries held before `date` (for expiry).
    public func quarantinedBefore(_ date: Date) throws -> [QuarantinedMessage] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM quarantine WHERE created_at < ? ORDER BY id", arguments: [date.timeIntervalSince1970])
                .map(QuarantinedMessage.init(row:))
        }
    }
}
