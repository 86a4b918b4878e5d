import Foundation

/// Messages kept back from delivery: those the inbound checks quarantined, and those held for
/// a moderated list's moderator. Each is released (delivered through a ``MessageCommit``) or
/// dropped exactly once. ``SQLiteStore`` is one implementation;
/// `Tests/StorageTests/QuarantineStoreContractTests.swift` holds the contract any other must
/// pass. Held copies are added by the message commit (``MessageCommit/held``).
public protocol QuarantineStore: Sendable {
    // MARK: Quarantine

    /// Holds a message: its bytes (inline when given) and the quarantine entry, with its
    /// events, in one transaction. Returns the entry's id.
    func quarantine(_ q: QuarantinedMessage, inlineData: [UInt8]?, events: [DeliveryEvent]) throws -> Int64
    /// Quarantined messages, newest first.
    func quarantinedMessages(limit: Int) throws -> [QuarantinedMessage]
    func quarantinedMessage(id: Int64) throws -> QuarantinedMessage?
    /// Takes a message out of quarantine: delivers `release` (if any) and drops the entry, with
    /// its events and audit entry, in one transaction. False when the entry is gone already: a
    /// second release delivers nothing.
    @discardableResult
    func finishQuarantine(id: Int64, release: [MessageCommit], events: [DeliveryEvent], audit: AuditEntry?) throws
        -> Bool
    /// The entries quarantined before `date`, oldest first (for expiry).
    func quarantinedBefore(_ date: Date) throws -> [QuarantinedMessage]

    // MARK: Moderation

    /// Messages held for moderators, oldest first.
    func heldMessages() throws -> [HeldMessage]
    func heldMessage(id: Int64) throws -> HeldMessage?
    /// Takes a held message out of moderation: delivers `release` (if any) and drops the held
    /// copy, with its events, in one transaction; ``StoreError/notFound(_:)`` when it is gone
    /// already.
    func finishModeration(id: Int64, release: [MessageCommit], events: [DeliveryEvent]) throws
}

extension QuarantineStore {
    /// The newest 1,000 quarantined messages.
    public func quarantinedMessages() throws -> [QuarantinedMessage] { try quarantinedMessages(limit: 1000) }
}

extension SQLiteStore: QuarantineStore {}
