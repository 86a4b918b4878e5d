import Foundation
import GRDB

/// How far `mailroom migrate imap` has copied one folder of another server (schema step
/// v19-imap-migration).
public struct IMAPMigrationMark: Sendable, Hashable {
    public var uidValidity: Int64
    /// Every message up to this UID is copied or was found already here.
    public var lastUID: Int64

    public init(uidValidity: Int64, lastUID: Int64) {
        self.uidValidity = uidValidity
        self.lastUID = lastUID
    }
}

/// A message already in a folder, as a migration compares it: by content, and by Message-ID
/// and size. `uid` is its UID here; `owned` says whether a migration copied it (rather than it
/// arriving here some other way).
public struct StoredMessageKey: Sendable, Hashable {
    public var blobHash: String
    public var messageID: String?
    public var size: Int64
    public var uid: Int64
    public var owned: Bool
}

/// Where a message came from when a migration copied it or found it here (schema step
/// v20-imap-migration-uids): written with the message, in the same transaction.
public struct IMAPMigrationOrigin: Sendable, Hashable {
    public var accountID: Int64
    /// The other server and login, as in ``IMAPMigrationStore/imapMigrationMark(accountID:source:folder:)``.
    public var source: String
    public var folder: String
    public var uidValidity: Int64
    public var sourceUID: Int64
    /// Its flags on the other server when copied (compared with them at the next run).
    public var sourceFlags: [String]

    public init(
        accountID: Int64, source: String, folder: String, uidValidity: Int64, sourceUID: Int64, sourceFlags: [String]
    ) {
        self.accountID = accountID
        self.source = source
        self.folder = folder
        self.uidValidity = uidValidity
        self.sourceUID = sourceUID
        self.sourceFlags = sourceFlags
    }
}

/// One source message and ours, as the last run left them.
public struct IMAPMigrationLink: Sendable, Hashable {
    public var sourceUID: Int64
    public var mailboxID: Int64
    public var uid: Int64
    public var sourceFlags: [String]
    /// The migration copied our message; false when it was here already (arrived directly).
    public var owned: Bool
    /// Our message's flags and size now; nil when it is no longer here.
    public var flags: [String]?
    public var size: Int64?
}

/// What ``IMAPMigrationStore/syncIMAPMigration(accountID:source:folder:uidValidity:flags:gone:)`` did.
public struct IMAPMigrationSyncResult: Sendable, Hashable {
    /// Our messages whose flags changed.
    public var flagsChanged = 0
    /// Our messages removed because the source's were deleted.
    public var expunged = 0
    public init() {}
}

