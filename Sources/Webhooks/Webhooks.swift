import Crypto
import Directory
import Foundation
import HTTPClientKit
import Logging
import MailCore
import NIOCore
import NIOHTTP1
import NIOSSL
import Offload
import Storage

/// `[webhooks]`: how failed deliveries are retried.
public struct WebhookSettings: Sendable {
    /// The wait after the first failure; it doubles after each, up to an hour.
    public var retryBase: TimeInterval = 30
    /// Attempts before a delivery is given up (12, with the defaults, is about six hours).
    public var maxAttempts = 12
    public init() {}
}

/// Webhooks: JSON events posted to an administrator's URL, signed with HMAC-SHA256 under a
/// secret per hook, retried with backoff, each attempt kept in the hook's delivery log.
///
/// Events are not raised from the code that delivers mail: the dispatcher reads the tables
/// that record what happened anyway (delivery events, failed logins, the audit log) past a
/// cursor. Mail is never slowed or failed by a webhook, and an event is queued exactly once
/// (the cursor moves in the same transaction).
public final class Webhooks: Sendable {
    let store: any WebhookStore
    let directory: DirectoryService
    let settings: WebhookSettings
    let logger: Logger
    let clock: @Sendable () -> Date
    /// Writes events still held in memory (refused recipients are batched) before a round.
    let flush: @Sendable () -> Void

