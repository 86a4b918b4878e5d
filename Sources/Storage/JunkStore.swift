import Foundation

/// What each account's junk classifier has learned: message totals and token counts per class,
/// and how each message (known by its blob hash) was trained. ``SQLiteStore`` is one
/// implementation; `Tests/StorageTests/JunkStoreContractTests.swift` holds the contract any
/// other must pass. Accounts are separate: one account's training never shows in another's.
public protocol JunkStore: Sendable {
    /// Trains one message as ham or spam for an account: adds its tokens (each once) to that
    /// class, and takes them off the other class if the message had been trained as that, all
    /// in one transaction. A message trained as the same class again changes nothing. Counts
    /// never go below zero.
    @discardableResult
    func trainJunk(accountID: Int64, blobHash: String, tokens: [String], as junkClass: JunkClass) throws
        -> JunkTrainingOutcome
    /// Undoes a message's training, whichever class it was; false when it was not trained.
    @discardableResult
    func untrainJunk(accountID: Int64, blobHash: String, tokens: [String]) throws -> Bool
    /// How a message was trained for an account, if at all.
    func junkTraining(accountID: Int64, blobHash: String) throws -> JunkClass?
    /// The account's totals when they are known without waiting for the database (as last read
    /// or written through this store, never older than the database), else nil: then ask
    /// ``junkCounts(accountID:tokens:)``. Never blocks, so async code may ask it directly.
    func knownJunkTotals(accountID: Int64) -> JunkTotals?
    /// The account's totals and the counts of those of `tokens` it has seen.
    func junkCounts(accountID: Int64, tokens: [String]) throws -> JunkCountsSnapshot
    /// The account's totals and how many distinct tokens it has counts for.
    func junkSummary(accountID: Int64) throws -> JunkSummary
    /// Forgets everything an account's classifier learned (it starts untrained).
    func resetJunk(accountID: Int64, audit: AuditEntry) throws
}

extension SQLiteStore: JunkStore {}
