import Foundation

/// The webhooks' storage: the hooks, the events queued for them, and the cursors over the
/// tables events come from. ``SQLiteStore`` is one implementation;
/// `Tests/StorageTests/WebhookStoreContractTests.swift` holds the contract any other must pass.
public protocol WebhookStore: Sendable {
    /// Adds a hook; the first hook starts reading events from now (history is not replayed).
    func insertWebhook(url: String, events: [String], secret: String, at: Date, audit: AuditEntry) throws -> Int64
    /// Every hook, oldest first.
    func webhooks() throws -> [WebhookRecord]
    /// Removes a hook (``StoreError/notFound(_:)`` if there is none); without hooks the
    /// cursors go.
    func deleteWebhook(id: Int64, audit: AuditEntry) throws
    /// Reads up to `limit` rows of each source past its cursor, queues what `events` makes of
    /// them, and moves the cursors, all or nothing: an event is queued once. Returns how many
    /// were queued.
    @discardableResult
    func queueWebhookEvents(
        limit: Int, at now: Date, _ events: (String, WebhookSourceRow) -> [(hookID: Int64, event: String, payload: String)]
    ) throws -> Int
    /// Pending deliveries due at `now`, the longest due first.
    func dueWebhookDeliveries(at now: Date, limit: Int) throws -> [WebhookDeliveryRecord]
    /// Records an attempt: `delivered`, `failed` for good, or `pending` again at `retryAt`.
    func recordWebhookAttempt(id: Int64, status: String, httpStatus: Int?, error: String?, retryAt: Date?, at now: Date) throws
    /// A hook's deliveries, newest first.
    func webhookDeliveries(hookID: Int64, limit: Int) throws -> [WebhookDeliveryRecord]
    /// Forgets finished deliveries older than `before`; returns how many.
    @discardableResult
    func pruneWebhookDeliveries(before: Date) throws -> Int
    /// The address of the account with this id, for events that name it.
    func accountAddress(id: Int64) throws -> String?
}

extension SQLiteStore: WebhookStore {}
