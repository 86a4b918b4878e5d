import AdminModels
import Delivery
import Directory
import Doctor
import Foundation
import Hummingbird
import IMAPMigration
import LoginKit
import MailCore
import Outbound
import Storage
import Webhooks

/// Builds the admin listener: `/healthz`, `/metrics`, the token-protected `/api/v1/…` and the
/// web console (every other page, signed in with an account).
/// docs/admin-api.md lists every route.
public func buildAdminRouter(
    directory dir: DirectoryService, metrics: AdminMetrics, delivery: LocalDelivery? = nil, outbound: OutboundAdmin? = nil,
    setup: SetupContext? = nil,
    tls: (any TLSAdmin)? = nil, bans: AuthLimiter? = nil, status: (any StatusSource)? = nil,
    maxMessageSize: Int = 50 * 1024 * 1024, console: ConsoleSettings = ConsoleSettings(), webhooks: Webhooks? = nil,
    dryRun: (any DryRunSource)? = nil
) -> Router<AdminContext> {
    let router = Router(context: AdminContext.self)
    // Outermost first: metrics see the response the error middleware made of a thrown error.
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware())

    router.get("healthz") { _, _ -> Response in
        do {
            try await blocking { try dir.store.healthCheck() }
            return try JSONBody.response(Health(status: "ok", store: "ok"))
        } catch {
            return try JSONBody.response(Health(status: "failing", store: "\(error)"), status: 503)
        }
    }
    router.get("metrics") { _, _ -> Response in
        // Off the event loop: a scrape reads the queue and store sizes from the database.
        let text = try await blocking { metrics.render(directory: dir, outbound: outbound) }
        return JSONBody.text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    let contract = APIContract()
    let api = APIGroup(group: router.group("api/v1").add(middleware: AuthMiddleware(directory: dir)), contract: contract)
    addDomainRoutes(api, dir)
    addAccountRoutes(api, dir, bans)
    addAliasRoutes(api, dir)
    addListRoutes(api, dir)
    addAdminRoutes(api, dir, delivery: delivery)
    if let delivery {
        addModerationRoutes(api, delivery)
        addQuarantineRoutes(api, delivery)
        addJunkRoutes(api, dir, delivery)
        addBackupRoutes(api, delivery)
        addSieveRoutes(api, delivery)
        addMailboxFileRoutes(api, delivery, maxMessageSize: maxMessageSize)
    }
    let migrations = delivery.map { IMAPMigrations(delivery: $0, maxMessageSize: maxMessageSize) }
    if let migrations { addMigrationRoutes(api, migrations) }
    if let outbound { addOutboundRoutes(api, outbound) }
    if let outbound, let setup { addSetupRoutes(api, dir, outbound, setup, status: status) }
    if let tls { addTLSRoutes(api, dir, tls) }
    if let bans { addBanRoutes(api, dir, bans) }
    if let status { addStatusRoutes(api, dir, status) }
    addAccountRoleRoutes(api, dir)
    if let webhooks { addWebhookRoutes(api, webhooks) }
    if let dryRun { addDryRunRoutes(api, dir, dryRun) }
    // The contract of the routes above, for clients and API tools; it holds no secret.
    let document = contract.json()
    router.get("api/v1/openapi.json") { _, _ in JSONBody.text(document, contentType: "application/json") }
    Console(
        dir: dir, delivery: delivery, outbound: outbound, setup: setup, status: status, bans: bans, webhooks: webhooks, migrations: migrations,
        tls: tls, dryRun: dryRun, maxMessageSize: maxMessageSize, settings: console)
        .addRoutes(to: router)
    return router
}


/// A path parameter, percent-decoded (addresses arrive as `alice%40example.org`).
func param(_ context: AdminContext, _ name: String) throws -> String {
    guard let raw = context.parameters.get(name) else { throw AdminError.invalid("missing_parameter", "\(name) is missing") }
    return raw.removingPercentEncoding ?? raw
}

func query(_ request: Request, _ name: String) -> String? {
    request.uri.queryParameters[Substring(name)].map { String($0).removingPercentEncoding ?? String($0) }
}

func intQuery(_ request: Request, _ name: String, default value: Int) throws -> Int {
    guard let text = query(request, name) else { return value }
    guard let n = Int(text) else { throw AdminError.invalid("invalid_\(name)", "\(name) must be a whole number") }
    return n
}

/// Runs a directory operation for the authenticated actor, off the async executors.
func run<T: Encodable & Sendable>(
    _ context: AdminContext, status: Int = 200, _ body: @escaping @Sendable (AdminActor) throws -> T
) async throws -> Response {
    let actor = try context.requireActor()
    return try JSONBody.response(try await blocking { try body(actor) }, status: status)
}