extension SQLiteStore {
    /// `source` names the other server and login (`imap://host:port/user`), `folder` the
    /// source folder's name as that server sends it.
    public func imapMigrationMark(accountID: Int64, source: String, folder: String) throws -> IMAPMigrationMark? {
        try writer.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT uidvalidity, last_uid FROM imap_migration_state WHERE account_id = ? AND source = ? AND folder = ?",
                arguments: [accountID, source, folder]
            ).map { IMAPMigrationMark(uidValidity: $0["uidvalidity"], lastUID: $0["last_uid"]) }
        }
    }

    public func setIMAPMigrationMark(_ mark: IMAPMigrationMark, accountID: Int64, source: String, folder: String) throws
    {
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO imap_migration_state (account_id, source, folder, uidvalidity, last_uid, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, source, folder) DO UPDATE
                    SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, updated_at = excluded.updated_at
                    """,
                arguments: [accountID, source, folder, mark.uidValidity, mark.lastUID, Date().timeIntervalSince1970])
        }
    }

    /// What a folder holds, for recognising messages copied before.
    public func storedMessageKeys(mailboxID: Int64) throws -> [StoredMessageKey] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.blob_hash, m.message_id, m.size, m.uid,
                        EXISTS (SELECT 1 FROM imap_migration_messages l
                                WHERE l.mailbox_id = m.mailbox_id AND l.uid = m.uid AND l.owned = 1) AS owned
                    FROM messages m WHERE m.mailbox_id = ?
                    """, arguments: [mailboxID]
            )
            .map {
                StoredMessageKey(
                    blobHash: $0["blob_hash"], messageID: $0["message_id"], size: $0["size"], uid: $0["uid"],
                    owned: $0["owned"])
            }
        }
    }

    static func linkIMAPMigration(_ o: IMAPMigrationOrigin, mailboxID: Int64, uid: Int64, owned: Bool, _ db: Database)
        throws
    {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO imap_migration_messages
                    (account_id, source, folder, uidvalidity, source_uid, mailbox_id, uid, source_flags, owned)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                o.accountID, o.source, o.folder, o.uidValidity, o.sourceUID, mailboxID, uid,
                o.sourceFlags.joined(separator: " "), owned,
            ])
    }

    /// Records that the source message `origin` is our message `uid`, found here already
    /// (`owned`: a migration had copied it; otherwise it arrived here directly and no migration
    /// changes it).
    public func linkIMAPMigration(_ origin: IMAPMigrationOrigin, mailboxID: Int64, uid: Int64, owned: Bool) throws {
        try writer.write { db in try Self.linkIMAPMigration(origin, mailboxID: mailboxID, uid: uid, owned: owned, db) }
    }

    /// Every source message of a folder (at `uidValidity`) and what became of it here.
    public func imapMigrationLinks(accountID: Int64, source: String, folder: String, uidValidity: Int64) throws
        -> [IMAPMigrationLink]
    {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT l.source_uid, l.mailbox_id, l.uid, l.source_flags, l.owned, m.flags, m.size
                    FROM imap_migration_messages l
                    LEFT JOIN messages m ON m.mailbox_id = l.mailbox_id AND m.uid = l.uid
                    WHERE l.account_id = ? AND l.source = ? AND l.folder = ? AND l.uidvalidity = ?
                    ORDER BY l.source_uid
                    """,
                arguments: [accountID, source, folder, uidValidity]
            ).map {
                IMAPMigrationLink(
                    sourceUID: $0["source_uid"], mailboxID: $0["mailbox_id"], uid: $0["uid"],
                    sourceFlags: MessageState.split($0["source_flags"]), owned: $0["owned"],
                    flags: ($0["flags"] as String?).map(MessageState.split), size: $0["size"])
            }
        }
    }

    /// Forgets the source messages of a folder recorded under another UIDVALIDITY (after the
    /// folder was compared again under its new one). Our messages stay.
    public func forgetIMAPMigrationLinks(accountID: Int64, source: String, folder: String, except uidValidity: Int64)
        throws
    {
        try writer.write { db in
            try db.execute(
                sql:
                    "DELETE FROM imap_migration_messages WHERE account_id = ? AND source = ? AND folder = ? AND uidvalidity != ?",
                arguments: [accountID, source, folder, uidValidity])
        }
    }

    /// Brings changes made on the other server since the last run, in one transaction:
    /// `flags` holds source messages whose flags there changed (source UID → flags now), `gone`
    /// those deleted there. On our messages the migration copied, the flags added there are
    /// added and those removed there are removed (a change made here to other flags stays);
    /// a copy whose source message is gone is removed, unless another source message is still
    /// linked to it. Messages that arrived here directly are never changed.
    public func syncIMAPMigration(
        accountID: Int64, source: String, folder: String, uidValidity: Int64, flags: [Int64: [String]], gone: Set<Int64>
    ) throws -> IMAPMigrationSyncResult {
        guard !flags.isEmpty || !gone.isEmpty else { return IMAPMigrationSyncResult() }
        var touched: Set<Int64> = []
        let result: IMAPMigrationSyncResult = try writer.write { db in
            var result = IMAPMigrationSyncResult()
            let links = try Row.fetchAll(
                db,
                sql: """
                    SELECT source_uid, mailbox_id, uid, source_flags, owned FROM imap_migration_messages
                    WHERE account_id = ? AND source = ? AND folder = ? AND uidvalidity = ?
                    """,
                arguments: [accountID, source, folder, uidValidity])
            var modseqs: [Int64: Int64] = [:]
            func nextModseq(_ mailbox: Int64) throws -> Int64 {
                if let m = modseqs[mailbox] { return m }
                let m = try Int64.fetchOne(
                    db,
                    sql: "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq",
                    arguments: [mailbox])!
                modseqs[mailbox] = m
                return m
            }
            var removed: [Int64: [(uid: Int64, blob: String)]] = [:]
            for link in links {
                let sourceUID: Int64 = link["source_uid"]
                let mailbox: Int64 = link["mailbox_id"]
                let uid: Int64 = link["uid"]
                let owned: Bool = link["owned"]
                let key: [(any DatabaseValueConvertible)?] = [accountID, source, folder, uidValidity, sourceUID]
                let whereKey = "account_id = ? AND source = ? AND folder = ? AND uidvalidity = ? AND source_uid = ?"
                if gone.contains(sourceUID) {
                    try db.execute(
                        sql: "DELETE FROM imap_migration_messages WHERE \(whereKey)", arguments: StatementArguments(key)
                    )
                    guard owned else { continue }
                    let others =
                        try Int.fetchOne(
                            db, sql: "SELECT COUNT(*) FROM imap_migration_messages WHERE mailbox_id = ? AND uid = ?",
                            arguments: [mailbox, uid]) ?? 0
                    guard others == 0,
                        let blob = try String.fetchOne(
                            db, sql: "SELECT blob_hash FROM messages WHERE mailbox_id = ? AND uid = ?",
                            arguments: [mailbox, uid])
                    else { continue }
                    removed[mailbox, default: []].append((uid, blob))
                    continue
                }
                guard let now = flags[sourceUID] else { continue }
                let before = MessageState.split(link["source_flags"])
                try db.execute(
                    sql: "UPDATE imap_migration_messages SET source_flags = ? WHERE \(whereKey)",
                    arguments: StatementArguments([now.joined(separator: " ")] + key))
                guard owned,
                    let current = try String.fetchOne(
                        db, sql: "SELECT flags FROM messages WHERE mailbox_id = ? AND uid = ?",
                        arguments: [mailbox, uid])
                else { continue }
                let added = now.filter { f in !before.contains { $0.caseInsensitiveCompare(f) == .orderedSame } }
                let dropped = before.filter { f in !now.contains { $0.caseInsensitiveCompare(f) == .orderedSame } }
                let ours = MessageState.split(current)
                let new = Self.apply(.remove, dropped, to: Self.apply(.add, added, to: ours))
                guard new != ours else { continue }
                try db.execute(
                    sql: "UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?",
                    arguments: [new.joined(separator: " "), try nextModseq(mailbox), mailbox, uid])
                try Self.noteKeywords(added, mailboxID: mailbox, db)
                touched.insert(mailbox)
                result.flagsChanged += 1
            }
            for (mailbox, messages) in removed {
                try Self.remove(messages, mailboxID: mailbox, db)
                touched.insert(mailbox)
                result.expunged += messages.count
            }
            return result
        }
        if !touched.isEmpty { changes.publish(touched) }
        return result
    }
}
