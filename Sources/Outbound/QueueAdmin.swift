import Delivery
import Directory
import Foundation
import MailCore
import Offload
import Storage

/// The outbound queue as administrators see and act on it. A server admin sees everything; a
/// domain admin sees mail sent from the domains it manages.
public struct QueueAdmin: Sendable {
    let store: any QueueStore
    let directory: DirectoryService
    let delivery: LocalDelivery
    let hostname: String

    public init(store: any QueueStore, directory: DirectoryService, delivery: LocalDelivery, hostname: String) {
        self.store = store
        self.directory = directory
        self.delivery = delivery
        self.hostname = hostname
    }

    func visible(_ entries: [QueueEntry], to actor: AdminActor) -> [QueueEntry] {
        guard !actor.isServerAdmin else { return entries }
        let snap = directory.snapshot
        return entries.filter { e in
            guard let d = try? DomainName(QueueEntry.domain(of: e.sender)) else { return false }
            return directory.may(actor, manageDomain: d, in: snap)
        }
    }

    static func view(_ e: QueueEntry, history: [QueueAttempt]? = nil) -> QueueEntryView {
        QueueEntryView(
            queueId: e.queueID, messageId: e.messageID, sender: e.sender, recipient: e.recipient, domain: e.domain, status: e.status.rawValue,
            size: e.size, createdAt: e.createdAt, nextAttempt: e.nextAttempt, attempts: e.attempts, lastReply: e.lastReply,
            lastAttempt: e.lastAttempt, history: history)
    }

    /// Entries by status, over the whole queue (for metrics, not per actor).
    public func counts() throws -> [QueueEntry.Status: Int] {
        try store.queueCounts()
    }

    public func list(_ selection: QueueSelection, limit: Int, actor: AdminActor) throws -> [QueueEntryView] {
        visible(try store.queueEntries(selection, limit: limit), to: actor).map { Self.view($0) }
    }

    /// Every recipient of one message still queued, with each attempt.
    public func show(queueID: String, actor: AdminActor) throws -> [QueueEntryView] {
        let entries = visible(try store.queueEntries(QueueSelection(queueID: queueID)), to: actor)
        guard !entries.isEmpty else { throw Self.notQueued(queueID) }
        let attempts = try store.queueAttempts(rowIDs: entries.map(\.id))
        return entries.map { Self.view($0, history: attempts[$0.id] ?? []) }
    }

    public func act(_ action: QueueAction, _ selection: QueueSelection, actor: AdminActor) throws -> QueueActionResult {
        var selection = selection
        if !actor.isServerAdmin {
            selection.ids = visible(try store.queueEntries(selection, limit: 1_000_000), to: actor).map(\.id)
        }
        if selection.ids?.isEmpty == true { return QueueActionResult(action: action.rawValue, recipients: 0, queueIds: []) }
        let at = DirectoryService.now()
        let changed = try store.updateQueue(selection, action: action, now: at) { e in
            DeliveryEvent(
                at: at, queueID: e.queueID, messageID: e.messageID, event: .admin, sender: e.sender, recipient: e.recipient, clientIP: nil,
                helo: nil, tls: nil, authUser: actor.name, detail: "\(action.rawValue) by \(actor.name)", reply: nil)
        }
        if changed.isEmpty, let id = selection.queueID, try store.queueEntries(QueueSelection(queueID: id), limit: 1).isEmpty {
            throw Self.notQueued(id)
        }
        return QueueActionResult(action: action.rawValue, recipients: changed.count, queueIds: Self.ids(changed))
    }

