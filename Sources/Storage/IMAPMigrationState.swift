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
/// and size.
public struct StoredMessageKey: Sendable, Hashable {
    public var blobHash: String
    public var messageID: String?
    public var size: Int64
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
                db, sql: "SELECT blob_hash, message_id, size FROM messages WHERE mailbox_id = ?", arguments: [mailboxID]
            )
            .map { StoredMessageKey(blobHash: $0["blob_hash"], messageID: $0["message_id"], size: $0["size"]) }
        }
    }
}
