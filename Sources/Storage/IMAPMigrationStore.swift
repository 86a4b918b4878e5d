import Foundation

/// What `mailroom migrate imap` remembers between runs: how far each folder of the other
/// server was copied, and which source message became which of ours, so that a later run
/// copies only what is new and brings over flag changes and deletions. ``SQLiteStore`` is one
/// implementation; `Tests/StorageTests/IMAPMigrationStoreContractTests.swift` holds the contract any
/// other must pass. `source` names the other server and login (`imap://host:port/user`),
/// `folder` the source folder's name as that server sends it.
public protocol IMAPMigrationStore: Sendable {
    func imapMigrationMark(accountID: Int64, source: String, folder: String) throws -> IMAPMigrationMark?
    func setIMAPMigrationMark(_ mark: IMAPMigrationMark, accountID: Int64, source: String, folder: String) throws
    /// What a folder holds, for recognising messages copied before.
    func storedMessageKeys(mailboxID: Int64) throws -> [StoredMessageKey]
    /// Records that the source message `origin` is our message `uid`, found here already
    /// (`owned`: a migration had copied it; otherwise it arrived here directly and no migration
    /// changes it). Messages a migration copies record their origin as they are appended.
    func linkIMAPMigration(_ origin: IMAPMigrationOrigin, mailboxID: Int64, uid: Int64, owned: Bool) throws
    /// Every source message of a folder (at `uidValidity`) and what became of it here, by
    /// source UID.
    func imapMigrationLinks(accountID: Int64, source: String, folder: String, uidValidity: Int64) throws
        -> [IMAPMigrationLink]
    /// Forgets the source messages of a folder recorded under another UIDVALIDITY. Our
    /// messages stay.
    func forgetIMAPMigrationLinks(accountID: Int64, source: String, folder: String, except uidValidity: Int64) throws
    /// Brings changes made on the other server since the last run, in one transaction:
    /// `flags` holds source messages whose flags there changed (source UID → flags now), `gone`
    /// those deleted there. On our messages the migration copied, the flags added there are
    /// added and those removed there are removed (a change made here to other flags stays);
    /// a copy whose source message is gone is removed, unless another source message is still
    /// linked to it. Messages that arrived here directly are never changed.
    func syncIMAPMigration(
        accountID: Int64, source: String, folder: String, uidValidity: Int64, flags: [Int64: [String]], gone: Set<Int64>
    ) throws -> IMAPMigrationSyncResult
}

extension SQLiteStore: IMAPMigrationStore {}
