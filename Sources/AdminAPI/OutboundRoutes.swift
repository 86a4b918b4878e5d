import AdminModels
import Directory
import Foundation
import Hummingbird
import Outbound
import Storage

/// `/api/v1/queue…` and `/api/v1/dkim…`.
func addOutboundRoutes(_ api: APIGroup, _ outbound: OutboundAdmin) {
    let queue = outbound.queue
    @Sendable func selection(_ req: Request) throws -> QueueSelection {
        var s = QueueSelection(domain: query(req, "domain"), sender: query(req, "sender"), recipient: query(req, "recipient"))
        if let status = query(req, "status") {
            guard let st = QueueEntry.Status(rawValue: status) else {
                throw AdminError.invalid("invalid_status", "status must be one of \(QueueEntry.Status.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            s.status = st
        }
        return s
    }
    api.get("queue", "The outbound queue", returns: [QueueEntryView].self, query: [("domain", "string"), ("sender", "string"), ("recipient", "string"), ("status", "string"), ("limit", "integer")]) { req, ctx in
        let s = try selection(req)
        let limit = try intQuery(req, "limit", default: 1000)
        return try await run(ctx) { try queue.list(s, limit: limit, actor: $0) }
    }
    api.get("queue/summary", "Queued recipients by domain and age", returns: QueueSummaryView.self) { _, ctx in try await run(ctx) { try queue.summary(actor: $0) } }
    api.get("queue/:id", "A queued message with its attempts", returns: [QueueEntryView].self) { _, ctx in
        let id = try param(ctx, "id")
        return try await run(ctx) { try queue.show(queueID: id, actor: $0) }
    }
    for action in QueueAction.allCases {
        api.post("queue/:id/\(action.rawValue)", "\(action.rawValue.capitalized) a queued message", returns: QueueActionResult.self) { _, ctx in
            let id = try param(ctx, "id")
            return try await run(ctx) { try queue.act(action, QueueSelection(queueID: id), actor: $0) }
        }
    }
    // Many at once: ?domain=D, or ?all=true for the whole queue.
    api.post("queue/retry", "Retry many queued messages", returns: QueueActionResult.self, query: [("domain", "string"), ("sender", "string"), ("recipient", "string"), ("all", "boolean")]) { req, ctx in
        var chosen = try selection(req)
        guard chosen.domain != nil || chosen.sender != nil || chosen.recipient != nil || query(req, "all") == "true" else {
            throw AdminError.invalid("selection_required", "say which messages: domain=, sender=, recipient=, or all=true")
        }
        chosen.status = nil
        let s = chosen
        return try await run(ctx) { try queue.act(.retry, s, actor: $0) }
    }
    api.delete("queue/:id", "Delete a queued message", returns: QueueActionResult.self, query: [("bounce", "boolean")]) { req, ctx in
        let id = try param(ctx, "id")
        let bounce = query(req, "bounce") == "true"
        let actor = try ctx.requireActor()
        return try JSONBody.response(try await queue.delete(queueID: id, bounce: bounce, actor: actor))
    }

    let dkim = outbound.dkim
    api.get("dkim", "DKIM keys", returns: [DKIMKeyView].self) { _, ctx in try await run(ctx) { try dkim.list(actor: $0) } }
    api.post("dkim", "Generate a DKIM key", body: DKIMGenerate.self, returns: DKIMKeyView.self, status: 201) { req, ctx in
        let body = try await JSONBody.decode(DKIMGenerate.self, from: req, context: ctx)
        return try await run(ctx, status: 201) { try dkim.generate(body, actor: $0) }
    }
    api.post("dkim/:domain/rotate", "A new DKIM key for a domain", returns: DKIMKeyView.self, status: 201, query: [("algorithm", "string")]) { req, ctx in
        let domain = try param(ctx, "domain")
        let algorithm = query(req, "algorithm")
        return try await run(ctx, status: 201) { try dkim.generate(DKIMGenerate(domain: domain, algorithm: algorithm, selector: nil), actor: $0) }
    }
}
