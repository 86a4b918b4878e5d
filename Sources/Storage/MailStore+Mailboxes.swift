import Foundation
import GRDB

/// What the IMAP server computes about a message's bytes once, when they are stored.
public struct BlobMeta: Sendable {
    public var envelope: [UInt8]
    public var bodyStructure: [UInt8]
    public var bodySimple: [UInt8]
    public var sentDate: Date?
    /// The zone the Date: field was written in, minutes east of UTC.
    public var sentZone: Int?
    /// The text for the search index; nil leaves indexing to the background indexer.
    public var text: SearchText?
    /// What SORT compares, from the envelope; nil: SORT reads the envelope.
    public var sortKeys: SortKeys?

    public init(
        envelope: [UInt8], bodyStructure: [UInt8], bodySimple: [UInt8], sentDate: Date?, sentZone: Int? = nil,
        text: SearchText?, sortKeys: SortKeys? = nil
    ) {
        self.envelope = envelope
        self.bodyStructure = bodyStructure
        self.bodySimple = bodySimple
        self.sentDate = sentDate
        self.sentZone = sentZone
        self.text = text
        self.sortKeys = sortKeys
    }
}

/// The strings SORT compares (RFC 5256 §3, RFC 5957), casemapped as it compares them
/// (``Casemap``). Kept apart from the envelope (table sort_keys, see v26-sort-keys) so that a mailbox's
/// first SORT reads about 100 bytes per message and parses no envelope.
public struct SortKeys: Sendable, Hashable {
    /// The base subject (RFC 5256 §2.1), decoded and casemapped.
    public var subject: [UInt8]
    /// The first From, To and Cc address's addr-mailbox, casemapped.
    public var from: [UInt8]
    public var to: [UInt8]
    public var cc: [UInt8]
    /// The first From and To address's display name (RFC 5957 §2), decoded and casemapped.
    public var fromName: [UInt8]
    public var toName: [UInt8]
    /// What THREAD=REFERENCES links the message by (v28-thread-keys); nil when only the
    /// envelope was at hand (the indexer adds them later from the header).
    public var thread: ThreadKeys?

    public init(
        subject: [UInt8], from: [UInt8], to: [UInt8], cc: [UInt8], fromName: [UInt8], toName: [UInt8],
        thread: ThreadKeys? = nil
    ) {
        (self.subject, self.from, self.to, self.cc, self.fromName, self.toName) = (
            subject, from, to, cc, fromName, toName
        )
        self.thread = thread
    }
}

/// What THREAD (RFC 5256 §3) reads of a message beyond its SORT keys: its Message-ID and
/// References (or In-Reply-To) IDs from the header, and whether its subject was a reply or a
/// forward. Kept with the SORT keys, so that a mailbox's first THREAD=REFERENCES reads no
/// message (it read every message's header: about 3 s of CPU for 100,000 messages).
public struct ThreadKeys: Sendable, Hashable {
    /// The Message-ID without angle brackets; nil when missing or invalid.
    public var messageID: String?
    /// The References IDs, oldest first; when there are none, the first In-Reply-To ID.
    public var references: [String]
    public var isReplyOrForward: Bool

    public init(messageID: String?, references: [String], isReplyOrForward: Bool) {
        self.messageID = messageID
        self.references = references
        self.isReplyOrForward = isReplyOrForward
    }

    /// As kept: a byte 1 (reply or forward) or 0, the Message-ID (nothing when nil), then each
    /// reference after a space. IDs never hold white space (``MessageIDs``).
    public var encoded: [UInt8] {
        var out: [UInt8] = [isReplyOrForward ? 1 : 0]
        out += Array((messageID ?? "").utf8)
        for r in references {
            out.append(0x20)
            out += Array(r.utf8)
        }
        return out
    }

    /// Reads ``encoded``; nil for bytes that are not (an empty column).
    public init?(encoded bytes: UnsafeRawBufferPointer) {
        guard let flag = bytes.first, flag <= 1 else { return nil }
        let ids = bytes.dropFirst().split(separator: 0x20, omittingEmptySubsequences: false)
        let first = ids.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        self.init(
            messageID: first.isEmpty ? nil : first,
            references: ids.dropFirst().map { String(decoding: $0, as: UTF8.self) }, isReplyOrForward: flag == 1)
    }
}

