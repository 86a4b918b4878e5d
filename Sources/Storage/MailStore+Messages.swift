import Foundation
import GRDB
import GRDBSQLite

/// A message's UID, MODSEQ and flags: what a session keeps current.
public struct MessageState: Hashable, Sendable {
    public var uid: Int64
    public var modseq: Int64
    public var flags: [String]

    init(row: Row) {
        uid = row["uid"]
        modseq = row["modseq"]
        flags = Self.split(row["flags"])
    }

    public init(uid: Int64, modseq: Int64, flags: [String]) {
        self.uid = uid
        self.modseq = modseq
        self.flags = flags
    }

    static func split(_ s: String?) -> [String] { (s ?? "").split(separator: " ").map(String.init) }
}

/// Everything stored about one message in a mailbox, for FETCH and SEARCH.
public struct MessageDetail: Sendable {
    public var uid: Int64
    public var modseq: Int64
    public var flags: [String]
    public var internalDate: Date
    public var size: Int
    public var blobHash: String
    public var headerPrefix: [UInt8]
    public var envelope: [UInt8]?
    public var bodyStructure: [UInt8]?
    public var bodySimple: [UInt8]?
    public var sentDate: Date?
    /// The zone the Date: field was written in (minutes east of UTC); nil for mail stored
    /// before it was kept, whose sent dates are compared as UTC days.
    public var sentZone: Int?

    /// The Date: field's wall-clock time as its writer saw it, read as UTC: its UTC calendar
    /// day is the writer's day.
    public var sentWallClock: Date? {
        sentDate.map { $0.addingTimeInterval(TimeInterval((sentZone ?? 0) * 60)) }
    }

    /// The bytes, when the query fetched them and they are kept in the database.
    public var inlineData: [UInt8]?

    /// Reads the columns ``SQLiteStore/messageDetails(mailboxID:uids:_:parts:include:)``
    /// selected, by position (name lookups cost more than the rest of the row).
    init(row: Row, parts: DetailParts) {
        uid = row[0]
        modseq = row[1]
        flags = MessageState.split(row[2])
        var i = 3
        if parts.contains(.basics) || parts.contains(.data) {
            internalDate = Date(timeIntervalSince1970: row[3])
            size = row[4]
            blobHash = row[5]
            headerPrefix = Array((row[6] as Data?) ?? Data())
            i = 7
        } else {
            internalDate = Date(timeIntervalSince1970: 0)
            size = 0
            blobHash = ""
            headerPrefix = []
        }
        if parts.contains(.meta) {
            envelope = (row[i] as Data?).map(Array.init)
            bodyStructure = (row[i + 1] as Data?).map(Array.init)
            bodySimple = (row[i + 2] as Data?).map(Array.init)
            sentDate = (row[i + 3] as Double?).map(Date.init(timeIntervalSince1970:))
            sentZone = row[i + 4]
            i += 5
        }
        if parts.contains(.data) { inlineData = (row[i] as Data?).map(Array.init) }
    }
}

/// How STORE changes flags.
public enum FlagChange: Sendable, Hashable {
    case add, remove, replace
}

/// A message to add to a mailbox (APPEND).
public struct NewMessage: Sendable {
    public var blobHash: String
    public var blobSize: Int
    public var inlineData: [UInt8]?
    public var meta: BlobMeta?
    public var flags: [String]
    public var internalDate: Date
    public var messageID: String?

    public init(
        blobHash: String, blobSize: Int, inlineData: [UInt8]?, meta: BlobMeta?, flags: [String], internalDate: Date,
        messageID: String?
    ) {
        self.blobHash = blobHash
        self.blobSize = blobSize
        self.inlineData = inlineData
        self.meta = meta
        self.flags = flags
        self.internalDate = internalDate
        self.messageID = messageID
    }
}