    /// Removes a message's queued recipients; with `bounce`, the sender gets a DSN saying so.
    /// Async: the store's work runs on the blocking pool.
    public func delete(queueID: String, bounce: Bool, actor: AdminActor) async throws -> QueueActionResult {
        let (store, delivery) = (self.store, self.delivery)
        let entries = try await BlockingPool.shared.run { () throws -> [QueueEntry] in
            let entries = visible(try store.queueEntries(QueueSelection(queueID: queueID)), to: actor).filter { $0.status != .active }
            guard !entries.isEmpty else {
                if try !store.queueEntries(QueueSelection(queueID: queueID), limit: 1).isEmpty {
                    throw AdminError.conflict("delivery_in_progress", "message \(queueID) is being delivered right now; try again in a minute")
                }
                throw Self.notQueued(queueID)
            }
            return entries
        }
        let at = DirectoryService.now()
        let events = entries.map { e in
            DeliveryEvent(
                at: at, queueID: e.queueID, messageID: e.messageID, event: .admin, sender: e.sender, recipient: e.recipient, clientIP: nil,
                helo: nil, tls: nil, authUser: actor.name, detail: "deleted from the queue by \(actor.name)\(bounce ? ", sender notified" : "")",
                reply: nil)
        }
        guard bounce, let first = entries.first, !first.sender.isEmpty else {
            let removed = try await BlockingPool.shared.run { try store.deleteQueueEntries(entries, events: events, messages: []) }
            return QueueActionResult(action: "delete", recipients: removed.count, queueIds: Self.ids(removed))
        }
        let original = (try? await BlockingPool.shared.run { try delivery.readBlob(first.blobHash) }) ?? []
        let notice = DeliveryStatusNotice(
            reportingMTA: hostname, originalSender: first.sender, queueID: queueID, arrival: first.createdAt,
            recipients: entries.map {
                .init(
                    address: $0.recipient, action: "failed", status: "5.0.0",
                    diagnostic: "deleted from the queue by the mail administrator" + ($0.lastReply.map { "; last reply: \($0)" } ?? ""),
                    remoteMTA: nil, lastAttempt: $0.lastAttempt)
            },
            original: original, now: at)
        let prepared = try await notice.prepare(delivery: delivery, messageID: first.messageID, authUser: actor.name, what: "bounce")
        let removed = try await BlockingPool.shared.run {
            try store.deleteQueueEntries(entries, events: events + prepared.events, messages: prepared.commits)
        }
        if !removed.isEmpty { delivery.stored(prepared) }
        return QueueActionResult(action: "delete", recipients: removed.count, queueIds: Self.ids(removed), bounced: removed.isEmpty ? 0 : 1)
    }

    /// Age buckets of `summary`, in minutes (as Postfix's qshape).
    static let bucketMinutes = [5, 10, 20, 40, 80, 160, 320, 640, 1280]

    /// The queue by domain and age (at `now`: tests give the time, so that a slow run cannot move a
    /// message into an older bucket).
    public func summary(actor: AdminActor, now: Date = DirectoryService.now()) throws -> QueueSummaryView {
        let entries = visible(try store.queueEntries(QueueSelection(), limit: 10_000_000), to: actor)
        var rows: [String: [Int]] = [:]
        var byStatus: [String: Int] = [:]
        let n = Self.bucketMinutes.count + 1
        for e in entries {
            let minutes = now.timeIntervalSince(e.createdAt) / 60
            let bucket = Self.bucketMinutes.firstIndex { minutes < Double($0) } ?? Self.bucketMinutes.count
            rows[e.domain, default: Array(repeating: 0, count: n)][bucket] += 1
            byStatus[e.status.rawValue, default: 0] += 1
        }
        let sorted = rows.map { QueueSummaryView.Row(domain: $0.key, total: $0.value.reduce(0, +), counts: $0.value) }
            .sorted { ($0.total, $1.domain) > ($1.total, $0.domain) }
        return QueueSummaryView(buckets: Self.bucketMinutes.map { "\($0)m" } + ["more"], rows: sorted, byStatus: byStatus)
    }

    static func ids(_ entries: [QueueEntry]) -> [String] {
        var seen: Set<String> = []
        return entries.map(\.queueID).filter { seen.insert($0).inserted }
    }

    static func notQueued(_ id: String) -> AdminError {
        .notFound("not_queued", "no message \(id) is on the outbound queue — see `mailroom queue list`, or `mailroom trace` for where it went")
    }
}