/// Runs an async operation (one that delivers mail) for the authenticated actor.
func runAsync<T: Encodable & Sendable>(
    _ context: AdminContext, status: Int = 200, _ body: @escaping @Sendable (AdminActor) async throws -> T
) async throws -> Response {
    let actor = try context.requireActor()
    return try JSONBody.response(try await body(actor), status: status)
}


/// `GET|PUT /api/v1/accounts/ADDRESS/role`: who may use the console's admin pages.
private func addAccountRoleRoutes(_ api: APIGroup, _ dir: DirectoryService) {
    api.on(API.getAccountRole) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try dir.role(address, actor: $0) }
    }
    api.on(API.putAccountRole) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(RoleSet.self, from: req, context: ctx)
        return try await run(ctx) { try dir.setRole(address, role: body.role, domains: body.domains ?? [], actor: $0) }
    }
}

private func addDomainRoutes(_ api: APIGroup, _ dir: DirectoryService) {
    api.on(API.getDomains) { _, ctx in try await run(ctx) { dir.domains(actor: $0) } }
    api.on(API.postDomains) { req, ctx in
        let body = try await JSONBody.decode(DomainCreate.self, from: req, context: ctx)
        return try await run(ctx, status: 201) { try dir.addDomain(body.name, aliasOf: body.aliasOf, catchAll: body.catchAll, actor: $0) }
    }
    api.on(API.getDomain) { _, ctx in
        let name = try param(ctx, "name")
        return try await run(ctx) { try dir.domain(name, actor: $0) }
    }
    api.on(API.patchDomain) { req, ctx in
        let name = try param(ctx, "name")
        let body = try await JSONBody.decode(DomainUpdate.self, from: req, context: ctx)
        return try await run(ctx) { try dir.updateDomain(name, catchAll: body.catchAll, mtaSts: body.mtaSts, actor: $0) }
    }
    api.on(API.deleteDomain) { _, ctx in
        let name = try param(ctx, "name")
        return try await run(ctx) { actor -> Empty in
            try dir.removeDomain(name, actor: actor)
            return Empty()
        }
    }
}

private func addAccountRoutes(_ api: APIGroup, _ dir: DirectoryService, _ bans: AuthLimiter?) {
    api.on(API.getAccounts) { req, ctx in
        let domain = query(req, "domain")
        let page = try intQuery(req, "page", default: 1)
        let limit = try intQuery(req, "limit", default: 100)
        return try await run(ctx) { actor in
            let found = try dir.accounts(domain: domain, page: page, limit: limit, actor: actor)
            return AdminModels.Page(items: found.items, total: found.total, page: page, limit: limit)
        }
    }
    api.on(API.postAccounts) { req, ctx in
        let body = try await JSONBody.decode(AccountCreate.self, from: req, context: ctx)
        return try await run(ctx, status: 201) {
            try dir.addAccount(
                body.address, password: body.password, generatePassword: body.generatePassword ?? false, name: body.name ?? "",
                quota: body.quota, actor: $0)
        }
    }
    api.on(API.postAccountsImport) { req, ctx in
        var req = req
        let partial = query(req, "partial") == "true"
        let buffer = try await req.collectBody(upTo: ctx.maxUploadSize)
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        let actor = try ctx.requireActor()
        let report = try await blocking { try dir.importAccounts(csv: text, partial: partial, actor: actor) }
        // Refused whole: 422 with the same report, so the client can list every bad line.
        return try JSONBody.response(report, status: report.imported == 0 && !report.errors.isEmpty ? 422 : 200)
    }
    // A whole passwd file or Postfix table rides in the JSON body, so these take uploads.
    // Refused for conflicts: 422 with the report, so the client can list every line.
    api.on(API.postImportDovecotPasswd) { req, ctx in
        let body = try await JSONBody.decode(DovecotPasswdImport.self, from: req, context: ctx, limit: ctx.maxUploadSize)
        let actor = try ctx.requireActor()
        let report = try await blocking {
            try dir.importDovecotPasswd(body.text, domain: body.domain, dryRun: body.dryRun ?? false, actor: actor)
        }
        return try JSONBody.response(report, status: report.conflicts.isEmpty ? 200 : 422)
    }
    api.on(API.postImportPostfixVirtual) { req, ctx in
        let body = try await JSONBody.decode(PostfixVirtualImport.self, from: req, context: ctx, limit: ctx.maxUploadSize)
        let actor = try ctx.requireActor()
        let report = try await blocking {
            try dir.importPostfixVirtual(body.text, mailboxMaps: body.mailboxMaps ?? false, dryRun: body.dryRun ?? false, actor: actor)
        }
        return try JSONBody.response(report, status: report.conflicts.isEmpty ? 200 : 422)
    }
    api.on(API.getAccountsExport) { req, ctx in
        let domain = query(req, "domain")
        let actor = try ctx.requireActor()
        let csv = try await blocking { try dir.exportAccounts(domain: domain, actor: actor) }
        return JSONBody.text(csv, contentType: "text/csv; charset=utf-8")
    }
    api.on(API.getAccount) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { actor in
            var view = try dir.account(address, actor: actor)
            // Bans in force on the addresses this account's logins came from.
            let seen = Set(((view.lastLogins ?? []) + (view.loginFailures ?? [])).map(\.ip))
            view.bans = (bans?.bans() ?? []).filter { seen.contains($0.ip) }.map { BanView(ip: $0.ip, until: $0.until, failures: $0.failures) }
            return view
        }
    }
    api.on(API.patchAccount) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(AccountUpdate.self, from: req, context: ctx)
        return try await run(ctx) { try dir.updateAccount(address, name: body.name, quota: body.quota, state: body.state, actor: $0) }
    }
    api.on(API.deleteAccount) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try dir.removeAccount(address, actor: $0) }
    }
    api.on(API.postAccountPassword) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(PasswordSet.self, from: req, context: ctx)
        return try await run(ctx) { actor -> [String: String] in
            let generated = try dir.setPassword(address, password: body.password, generate: body.generate ?? false, actor: actor)
            return generated.map { ["generated_password": $0] } ?? [:]
        }
    }
    api.on(API.postAccountRename) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(AccountRename.self, from: req, context: ctx)
        return try await run(ctx) { try dir.renameAccount(address, to: body.newAddress, keepAlias: body.keepAlias ?? false, actor: $0) }
    }
}