extension SQLiteStore {
    /// Stores a blob, or adds `refs` to the one stored. A blob bound for a mailbox (`mailbox`)
    /// gets its IMAP metadata (blob_meta) and search words from `meta`, or, without them, from
    /// the background indexer, which computes both from one parse off the path to 250.
    @discardableResult
    static func insertBlob(
        hash: String, size: Int, refs: Int, inlineData: [UInt8]?, meta: BlobMeta?, mailbox: Bool, _ db: Database
    ) throws -> Int64 {
        let existing = try db.fetchFirstBound(
            "SELECT rowid, EXISTS (SELECT 1 FROM blob_meta WHERE blob_id = blobs.rowid) FROM blobs WHERE hash = ?",
            hash, row: { (rowid: sqlite3_column_int64($0, 0), indexed: sqlite3_column_int($0, 1) != 0) })
        if let existing {
            try db.executeBound(
                "UPDATE blobs SET refs = refs + ?, data = COALESCE(data, ?), gone = 0 WHERE hash = ?",
                refs, inlineData, hash)
            if existing.indexed { return existing.rowid }
        } else {
            try db.executeBound(
                "INSERT INTO blobs (hash, size, refs, data) VALUES (?, ?, ?, ?)", hash, size, refs, inlineData)
        }
        let rowid = existing?.rowid ?? db.lastInsertedRowID
        guard let meta else {
            if mailbox { try db.executeBound("INSERT OR IGNORE INTO index_backlog (blob_rowid) VALUES (?)", rowid) }
            return rowid
        }
        try insertMeta(meta, blob: rowid, db)
        guard let t = meta.text else {
            try db.executeBound("INSERT OR IGNORE INTO index_backlog (blob_rowid) VALUES (?)", rowid)
            return rowid
        }
        try db.cachedStatement(
            sql:
                "INSERT INTO blob_text (rowid, subject, from_addr, to_addr, cc, bcc, headers, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(
            arguments: [rowid, t.subject, t.from, t.to, t.cc, t.bcc, t.headers, t.body])
        return rowid
    }

    /// Keeps a blob's IMAP metadata, unless it has some already (the indexer's copy of what an
    /// APPEND stored meanwhile is the same).
    static func insertMeta(_ meta: BlobMeta, blob rowid: Int64, _ db: Database) throws {
        try db.executeBound(
            """
            INSERT OR IGNORE INTO blob_meta (blob_id, envelope, bodystructure, body_simple, sent_date, sent_zone)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            rowid, meta.envelope, meta.bodyStructure, meta.bodySimple, meta.sentDate?.timeIntervalSince1970,
            meta.sentZone)
        if db.changesCount == 1, let keys = meta.sortKeys {
            try insertSortKeys(keys, blob: rowid, sentDate: meta.sentDate?.timeIntervalSince1970, db)
        }
    }

    /// Keeps a stored message's SORT keys, with its blob_meta row's Date: instant; the caller
    /// knows that row is there (the keys go with it).
    static func insertSortKeys(_ k: SortKeys, blob rowid: Int64, sentDate: Double?, _ db: Database) throws {
        try db.executeBound(
            """
            INSERT OR IGNORE INTO sort_keys
                (blob_id, sent_date, subject, from_addr, to_addr, cc_addr, from_name, to_name, thread)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            rowid, sentDate, k.subject, k.from, k.to, k.cc, k.fromName, k.toName, k.thread?.encoded)
    }