/// Decoded text of a message, as the full-text index keeps it.
public struct SearchText: Sendable, Hashable {
    public var subject, from, to, cc, bcc, headers, body: String

    public init(subject: String, from: String, to: String, cc: String, bcc: String, headers: String, body: String) {
        (self.subject, self.from, self.to, self.cc, self.bcc, self.headers, self.body) = (
            subject, from, to, cc, bcc, headers, body
        )
    }

    /// The index's column for each field.
    public enum Field: String, Sendable, CaseIterable {
        case subject, from = "from_addr", to = "to_addr", cc, bcc, headers, body
    }
}

/// A mailbox as IMAP sees it.
public struct MailboxRecord: Hashable, Sendable {
    public var id: Int64
    public var accountID: Int64
    public var name: String
    public var specialUse: String?
    public var uidValidity: Int64
    public var uidNext: Int64
    public var highestModseq: Int64
    /// Keywords ever set on a message here (for FLAGS).
    public var keywords: [String]
    /// The highest UID a session has already been shown as \Recent.
    public var recentUID: Int64

    init(row: Row) {
        id = row["id"]
        accountID = row["account_id"]
        name = row["name"]
        specialUse = row["special_use"]
        uidValidity = row["uidvalidity"]
        uidNext = row["uidnext"]
        highestModseq = row["highestmodseq"]
        keywords = (row["keywords"] as String? ?? "").split(separator: " ").map(String.init)
        recentUID = row["recent_uid"] ?? 0
    }
}

/// Why a mailbox operation could not be done, for IMAP's NO responses.
public enum MailboxError: Error, Hashable, Sendable {
    case nonexistent(String)
    case alreadyExists(String)
    case hasChildren(String)
    case cannotDelete(String)
    case overQuota
}

extension SQLiteStore {
    /// The mailboxes every account starts with, and their RFC 6154 special uses.
    public static let defaultMailboxes: [(name: String, specialUse: String?)] = [
        ("INBOX", nil), ("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"), ("Junk", "\\Junk"),
        ("Archive", "\\Archive"),
    ]

    static func ensureDefaultMailboxes(_ accountID: Int64, _ db: Database) throws {
        for (name, use) in defaultMailboxes {
            if try Int64.fetchOne(
                db, sql: "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?", arguments: [accountID, name])
                == nil
            {
                _ = try insertMailbox(accountID, name: name, specialUse: use, subscribe: true, db)
            }
        }
    }

