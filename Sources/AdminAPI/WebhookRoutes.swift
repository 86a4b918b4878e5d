import AdminModels
import Directory
import Foundation
import Hummingbird
import Webhooks

/// `/api/v1/webhooks`: add, list, remove, and each hook's delivery log (server admins).
func addWebhookRoutes(_ api: APIGroup, _ webhooks: Webhooks) {
    api.on(API.getWebhooks) { _, ctx in try await run(ctx) { try webhooks.list(actor: $0) } }
    api.on(API.postWebhooks) { req, ctx in
        let body = try await JSONBody.decode(WebhookCreate.self, from: req, context: ctx)
        return try await run(ctx, status: 201) { try webhooks.add(url: body.url, events: body.events, actor: $0) }
    }
    api.on(API.deleteWebhook) { _, ctx in
        let id = try webhookID(ctx)
        return try await run(ctx) { actor -> Empty in
            try webhooks.remove(id, actor: actor)
            return Empty()
        }
    }
    api.on(API.getWebhookLog) { req, ctx in
        let id = try webhookID(ctx)
        let limit = try intQuery(req, "limit", default: 100)
        return try await run(ctx) { try webhooks.log(id, limit: limit, actor: $0) }
    }
}

private func webhookID(_ ctx: AdminContext) throws -> Int64 {
    guard let id = Int64(try param(ctx, "id")) else { throw AdminError.invalid("invalid_id", "webhook ids are numbers; see `mailroom webhook list`") }
    return id
}