    /// UID, MODSEQ and flags of every message, by UID (what SELECT loads).
    public func messageStates(mailboxID: Int64) throws -> [MessageState] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT uid, modseq, flags FROM messages WHERE mailbox_id = ? ORDER BY uid",
                arguments: [mailboxID]
            )
            .map(MessageState.init(row:))
        }
    }

    /// A mailbox and the UIDs of its messages, read together (SELECT).
    public func openMailbox(accountID: Int64, name: String) throws -> (MailboxRecord, [Int64])? {
        try writer.read { db in
            guard
                let m = try Row.fetchOne(
                    db, sql: "SELECT * FROM mailboxes WHERE account_id = ? AND name = ?", arguments: [accountID, name]
                )
                .map(MailboxRecord.init(row:))
            else { return nil }
            return (
                m,
                try Int64.fetchAll(
                    db, sql: "SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid", arguments: [m.id])
            )
        }
    }

    /// What changed in a mailbox since `modseq`: messages added or changed, UIDs expunged, and
    /// the mailbox's state now.
    public func changes(mailboxID: Int64, since modseq: Int64) throws -> MailboxChanges {
        try changes.changes(mailbox: mailboxID, since: modseq) {
            try writer.read { db in
                let mailbox = try Row.fetchOne(db, sql: "SELECT * FROM mailboxes WHERE id = ?", arguments: [mailboxID])
                    .map(MailboxRecord.init(row:))
                let changed = try Row.fetchAll(
                    db, sql: "SELECT uid, modseq, flags FROM messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid",
                    arguments: [mailboxID, modseq]
                ).map(MessageState.init(row:))
                let expunged = try Int64.fetchAll(
                    db, sql: "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid",
                    arguments: [mailboxID, modseq])
                return MailboxChanges(changed: changed, expunged: expunged, mailbox: mailbox)
            }
        }
    }

    /// The messages with UIDs in `lo...hi` that `include` accepts, by UID, with `parts`.
    /// `only` (sorted UIDs), when given, lets a sparse set be looked up instead of scanned.
    public func messageDetails(
        mailboxID: Int64, uids lo: Int64, _ hi: Int64, only: [Int64]?, parts: DetailParts, include: (Int64) -> Bool
    ) throws -> [MessageDetail] {
        var columns = "m.uid, m.modseq, m.flags"
        if parts.contains(.basics) || parts.contains(.data) {
            columns += ", m.internal_date, m.size, m.blob_hash, m.header_prefix"
        }
        if parts.contains(.meta) {
            columns += ", bm.envelope, bm.bodystructure, bm.body_simple, bm.sent_date, bm.sent_zone"
        }
        if parts.contains(.data) { columns += ", b.data" }
        var join = parts.contains(.data) ? "JOIN blobs b ON b.hash = m.blob_hash" : ""
        if parts.contains(.meta) { join += " LEFT JOIN blob_meta bm ON bm.blob_id = m.blob_id" }
        return try writer.read { db in
            var out: [MessageDetail] = []
            func read(_ sql: String, _ arguments: StatementArguments) throws {
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT \(columns) FROM messages m \(join) WHERE m.mailbox_id = ? AND \(sql) ORDER BY m.uid",
                    arguments: arguments)
                while let row = try rows.next() {
                    let uid: Int64 = row[0]
                    if include(uid) { out.append(MessageDetail(row: row, parts: parts)) }
                }
            }
            if let few = only, few.count * 8 < Int(hi - lo + 1) {
                // A few UIDs spread over a large mailbox: look them up, do not scan the range.
                for chunk in stride(from: 0, to: few.count, by: 500) {
                    let part = few[chunk..<min(few.count, chunk + 500)]
                    try read("m.uid IN (\(part.map(String.init).joined(separator: ",")))", [mailboxID])
                }
                out.sort { $0.uid < $1.uid }
            } else {
                try read("m.uid BETWEEN ? AND ?", [mailboxID, lo, hi])
            }
            return out
        }
    }

    /// The stored columns of the messages in a UID range, in UID order, handed over row by row
    /// without building a value per message: the fast path of FETCHes that ask only for what
    /// is stored (FLAGS; with `basics` INTERNALDATE and RFC822.SIZE; with `meta` those and
    /// ENVELOPE, BODYSTRUCTURE, BODY), which clients send for whole mailboxes. Steps the
    /// statement itself.
    public func scanMessages(
        mailboxID: Int64, uids lo: Int64, _ hi: Int64, basics: Bool, meta: Bool, _ body: (ScannedMessage) -> Void
    ) throws {
        let basics = basics || meta
        let sql =
            meta
            ? """
            SELECT m.uid, m.modseq, m.flags, m.internal_date, m.size, bm.envelope, bm.bodystructure, bm.body_simple
            FROM messages m LEFT JOIN blob_meta bm ON bm.blob_id = m.blob_id
            WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid
            """
            : basics
                ? "SELECT uid, modseq, flags, internal_date, size FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid"
                : "SELECT uid, modseq, flags FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid"
        try scanRows(sql: sql, [mailboxID, lo, hi]) { s in
            body(
                ScannedMessage(
                    uid: sqlite3_column_int64(s, 0), modseq: sqlite3_column_int64(s, 1),
                    flags: UnsafeRawBufferPointer(
                        start: sqlite3_column_text(s, 2), count: Int(sqlite3_column_bytes(s, 2))),
                    internalDate: basics ? sqlite3_column_double(s, 3) : 0,
                    size: basics ? sqlite3_column_int64(s, 4) : 0,
                    envelope: meta ? Self.bytes(s, 5) : nil, bodyStructure: meta ? Self.bytes(s, 6) : nil,
                    bodySimple: meta ? Self.bytes(s, 7) : nil))
        }
    }

    /// Search metadata for every message: UID, MODSEQ, flags, size, dates.
    public func searchRows(mailboxID: Int64) throws -> [MessageDetail] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.uid, m.modseq, m.flags, m.internal_date, m.size, m.blob_hash, m.header_prefix, NULL, NULL, NULL, bm.sent_date, bm.sent_zone
                    FROM messages m LEFT JOIN blob_meta bm ON bm.blob_id = m.blob_id
                    WHERE m.mailbox_id = ? ORDER BY m.uid
                    """,
                arguments: [mailboxID]
            ).map { MessageDetail(row: $0, parts: [.basics, .meta]) }
        }
    }

    /// UIDs of messages whose indexed `field` (or any field, for nil) contains `needle`, which
    /// must be at least 3 characters (the index's trigrams).
    /// Up to `lookupLimit` matching messages are looked up one by one; more, and the mailbox is
    /// read in one pass.
    public func textSearch(mailboxID: Int64, fields: [SearchText.Field], needle: String, lookupLimit: Int) throws
        -> Set<Int64>
    {
        // No column is no match (and not an FTS5 syntax error).
        guard !fields.isEmpty else { return [] }
        let phrase = "\"" + needle.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let query = "{\(fields.map(\.rawValue).joined(separator: " "))} : \(phrase)"
        return try writer.read { db in
            let blobs = try Int64.fetchAll(
                db, sql: "SELECT rowid FROM blob_text WHERE blob_text MATCH ?", arguments: [query])
            guard !blobs.isEmpty else { return [] }
            if blobs.count <= lookupLimit {
                // Few matches: look each one up (the work follows the matches, not the mailbox).
                return Set(
                    try Int64.fetchAll(
                        db,
                        sql: """
                            SELECT m.uid FROM messages m INDEXED BY messages_blob_id
                            WHERE m.blob_id IN (\(blobs.map(String.init).joined(separator: ","))) AND m.mailbox_id = ?
                            """,
                        arguments: [mailboxID]))
            }
            // Many: one pass over the mailbox's messages costs less than a lookup per match.
            return Set(
                try Int64.fetchAll(
                    db,
                    sql: """
                        SELECT m.uid FROM messages m
                        WHERE m.mailbox_id = ? AND m.blob_id IN (SELECT rowid FROM blob_text WHERE blob_text MATCH ?)
                        """,
                    arguments: [mailboxID, query]))
        }
    }

    /// Changes the flags of the messages `uids` (STORE). With `unchangedSince`, messages
    /// modified after it are left alone and returned in `failed` (RFC 7162 §3.1.3). Every
    /// changed message gets the mailbox's next MODSEQ.
    public func storeFlags(
        mailboxID: Int64, uids: [Int64], change: FlagChange, flags: [String], unchangedSince: Int64?
    ) throws -> (changed: [MessageState], unchanged: [MessageState], failed: [Int64]) {
        guard let lo = uids.min(), let hi = uids.max() else { return ([], [], []) }
        let wanted = Set(uids)
        let result: ([MessageState], [MessageState], [Int64]) = try writer.write { db in
            let current = try Row.fetchAll(
                db,
                sql:
                    "SELECT uid, modseq, flags FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid",
                arguments: [mailboxID, lo, hi]
            ).map(MessageState.init(row:)).filter { wanted.contains($0.uid) }
            var changed: [MessageState] = []
            var unchanged: [MessageState] = []
            var failed: [Int64] = []
            var modseq: Int64?
            for var m in current {
                if let unchangedSince, m.modseq > unchangedSince {
                    failed.append(m.uid)
                    continue
                }
                let new = Self.apply(change, flags, to: m.flags)
                guard new != m.flags else {
                    unchanged.append(m)
                    continue
                }
                if modseq == nil {
                    modseq = try Int64.fetchOne(
                        db,
                        sql:
                            "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq",
                        arguments: [mailboxID])
                }
                m.flags = new
                m.modseq = modseq!
                try db.execute(
                    sql: "UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?",
                    arguments: [new.joined(separator: " "), m.modseq, mailboxID, m.uid])
                changed.append(m)
            }
            if change != .remove { try Self.noteKeywords(flags, mailboxID: mailboxID, db) }
            return (changed, unchanged, failed)
        }
        if !result.0.isEmpty { changes.publish([mailboxID]) }
        return result
    }

    /// Flags after a STORE: system flags first in a fixed order, then keywords as first set.
    static func apply(_ change: FlagChange, _ flags: [String], to current: [String]) -> [String] {
        var out: [String]
        switch change {
        case .replace: out = []
        case .add, .remove: out = current
        }
        for f in flags {
            let present = out.contains { $0.caseInsensitiveCompare(f) == .orderedSame }
            if change == .remove {
                out.removeAll { $0.caseInsensitiveCompare(f) == .orderedSame }
            } else if !present {
                out.append(f)
            }
        }
        return out
    }

    /// Keeps the mailbox's list of keywords in use (for FLAGS) up to date.
    static func noteKeywords(_ flags: [String], mailboxID: Int64, _ db: Database) throws {
        let keywords = flags.filter { !$0.hasPrefix("\\") }
        guard !keywords.isEmpty else { return }
        let existing = MessageState.split(
            try String.fetchOne(db, sql: "SELECT keywords FROM mailboxes WHERE id = ?", arguments: [mailboxID]))
        var all = existing
        for k in keywords where !all.contains(where: { $0.caseInsensitiveCompare(k) == .orderedSame }) { all.append(k) }
        if all.count != existing.count {
            try db.execute(
                sql: "UPDATE mailboxes SET keywords = ? WHERE id = ?",
                arguments: [all.joined(separator: " "), mailboxID])
        }
    }

    /// Removes the messages flagged \Deleted (only those in `uids`, when given) and returns
    /// their UIDs. The removal is recorded with a new MODSEQ for other sessions and QRESYNC.
    public func expunge(mailboxID: Int64, uids: Set<Int64>?) throws -> [Int64] {
        let removed: [Int64] = try writer.write { db in
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT uid, blob_hash FROM messages WHERE mailbox_id = ? AND instr(flags, '\\Deleted') > 0 ORDER BY uid",
                arguments: [mailboxID]
            ).filter { uids?.contains($0["uid"]) ?? true }
            guard !rows.isEmpty else { return [] }
            try Self.remove(rows.map { ($0["uid"], $0["blob_hash"]) }, mailboxID: mailboxID, db)
            return rows.map { $0["uid"] }
        }
        if !removed.isEmpty { changes.publish([mailboxID]) }
        return removed
    }

    static func remove(_ messages: [(uid: Int64, blob: String)], mailboxID: Int64, _ db: Database) throws {
        let modseq = try Int64.fetchOne(
            db, sql: "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq",
            arguments: [mailboxID])!
        for m in messages {
            try db.execute(sql: "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?", arguments: [mailboxID, m.uid])
            try db.execute(
                sql: "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)",
                arguments: [mailboxID, m.uid, modseq])
            // Blobs whose count reaches 0 stay until a collector removes them with their index rows.
            try db.execute(sql: "UPDATE blobs SET refs = refs - 1 WHERE hash = ?", arguments: [m.blob])
        }
    }

    /// Copies (or moves) messages to another mailbox of the same account; they share their
    /// blobs. Returns the target's UIDVALIDITY and (source UID, new UID) pairs. `quota` (bytes,
    /// 0 for none) is checked against the account's usage in the same transaction.
    public func copyMessages(
        from source: Int64, uids: [Int64], to target: Int64, move: Bool, accountID: Int64, quota: Int64
    ) throws -> (uidValidity: Int64, pairs: [(Int64, Int64)]) {
        let wanted = Set(uids)
        guard let lo = uids.min(), let hi = uids.max() else {
            let v = try mailbox(id: target)?.uidValidity ?? 0
            return (v, [])
        }
        let result: (Int64, [(Int64, Int64)]) = try writer.write { db in
            guard
                let validity = try Int64.fetchOne(
                    db, sql: "SELECT uidvalidity FROM mailboxes WHERE id = ?", arguments: [target])
            else {
                throw MailboxError.nonexistent("\(target)")
            }
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid",
                arguments: [source, lo, hi]
            ).filter { wanted.contains($0["uid"]) }
            guard !rows.isEmpty else { return (validity, []) }
            if quota > 0, !move || source == target {
                let used = try Self.usage(accountID: accountID, db)
                let adding = rows.reduce(Int64(0)) { $0 + ($1["size"] as Int64) }
                if used + adding > quota { throw MailboxError.overQuota }
            }
            let first = try Row.fetchOne(
                db,
                sql:
                    "UPDATE mailboxes SET uidnext = uidnext + ?, highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING uidnext - ? AS uid, highestmodseq AS modseq",
                arguments: [rows.count, target, rows.count])!
            var next: Int64 = first["uid"]
            let modseq: Int64 = first["modseq"]
            var pairs: [(Int64, Int64)] = []
            var keywords: [String] = []
            for row in rows {
                try db.execute(
                    sql: """
                        INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, blob_id, header_prefix, size, internal_date, flags, queue_id, message_id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        target, next, modseq, row["blob_hash"] as String, row["blob_id"] as Int64?,
                        row["header_prefix"] as Data, row["size"] as Int64,
                        row["internal_date"] as Double, row["flags"] as String, row["queue_id"] as String?,
                        row["message_id"] as String?,
                    ])
                try db.execute(
                    sql: "UPDATE blobs SET refs = refs + 1 WHERE hash = ?", arguments: [row["blob_hash"] as String])
                keywords += MessageState.split(row["flags"])
                pairs.append((row["uid"], next))
                next += 1
            }
            try Self.noteKeywords(keywords, mailboxID: target, db)
            if move { try Self.remove(rows.map { ($0["uid"], $0["blob_hash"]) }, mailboxID: source, db) }
            return (validity, pairs)
        }
        changes.publish(move ? [source, target] : [target])
        return result
    }

    /// Bytes an account's mailboxes hold, read in the caller's transaction (quota checks).
    static func usage(accountID: Int64, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db,
            sql: "SELECT COALESCE(SUM(m.size), 0) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ?",
            arguments: [accountID]) ?? 0
    }

    /// Adds one message to a mailbox (APPEND), checking the quota (0: none) in the same
    /// transaction. Returns the mailbox's UIDVALIDITY and the new UID. A message a migration
    /// copied records its `origin` in the same transaction.
    public func appendMessage(
        _ m: NewMessage, mailboxID: Int64, accountID: Int64, quota: Int64, origin: IMAPMigrationOrigin?
    ) throws -> (uidValidity: Int64, uid: Int64) {
        let result: (Int64, Int64) = try deliveryWrite { db in
            if quota > 0 {
                let used = try Self.usage(accountID: accountID, db)
                if used + Int64(m.blobSize) > quota { throw MailboxError.overQuota }
            }
            let blobID = try Self.insertBlob(
                hash: m.blobHash, size: m.blobSize, refs: 1, inlineData: m.inlineData, meta: m.meta, mailbox: true, db)
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING uidnext - 1 AS uid, highestmodseq AS modseq, uidvalidity",
                    arguments: [mailboxID])
            else { throw MailboxError.nonexistent("\(mailboxID)") }
            try db.execute(
                sql: """
                    INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, blob_id, size, internal_date, flags, message_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    mailboxID, row["uid"] as Int64, row["modseq"] as Int64, m.blobHash, blobID, m.blobSize,
                    m.internalDate.timeIntervalSince1970, m.flags.joined(separator: " "), m.messageID,
                ])
            try Self.noteKeywords(m.flags, mailboxID: mailboxID, db)
            if let origin { try Self.linkIMAPMigration(origin, mailboxID: mailboxID, uid: row["uid"], owned: true, db) }
            return (row["uidvalidity"], row["uid"])
        }
        changes.publish([mailboxID])
        return result
    }

    /// The expunged UIDs of a mailbox after `modseq` (QRESYNC's VANISHED (EARLIER)).
    public func expungedSince(mailboxID: Int64, modseq: Int64) throws -> [Int64] {
        try writer.read { db in
            try Int64.fetchAll(
                db, sql: "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid",
                arguments: [mailboxID, modseq])
        }
    }
}
