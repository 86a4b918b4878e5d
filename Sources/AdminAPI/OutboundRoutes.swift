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
    api.on(API.getQueue) { req, ctx in
        let s = try selection(req)
        let limit = try intQuery(req, "limit", default: 1000)
        return try await run(ctx) { try queue.list(s, limit: limit, actor: $0) }
    }
    api.on(API.getQueueSummary) { _, ctx in try await run(ctx) { try queue.summary(actor: $0) } }
    api.on(API.getQueued) { _, ctx in
        let id = try param(ctx, "id")
        return try await run(ctx) { try queue.show(queueID: id, actor: $0) }
    }
    for action in QueueAction.allCases {
        api.on(API.queueAction(action.rawValue)) { _, ctx in
            let id = try param(ctx, "id")
            return try await run(ctx) { try queue.act(action, QueueSelection(queueID: id), actor: $0) }
        }
    }
    // Many at once: ?domain=D, or ?all=true for the whole queue.
    api.on(API.postQueueRetry) { req, ctx in
        var chosen = try selection(req)
        guard chosen.domain != nil || chosen.sender != nil || chosen.recipient != nil || query(req, "all") == "true" else {
            throw AdminError.invalid("selection_required", "say which messages: domain=, sender=, recipient=, or all=true")
        }
        chosen.status = nil
        let s = chosen
        return try await run(ctx) { try queue.act(.retry, s, actor: $0) }
    }
    api.on(API.deleteQueued) { req, ctx in
        let id = try param(ctx, "id")
        let bounce = query(req, "bounce") == "true"
        let actor = try ctx.requireActor()
        return try JSONBody.response(try await queue.delete(queueID: id, bounce: bounce, actor: actor))
    }

    let dkim = outbound.dkim
    api.on(API.getDkim) { _, ctx in try await run(ctx) { try dkim.list(actor: $0) } }
    api.on(API.postDkim) { req, ctx in
        let body = try await JSONBody.decode(DKIMGenerate.self, from: req, context: ctx)
        return try await run(ctx, status: 201) { try dkim.generate(domain: body.domain, algorithm: body.algorithm, selector: body.selector, actor: $0) }
    }
    api.on(API.postDkimRotate) { req, ctx in
        let domain = try param(ctx, "domain")
        let algorithm = query(req, "algorithm")
        return try await run(ctx, status: 201) { try dkim.generate(domain: domain, algorithm: algorithm, actor: $0) }
    }
}
