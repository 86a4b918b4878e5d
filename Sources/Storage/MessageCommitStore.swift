import Foundation

/// Storing mail: the commit that stores each accepted message with everything that follows
/// from it, and APPEND. ``SQLiteStore`` is one implementation;
/// `Tests/StorageTests/MessageCommitStoreContractTests.swift` holds the contract any other must
/// pass (the mailbox, queue, quarantine and search-index contracts store their mail through it
/// too).
public protocol MessageCommitStore: Sendable {
    /// Commits many messages in one transaction, all or nothing (one fsync for the batch: group
    /// commit): each message's bytes, a copy in each local recipient's mailbox with the next UID
    /// and MODSEQ, a queue entry per remote recipient, a held copy per moderated list, its
    /// events and its Sieve memory. After it, the sessions watching a mailbox delivered into are
    /// told, and the outbound queue's wakeup is rung when something was queued.
    func commit(_ batch: [MessageCommit]) throws
    /// Adds one message to a mailbox (APPEND), checking the account's quota (bytes, 0 for none)
    /// in the same transaction: ``MailboxError/overQuota`` stores nothing. Returns the
    /// mailbox's UIDVALIDITY and the new UID. A message a migration copied records its
    /// `origin` in the same transaction.
    func appendMessage(
        _ m: NewMessage, mailboxID: Int64, accountID: Int64, quota: Int64, origin: IMAPMigrationOrigin?
    ) throws -> (uidValidity: Int64, uid: Int64)
}

extension MessageCommitStore {
    /// Adds one message to a mailbox (APPEND) that no migration copied.
    public func appendMessage(_ m: NewMessage, mailboxID: Int64, accountID: Int64, quota: Int64) throws
        -> (uidValidity: Int64, uid: Int64)
    {
        try appendMessage(m, mailboxID: mailboxID, accountID: accountID, quota: quota, origin: nil)
    }
}

extension SQLiteStore: MessageCommitStore {}