private func addAliasRoutes(_ api: APIGroup, _ dir: DirectoryService) {
    api.on(API.getAliases) { req, ctx in
        let domain = query(req, "domain")
        return try await run(ctx) { try dir.aliases(domain: domain, actor: $0) }
    }
    api.on(API.postAliases) { req, ctx in
        let body = try await JSONBody.decode(AliasCreate.self, from: req, context: ctx)
        return try await run(ctx, status: 201) { try dir.addAlias(body.address, targets: body.targets, actor: $0) }
    }
    api.on(API.getAlias) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try dir.alias(address, actor: $0) }
    }
    api.on(API.deleteAlias) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { actor -> Empty in
            _ = try dir.removeAlias(address, targets: [], actor: actor)
            return Empty()
        }
    }
    api.on(API.postAliasTargetsRemove) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(AliasTargets.self, from: req, context: ctx)
        guard !body.targets.isEmpty else { throw AdminError.invalid("targets_required", "name the targets to remove") }
        return try await run(ctx) { actor -> AliasView? in try dir.removeAlias(address, targets: body.targets, actor: actor) }
    }
}

private func addListRoutes(_ api: APIGroup, _ dir: DirectoryService) {
    api.on(API.getLists) { req, ctx in
        let domain = query(req, "domain")
        return try await run(ctx) { try dir.lists(domain: domain, actor: $0) }
    }
    api.on(API.postLists) { req, ctx in
        let body = try await JSONBody.decode(ListCreate.self, from: req, context: ctx)
        return try await run(ctx, status: 201) {
            try dir.createList(body.address, name: body.name ?? "", description: body.description ?? "", members: body.members ?? [], actor: $0)
        }
    }
    api.on(API.getList) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try dir.list(address, actor: $0) }
    }
    api.on(API.patchList) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(ListUpdate.self, from: req, context: ctx)
        return try await run(ctx) {
            try dir.updateList(
                address, name: body.name, description: body.description, postingPolicy: body.postingPolicy,
                allowedSenders: body.allowedSenders, owners: body.owners, moderators: body.moderators, subjectPrefix: body.subjectPrefix,
                replyTo: body.replyTo, hiddenMembers: body.hiddenMembers, dmarcRewrite: body.dmarcRewrite, actor: $0)
        }
    }
    api.on(API.deleteList) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { actor -> Empty in
            try dir.deleteList(address, actor: actor)
            return Empty()
        }
    }
    api.on(API.postListMembers) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(MembersChange.self, from: req, context: ctx)
        return try await run(ctx) { try dir.addMembers(address, body.members, actor: $0) }
    }
    api.on(API.postListMembersRemove) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(MembersChange.self, from: req, context: ctx)
        return try await run(ctx) { try dir.removeMembers(address, body.members, actor: $0) }
    }
    api.on(API.getListExpand) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try dir.expandList(address, actor: $0) }
    }
}

