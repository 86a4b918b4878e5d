import Foundation
import Testing

@testable import Storage
import TestSupport

/// What any ``WebhookStore`` must do, run through the protocol against each implementation:
/// SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct WebhookStoreContractTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func audit(_ action: String) -> AuditEntry {
        AuditEntry(at: t0, actor: "admin", action: action, target: "https://hooks.test/x", domain: nil, before: nil, after: nil, sourceIP: nil)
    }

    /// Queues one delivery per audit row, its action as the payload.
    static func auditActions(_ hook: Int64) -> (String, WebhookSourceRow) -> [(hookID: Int64, event: String, payload: String)] {
        { table, row in table == "audit" ? [(hook, "audit", row.columns["action"] ?? "")] : [] }
    }

    @Test(arguments: StoreKind.allCases)
    func eventsAreQueuedOnceThenRetriedDeliveredAndPruned(_ kind: StoreKind) throws {
        let hooks: any WebhookStore = try kind.make()
        let t0 = Self.t0
        let id = try hooks.insertWebhook(url: "https://hooks.test/x", events: ["audit"], secret: "s", at: t0, audit: Self.audit("webhook.add"))
        #expect(try hooks.webhooks().map(\.url) == ["https://hooks.test/x"])
        #expect(try hooks.webhooks().first?.events == ["audit"])
        // The hook's own audit row comes after its cursor: queued once, not twice.
        #expect(try hooks.queueWebhookEvents(limit: 10, at: t0, Self.auditActions(id)) == 1)
        #expect(try hooks.queueWebhookEvents(limit: 10, at: t0, Self.auditActions(id)) == 0)
        let due = try hooks.dueWebhookDeliveries(at: t0, limit: 10)
        #expect(due.map(\.payload) == ["webhook.add"] && due[0].hookID == id && due[0].status == "pending")
        // A failed attempt waits for its retry time.
        try hooks.recordWebhookAttempt(id: due[0].id, status: "pending", httpStatus: 500, error: "busy", retryAt: t0 + 60, at: t0)
        #expect(try hooks.dueWebhookDeliveries(at: t0 + 59, limit: 10).isEmpty)
        let again = try hooks.dueWebhookDeliveries(at: t0 + 60, limit: 10)
        #expect(again.map(\.attempts) == [1] && again[0].lastStatus == 500 && again[0].lastError == "busy")
        try hooks.recordWebhookAttempt(id: due[0].id, status: "delivered", httpStatus: 200, error: nil, retryAt: nil, at: t0 + 61)
        #expect(try hooks.dueWebhookDeliveries(at: t0 + 3600, limit: 10).isEmpty)
        let done = try hooks.webhookDeliveries(hookID: id, limit: 10)
        #expect(done.map(\.status) == ["delivered"] && done[0].attempts == 2 && done[0].finishedAt == t0 + 61)
        // Only finished deliveries older than the limit go.
        #expect(try hooks.pruneWebhookDeliveries(before: t0 + 61) == 0)
        #expect(try hooks.pruneWebhookDeliveries(before: t0 + 62) == 1)
        #expect(try hooks.webhookDeliveries(hookID: id, limit: 10).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func aHookAddedLaterDoesNotReplayHistory(_ kind: StoreKind) throws {
        let hooks: any WebhookStore = try kind.make()
        let first = try hooks.insertWebhook(url: "https://hooks.test/x", events: [], secret: "s", at: Self.t0, audit: Self.audit("webhook.add"))
        try hooks.deleteWebhook(id: first, audit: Self.audit("webhook.delete"))
        #expect(try hooks.webhooks().isEmpty)
        #expect(throws: StoreError.self) { try hooks.deleteWebhook(id: first, audit: Self.audit("webhook.delete")) }
        // Both audit rows above are history to a new hook; only its own add is new.
        let second = try hooks.insertWebhook(url: "https://hooks.test/y", events: [], secret: "s", at: Self.t0, audit: Self.audit("webhook.add"))
        #expect(try hooks.queueWebhookEvents(limit: 10, at: Self.t0, Self.auditActions(second)) == 1)
        #expect(try hooks.webhookDeliveries(hookID: second, limit: 10).map(\.payload) == ["webhook.add"])
        #expect(try hooks.accountAddress(id: 12345) == nil)
    }
}
