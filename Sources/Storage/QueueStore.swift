import Foundation
import MailCore

/// The outbound queue's storage, as the queue runner and the queue's admin operations use it.
/// ``SQLiteStore`` is one implementation; `Tests/OutboundTests/QueueStoreTests.swift` holds
/// the contract any other must pass (it runs against SQLite in memory and on disk).
///
/// Entries are added by the message commit that stores the message (``MessageCommit`` with
/// remote recipients), so that a message is queued exactly when it is stored.
public protocol QueueStore: Sendable {
    /// Rung when a commit queued something or an entry became due early: the runner waits on it.
    var outbound: Wakeup { get }

    /// Entries whose delivery was under way when the process stopped become due again.
    func resetActiveQueueEntries() throws
    /// Marks up to `limit` due entries active and returns them, oldest due first.
    func claimDueQueueEntries(now: Date, limit: Int) throws -> [QueueEntry]
    /// When the next entry falls due, if any is waiting.
    func nextQueueAttempt() throws -> Date?
    /// Records attempts, their events and the bounces they cause, all or nothing; entries
    /// already gone are skipped.
    func recordQueueOutcomes(_ outcomes: [QueueOutcome], events: [DeliveryEvent], messages: [MessageCommit]) throws
    /// Queue entries, oldest first.
    func queueEntries(_ selection: QueueSelection, limit: Int) throws -> [QueueEntry]
    /// The attempts made for these entries, oldest first.
    func queueAttempts(rowIDs: [Int64]) throws -> [Int64: [QueueAttempt]]
    /// Makes the selected entries due now, holds them, or releases held ones; entries being
    /// delivered are left alone. Returns the entries changed.
    func updateQueue(
        _ selection: QueueSelection, action: QueueAction, now: Date, events: (QueueEntry) -> DeliveryEvent
    ) throws -> [QueueEntry]
    /// Removes the entries not being delivered, with their events and bounces, all or nothing.
    /// Returns the entries removed.
    func deleteQueueEntries(_ entries: [QueueEntry], events: [DeliveryEvent], messages: [MessageCommit]) throws
        -> [QueueEntry]
    /// When the oldest entry still queued was queued; nil when the queue is empty.
    func oldestQueued() throws -> Date?
    /// Entries by status.
    func queueCounts() throws -> [QueueEntry.Status: Int]
}

extension QueueStore {
    /// The first 1,000 entries of the selection, oldest first.
    public func queueEntries(_ selection: QueueSelection) throws -> [QueueEntry] {
        try queueEntries(selection, limit: 1000)
    }
}

/// The DKIM signing keys' storage.
public protocol DKIMKeyStore: Sendable {
    /// Every key, by domain, oldest first.
    func dkimKeys() throws -> [DKIMKeyRecord]
    /// Adds a key as its domain's active one (the previous stays, inactive); a selector
    /// already used for the domain is a ``StoreError/conflict(_:)``.
    func addDKIMKey(_ key: DKIMKeyRecord, audit: AuditEntry?) throws -> Int64
}

extension SQLiteStore: QueueStore, DKIMKeyStore {}