private func quarantineID(_ ctx: AdminContext) throws -> Int64 {
    guard let id = Int64(try param(ctx, "id")) else {
        throw AdminError.invalid("invalid_id", "quarantined message ids are numbers; see `mailroom quarantine list`")
    }
    return id
}

private func addQuarantineRoutes(_ api: APIGroup, _ delivery: LocalDelivery) {    api.on(API.getQuarantine) { _, ctx in try await run(ctx) { try delivery.quarantined(actor: $0) } }
    api.on(API.getQuarantined) { _, ctx in
        let id = try quarantineID(ctx)
        return try await run(ctx) { try delivery.quarantinedMessage(id: id, actor: $0) }
    }
    api.on(API.postQuarantinedRelease) { _, ctx in
        let id = try quarantineID(ctx)
        return try await runAsync(ctx) { try await delivery.releaseFromQuarantine(id: id, actor: $0) }
    }
    api.on(API.deleteQuarantined) { _, ctx in
        let id = try quarantineID(ctx)
        return try await run(ctx) { try delivery.deleteFromQuarantine(id: id, actor: $0) }
    }
}

private func addModerationRoutes(_ api: APIGroup, _ delivery: LocalDelivery) {
    api.on(API.postStorageSweep) { _, ctx in try await run(ctx) { try delivery.sweepBlobs(actor: $0) } }
    api.on(API.getStorage) { _, ctx in try await run(ctx) { try delivery.storageUsage(actor: $0) } }
    api.on(API.getModeration) { req, ctx in
        let list = query(req, "list")
        return try await run(ctx) { try delivery.heldMessages(list: list, actor: $0) }
    }
    for action in ["approve", "reject"] {
        api.on(action == "approve" ? API.postHeldApprove : API.postHeldReject) { _, ctx in
            guard let id = Int64(try param(ctx, "id")) else {
                throw AdminError.invalid("invalid_id", "held message ids are numbers; see `mailroom moderation list`")
            }
            return try await run(ctx) { try delivery.moderate(id: id, approve: action == "approve", actor: $0) }
        }
    }
}

private func addAdminRoutes(_ api: APIGroup, _ dir: DirectoryService, delivery: LocalDelivery?) {
    api.on(API.getResolve) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try dir.resolveView(address, actor: $0) }
    }
    api.on(API.getTokens) { _, ctx in try await run(ctx) { try dir.tokens(actor: $0) } }
    api.on(API.postTokens) { req, ctx in
        let body = try await JSONBody.decode(TokenCreate.self, from: req, context: ctx)
        return try await run(ctx, status: 201) { try dir.createToken(name: body.name, role: body.role, domains: body.domains ?? [], actor: $0) }
    }
    api.on(API.deleteToken) { _, ctx in
        guard let id = Int64(try param(ctx, "id")) else { throw AdminError.invalid("invalid_id", "token ids are numbers; see `mailroom token list`") }
        return try await run(ctx) { actor -> Empty in
            try dir.revokeToken(id, actor: actor)
            return Empty()
        }
    }
    api.on(API.getTrace) { req, ctx in
        let messageID = query(req, "message_id")
        let sender = query(req, "sender")
        let recipient = query(req, "recipient")
        let client = query(req, "client")
        let account = query(req, "account")
        let since = try query(req, "since").map(parseSince)
        let limit = try intQuery(req, "limit", default: 50)
        return try await run(ctx) { actor in
            // A trace must show refusals still waiting in memory to be written.
            delivery?.flushRefusals()
            return try dir.trace(
                messageID: messageID, sender: sender, recipient: recipient, client: client, account: account, since: since, limit: limit,
                actor: actor)
        }
    }
    api.on(API.getAudit) { req, ctx in
        let since = try query(req, "since").map(parseSince)
        let target = query(req, "target")
        let limit = try intQuery(req, "limit", default: 100)
        return try await run(ctx) { try dir.auditLog(since: since, target: target, limit: limit, actor: $0) }
    }
}

/// `since` as an ISO 8601 time or a duration back from now: `30m`, `2h`, `7d`.
func parseSince(_ text: String) throws -> Date {
    if let d = ISO8601DateFormatter().date(from: text) { return d }
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
    if let unit = text.last, let mult = units[unit], let n = Double(text.dropLast()), n >= 0 {
        return Date().addingTimeInterval(-n * mult)
    }
    throw AdminError.invalid("invalid_since", "since must be a time like 2026-11-29T10:00:00Z or a duration like 30m, 2h, 7d")
}