    public init(
        store: any WebhookStore, directory: DirectoryService, settings: WebhookSettings = WebhookSettings(), logger: Logger = Logger(label: "mailroom.webhooks"),
        clock: @escaping @Sendable () -> Date = { Date() }, flush: @escaping @Sendable () -> Void = {}
    ) {
        self.flush = flush
        self.store = store
        self.directory = directory
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    // MARK: Administration (server admins)

    /// A hook posting `events` (any of `WebhookView.eventNames`) to `url`; its secret is in
    /// the answer only.
    public func add(url: String, events: [String], actor: AdminActor) throws -> WebhookCreated {
        try directory.requireServerAdmin(actor, "manage webhooks")
        let target = try Self.target(url)
        let events = Array(Set(events.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })).sorted()
        guard !events.isEmpty else {
            throw AdminError.invalid("events_required", "name the events: \(WebhookView.eventNames.joined(separator: ", "))")
        }
        if let bad = events.first(where: { !WebhookView.eventNames.contains($0) }) {
            throw AdminError.invalid("invalid_event", "\(bad) is not an event; the events are \(WebhookView.eventNames.joined(separator: ", "))")
        }
        var g = SystemRandomNumberGenerator()
        let secret = "whsec_" + (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &g) }.lowercaseHex
        let now = clock()
        let entry = directory.auditEntry(actor, "webhook.add", target: target.url)
        let id = try store.insertWebhook(url: target.url, events: events, secret: secret, at: now, audit: entry)
        return WebhookCreated(hook: WebhookView(id: id, url: target.url, events: events, createdAt: now), secret: secret)
    }

    public func list(actor: AdminActor) throws -> [WebhookView] {
        try directory.requireServerAdmin(actor, "manage webhooks")
        return try store.webhooks().map { WebhookView(id: $0.id, url: $0.url, events: $0.events, createdAt: $0.createdAt) }
    }

    public func remove(_ id: Int64, actor: AdminActor) throws {
        try directory.requireServerAdmin(actor, "manage webhooks")
        guard let hook = try store.webhooks().first(where: { $0.id == id }) else {
            throw AdminError.notFound("webhook_not_found", "no webhook \(id) — see `mailroom webhook list`")
        }
        try store.deleteWebhook(id: id, audit: directory.auditEntry(actor, "webhook.remove", target: hook.url))
    }

    public func log(_ id: Int64, limit: Int, actor: AdminActor) throws -> [WebhookDeliveryView] {
        try directory.requireServerAdmin(actor, "manage webhooks")
        guard try store.webhooks().contains(where: { $0.id == id }) else {
            throw AdminError.notFound("webhook_not_found", "no webhook \(id) — see `mailroom webhook list`")
        }
        return try store.webhookDeliveries(hookID: id, limit: min(max(limit, 1), 1000)).map {
            WebhookDeliveryView(
                id: $0.id, event: $0.event, status: $0.status, attempts: $0.attempts, createdAt: $0.createdAt,
                nextAttempt: $0.status == "pending" ? $0.nextAttempt : nil, lastStatus: $0.lastStatus, lastError: $0.lastError, payload: $0.payload)
        }
    }

    // MARK: Dispatching

    struct Target {
        let url: String
        let tls: Bool
        let host: String
        let port: Int
        let path: String
    }

    static func target(_ text: String) throws -> Target {
        guard let u = URLComponents(string: text), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = u.host, !host.isEmpty, u.user == nil, u.password == nil, text.utf8.count <= 2000
        else {
            throw AdminError.invalid("invalid_url", "give an http:// or https:// URL without a user name, like https://hooks.example.org/mailroom")
        }
        let path = (u.percentEncodedPath.isEmpty ? "/" : u.percentEncodedPath) + (u.percentEncodedQuery.map { "?" + $0 } ?? "")
        return Target(url: text, tls: scheme == "https", host: host, port: u.port ?? (scheme == "https" ? 443 : 80), path: path)
    }

    /// The header a receiver checks: `t=TIME,sha256=HEX` where HEX is the HMAC-SHA256, under
    /// the hook's secret, of `TIME.BODY`. The time lets a receiver refuse replays.
    public static func signature(secret: String, time: Int, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(time).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(time),sha256=" + mac.lowercaseHex
    }

    /// Turns a row of a source table into events for the hooks that want them.
    func events(_ table: String, _ row: WebhookSourceRow, hooks: [WebhookRecord]) -> [(hookID: Int64, event: String, payload: String)] {
        let c = row.columns
        var event: String?
        var fields: [String: Any] = [:]
        switch table {
        case "delivery_events":
            switch c["event"] {
            case "stored", "delivered": event = "delivered"
            case "bounced": event = "bounced"
            case "deferred": event = "deferred"
            case "rejected": event = "refused"
            case "quarantined": event = "quarantined"
            default: break
            }
            for (k, v) in c where k != "at" && k != "event" { fields[k] = v }
            fields["local"] = c["event"] == "stored"
        case "login_failures":
            event = "auth-failure"
            if let id = c["account_id"].flatMap(Int64.init), let address = try? store.accountAddress(id: id) { fields["account"] = address }
            for k in ["protocol", "ip", "reason"] { fields[k] = c[k] }
        case "audit":
            guard let action = c["action"], action.hasPrefix("account.") else { return [] }
            event = "account-changed"
            fields["account"] = c["target"]
            fields["action"] = action
            fields["actor"] = c["actor"]
            fields["source_ip"] = c["source_ip"]
        default: break
        }
        guard let event else { return [] }
        let at = c["at"].flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } ?? clock()
        fields["event"] = event
        fields["at"] = ISO8601DateFormatter().string(from: at)
        fields["id"] = "\(table == "delivery_events" ? "d" : table == "audit" ? "a" : "l")\(row.id)"
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return [] }
        let payload = String(decoding: data, as: UTF8.self)
        return hooks.filter { $0.events.contains(event) }.map { ($0.id, event, payload) }
    }

    /// One round: queue new events, then send what is due. Returns how many were sent.
    @discardableResult
    public func dispatch() async throws -> Int {
        // The store's work on the blocking pool, off the async executors.
        let (hooks, due) = try await BlockingPool.shared.run { () throws -> ([WebhookRecord], [WebhookDeliveryRecord]) in
            let hooks = try self.store.webhooks()
            guard !hooks.isEmpty else { return ([], []) }
            self.flush()
            try self.store.queueWebhookEvents(limit: 1000, at: self.clock()) { table, row in self.events(table, row, hooks: hooks) }
            try self.store.pruneWebhookDeliveries(before: self.clock().addingTimeInterval(-7 * 86400))
            return (hooks, try self.store.dueWebhookDeliveries(at: self.clock(), limit: 50))
        }
        let byID = Dictionary(uniqueKeysWithValues: hooks.map { ($0.id, $0) })
        await withTaskGroup(of: Void.self) { group in
            for d in due {
                guard let hook = byID[d.hookID] else { continue }
                group.addTask { await self.send(d, hook) }
            }
        }
        return due.count
    }

    static let tlsContext: NIOSSLContext? = try? NIOSSLContext(configuration: .makeClientConfiguration())

    func send(_ d: WebhookDeliveryRecord, _ hook: WebhookRecord) async {
        let body = Array(d.payload.utf8)
        var status: Int?
        var failure: String?
        do {
            let target = try Self.target(hook.url)
            let response = try await HTTPExchange.send(
                host: target.host, port: target.port, tls: target.tls ? Self.tlsContext : nil, method: .POST, path: target.path,
                headers: [
                    ("Content-Type", "application/json"), ("User-Agent", "Mailroom-Webhooks"), ("X-Mailroom-Event", d.event),
                    ("X-Mailroom-Delivery", String(d.id)),
                    ("X-Mailroom-Signature", Self.signature(secret: hook.secret, time: Int(clock().timeIntervalSince1970), body: body)),
                ], body: body, timeout: .seconds(10))
            status = response.status
            if !(200..<300).contains(response.status) { failure = "the receiver answered \(response.status)" }
        } catch {
            failure = "\(error)"
        }
        let now = clock()
        let attempts = d.attempts + 1
        let outcome: String
        var retryAt: Date?
        if failure == nil {
            outcome = "delivered"
        } else if attempts >= settings.maxAttempts {
            outcome = "failed"
            logger.warning("webhook delivery given up", metadata: ["url": "\(hook.url)", "event": "\(d.event)", "error": "\(failure ?? "")"])
        } else {
            outcome = "pending"
            retryAt = now.addingTimeInterval(min(3600, settings.retryBase * pow(2, Double(attempts - 1))))
        }
        let (store, httpStatus, error, retry) = (self.store, status, failure, retryAt)
        _ = try? await BlockingPool.shared.run {
            try store.recordWebhookAttempt(id: d.id, status: outcome, httpStatus: httpStatus, error: error, retryAt: retry, at: now)
        }
    }
}
