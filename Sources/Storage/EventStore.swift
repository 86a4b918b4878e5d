import Foundation

/// What happened, kept to be read back: the delivery events that tell each message's story,
/// the audit log of admin changes, and each account's login history. ``SQLiteStore`` is one
/// implementation; `Tests/StorageTests/EventStoreContractTests.swift` holds the contract any
/// other must pass. Events of stored, queued or quarantined messages are written by the commit
/// that stores them, not through here.
///
/// An implementation may stage events (keep them where writing is cheap) and file them later,
/// in batches, where they are indexed for the trace: ``fileStagedEvents(limit:)`` does that,
/// and every read here tells staged events as if they were filed.
public protocol EventStore: Sendable {
    // MARK: Delivery events

    /// Records events that belong to no stored message (refused recipients and messages).
    func recordEvents(_ events: [DeliveryEvent]) throws
    /// Files up to `limit` staged events, oldest first, and returns how many it filed: fewer
    /// than `limit` when none are left.
    func fileStagedEvents(limit: Int) throws -> Int
    /// Events matching all of the given filters, oldest first, with every other event of the
    /// same queue ids so that each message's whole story is told; up to `limit` messages and
    /// `limit` refusals (queue id `-`, told alone).
    func traceEvents(
        messageID: String?, sender: String?, recipient: String?, client: String?, account: String?, since: Date?,
        limit: Int
    ) throws -> [DeliveryEvent]
    /// Messages per hour (hours since 1970) since `since`, by what happened to them:
    /// `received`, `delivered` (stored here or accepted by the remote server), `bounced` and
    /// `refused`.
    func eventCountsPerHour(since: Date) throws -> [String: [Int64: Int]]

    // MARK: Audit

    func recordAudit(_ entry: AuditEntry) throws
    /// Audit entries, newest first. `target` matches whole (any case) or as a part; `domains`
    /// limits the result to entries about those domains (none: nothing).
    func auditEntries(since: Date?, target: String?, domains: [String]?, limit: Int) throws -> [AuditEntry]

    // MARK: Logins

    /// Records a successful login: the account's last one for the protocol.
    func recordLoginSuccess(accountID: Int64, _ login: LoginRecord) throws
    /// Records a failed login of an existing account, keeping its most recent ones only.
    func recordLoginFailure(accountID: Int64, _ login: LoginRecord) throws
    /// An account's last successful login per protocol, and its recent failures, newest first.
    func loginHistory(accountID: Int64) throws -> (successes: [LoginRecord], failures: [LoginRecord])
}

extension EventStore {
    /// Events matching all of the given filters (see the full form).
    public func traceEvents(messageID: String?, sender: String?, recipient: String?, since: Date?, limit: Int) throws
        -> [DeliveryEvent]
    {
        try traceEvents(
            messageID: messageID, sender: sender, recipient: recipient, client: nil, account: nil, since: since,
            limit: limit)
    }
}

extension SQLiteStore: EventStore {}