    /// UIDVALIDITY is seconds since 1970 when first used, and always larger than any value
    /// handed out before, so a mailbox deleted and made again never gets its old one back.
    static func nextUIDValidity(_ db: Database) throws -> Int64 {
        let now = Int64(Date().timeIntervalSince1970)
        let last = try Int64.fetchOne(db, sql: "SELECT value FROM counters WHERE name = 'uidvalidity'") ?? 0
        let next = min(max(now, last + 1), Int64(UInt32.max))
        try db.execute(
            sql:
                "INSERT INTO counters (name, value) VALUES ('uidvalidity', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            arguments: [next])
        return next
    }

    /// A new mailbox. Only the mailboxes an account starts with are subscribed here: IMAP
    /// CREATE does not subscribe (RFC 3501 §6.3.3), the client sends SUBSCRIBE if it wants to.
    static func insertMailbox(
        _ accountID: Int64, name: String, specialUse: String?, subscribe: Bool = false, _ db: Database
    ) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO mailboxes (account_id, name, special_use, uidvalidity) VALUES (?, ?, ?, ?)",
            arguments: [accountID, name, specialUse, try nextUIDValidity(db)])
        let id = db.lastInsertedRowID
        if subscribe {
            try db.execute(
                sql: "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)",
                arguments: [accountID, name])
        }
        return id
    }

    /// Claims the messages up to `uid` as \Recent for the calling session (RFC 3501 §2.3.2: a
    /// message is recent in one session only) and returns the UID up to which others had
    /// claimed them: the caller's recent messages are those above it, up to `uid`.
    public func claimRecent(mailboxID: Int64, through uid: Int64) throws -> Int64 {
        let claimed = try writer.write { db in
            let claimed =
                try Int64.fetchOne(db, sql: "SELECT recent_uid FROM mailboxes WHERE id = ?", arguments: [mailboxID])
                ?? uid
            if claimed < uid {
                try db.execute(sql: "UPDATE mailboxes SET recent_uid = ? WHERE id = ?", arguments: [uid, mailboxID])
            }
            return claimed
        }
        // The other sessions told of these messages then read the claim from the kept changes
        // instead of each taking the writer to find it made.
        if claimed < uid { changes.invalidate(mailboxID) }
        return claimed
    }

    /// Messages no session has been shown as \Recent yet (STATUS RECENT).
    public func unclaimedRecent(_ mailbox: MailboxRecord) throws -> Int {
        try writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM messages WHERE mailbox_id = ? AND uid > ?",
                arguments: [mailbox.id, mailbox.recentUID]) ?? 0
        }
    }

    /// An account's mailboxes, by name.
    public func mailboxes(accountID: Int64) throws -> [MailboxRecord] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM mailboxes WHERE account_id = ? ORDER BY name", arguments: [accountID]
            ).map(MailboxRecord.init(row:))
        }
    }

    public func mailbox(accountID: Int64, name: String) throws -> MailboxRecord? {
        try writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM mailboxes WHERE account_id = ? AND name = ?", arguments: [accountID, name]
            ).map(MailboxRecord.init(row:))
        }
    }

    public func mailbox(id: Int64) throws -> MailboxRecord? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM mailboxes WHERE id = ?", arguments: [id]).map(
                MailboxRecord.init(row:))
        }
    }

    /// Creates a mailbox (and any missing parents, as RFC 3501 §6.3.3 suggests).
    public func createMailbox(accountID: Int64, name: String, specialUse: String?, separator: Character) throws {
        try writer.write { db in
            if try Int64.fetchOne(
                db, sql: "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?", arguments: [accountID, name])
                != nil
            {
                throw MailboxError.alreadyExists(name)
            }
            let parts = name.split(separator: separator)
            for i in parts.indices.dropLast() {
                let parent = parts[...i].joined(separator: String(separator))
                if try Int64.fetchOne(
                    db, sql: "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?",
                    arguments: [accountID, parent]) == nil
                {
                    _ = try Self.insertMailbox(accountID, name: parent, specialUse: nil, db)
                }
            }
            _ = try Self.insertMailbox(accountID, name: name, specialUse: specialUse, db)
        }
    }

    /// Deletes a mailbox and its messages. INBOX cannot be deleted; a mailbox with children
    /// neither (the client deletes those first), so no name is left without its parent.
    public func deleteMailbox(accountID: Int64, name: String, separator: Character) throws {
        let id: Int64 = try writer.write { db in
            guard name != "INBOX" else { throw MailboxError.cannotDelete(name) }
            guard
                let id = try Int64.fetchOne(
                    db, sql: "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?", arguments: [accountID, name])
            else {
                throw MailboxError.nonexistent(name)
            }
            let prefix = name + String(separator)
            if try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM mailboxes WHERE account_id = ? AND substr(name, 1, ?) = ?",
                arguments: [accountID, prefix.count, prefix]) ?? 0 > 0
            {
                throw MailboxError.hasChildren(name)
            }
            try db.execute(
                sql: """
                    UPDATE blobs SET refs = refs - (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = ? AND m.blob_id = blobs.rowid)
                    WHERE rowid IN (SELECT blob_id FROM messages WHERE mailbox_id = ?)
                    """,
                arguments: [id, id])
            try db.execute(sql: "DELETE FROM messages WHERE mailbox_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM mailboxes WHERE id = ?", arguments: [id])
            return id
        }
        changes.publish([id])
    }

    /// Renames a mailbox and everything under it. Renaming INBOX moves its messages to a new
    /// mailbox and leaves INBOX empty (RFC 3501 §6.3.5).
    public func renameMailbox(accountID: Int64, from: String, to: String, separator: Character) throws {
        let touched: Set<Int64> = try writer.write { db in
            guard
                let id = try Int64.fetchOne(
                    db, sql: "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?", arguments: [accountID, from])
            else {
                throw MailboxError.nonexistent(from)
            }
            if try Int64.fetchOne(
                db, sql: "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?", arguments: [accountID, to])
                != nil
            {
                throw MailboxError.alreadyExists(to)
            }
            // Missing parents of the new name come into being.
            let parts = to.split(separator: separator)
            for i in parts.indices.dropLast() {
                let parent = parts[...i].joined(separator: String(separator))
                if try Int64.fetchOne(
                    db, sql: "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?",
                    arguments: [accountID, parent]) == nil
                {
                    _ = try Self.insertMailbox(accountID, name: parent, specialUse: nil, db)
                }
            }
            if from == "INBOX" {
                try db.execute(
                    sql: "UPDATE mailboxes SET name = ?, special_use = NULL WHERE id = ?", arguments: [to, id])
                _ = try Self.insertMailbox(accountID, name: "INBOX", specialUse: nil, subscribe: true, db)
                return [id]
            }
            let prefix = from + String(separator)
            let children = try Row.fetchAll(
                db, sql: "SELECT id, name FROM mailboxes WHERE account_id = ? AND substr(name, 1, ?) = ?",
                arguments: [accountID, prefix.count, prefix])
            try db.execute(sql: "UPDATE mailboxes SET name = ? WHERE id = ?", arguments: [to, id])
            for child in children {
                let name: String = child["name"]
                try db.execute(
                    sql: "UPDATE mailboxes SET name = ? WHERE id = ?",
                    arguments: [to + String(separator) + name.dropFirst(prefix.count), child["id"] as Int64])
            }
            try db.execute(
                sql: "UPDATE subscriptions SET name = ? WHERE account_id = ? AND name = ?",
                arguments: [to, accountID, from])
            return Set([id] + children.map { $0["id"] as Int64 })
        }
        changes.publish(touched)
    }

    public func subscriptions(accountID: Int64) throws -> Set<String> {
        try writer.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT name FROM subscriptions WHERE account_id = ?", arguments: [accountID]))
        }
    }

    public func setSubscribed(accountID: Int64, name: String, _ subscribed: Bool) throws {
        try writer.write { db in
            if subscribed {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)",
                    arguments: [accountID, name])
            } else {
                try db.execute(
                    sql: "DELETE FROM subscriptions WHERE account_id = ? AND name = ?", arguments: [accountID, name])
            }
        }
    }

    /// The UID of the first message without \Seen (SELECT's `[UNSEEN n]`), through the index
    /// of unseen messages, so a large mailbox read to its end costs no scan.
    public func firstUnseenUID(mailboxID: Int64) throws -> Int64? {
        try writer.read { db in
            try Int64.fetchOne(
                db,
                sql:
                    "SELECT uid FROM messages WHERE mailbox_id = ? AND instr(flags, '\\Seen') = 0 ORDER BY uid LIMIT 1",
                arguments: [mailboxID])
        }
    }

    /// Message count, unseen count, deleted count and total size of a mailbox (STATUS).
    public func mailboxCounts(mailboxID: Int64) throws -> (messages: Int, unseen: Int, deleted: Int, size: Int64) {
        try writer.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n, COALESCE(SUM(instr(flags, '\\Seen') = 0), 0) AS unseen,
                        COALESCE(SUM(instr(flags, '\\Deleted') > 0), 0) AS deleted, COALESCE(SUM(size), 0) AS size
                    FROM messages WHERE mailbox_id = ?
                    """,
                arguments: [mailboxID])
            return (row?["n"] ?? 0, row?["unseen"] ?? 0, row?["deleted"] ?? 0, row?["size"] ?? 0)
        }
    }
}
