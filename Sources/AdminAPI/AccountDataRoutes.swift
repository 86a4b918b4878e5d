import AdminModels
import Delivery
import Directory
import Filtering
import Hummingbird
import IMAPMigration
import MIME
import Storage

/// `GET|DELETE /api/v1/accounts/{address}/junk`: what the account's junk classifier learned,
/// and forgetting it (audited). Whoever manages the account.
func addJunkRoutes(_ api: APIGroup, _ dir: DirectoryService, _ delivery: LocalDelivery) {
    api.on(API.getAccountJunk) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { junkView(try dir.junkSummary(address, actor: $0), delivery) }
    }
    api.on(API.deleteAccountJunk) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { junkView(try dir.resetJunk(address, actor: $0), delivery) }
    }
}

/// What an account's classifier learned, and whether it judges mail yet.
func junkView(_ s: JunkSummary, _ delivery: LocalDelivery) -> JunkView {
    let c = JunkClassifier()
    return JunkView(
        hamMessages: s.hamMessages, spamMessages: s.spamMessages, tokens: s.tokens,
        active: s.hamMessages >= c.minimumHam && s.spamMessages >= c.minimumSpam, minimumHam: c.minimumHam,
        minimumSpam: c.minimumSpam, learning: delivery.junkTrainer.isEnabled)
}

/// `POST /api/v1/backups {"dir"}`: a backup into that folder (on the server's machine), while
/// the server runs. Server admins only.
func addBackupRoutes(_ api: APIGroup, _ delivery: LocalDelivery) {
    api.on(API.postBackups) { req, ctx in
        let body = try await JSONBody.decode(BackupRequest.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.backup(into: body.dir, actor: $0) }
    }
}

/// `POST /api/v1/accounts/{address}/mailbox-import {"path", "folder"?, "mboxVariant"?}` and
/// `…/mailbox-export {"path", "format", "folder"?}`: mbox files and Maildirs at a path on the
/// server's machine. Server admins only. Messages larger than `maxMessageSize` (IMAP's
/// max_append_size) are refused one by one, as APPEND would refuse them.
func addMailboxFileRoutes(_ api: APIGroup, _ delivery: LocalDelivery, maxMessageSize: Int) {
    api.on(API.postAccountMailboxImport) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(MailboxImportRequest.self, from: req, context: ctx)
        guard let variant = Mbox.Variant(rawValue: body.mboxVariant ?? "mboxrd") else {
            throw AdminError.invalid("invalid_variant", "mboxVariant is mboxrd or mboxo")
        }
        return try await run(ctx) {
            try delivery.importMailbox(address, path: body.path, folder: body.folder, mboxVariant: variant, maxMessageSize: maxMessageSize, actor: $0)
        }
    }
    api.on(API.postAccountMailboxExport) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(MailboxExportRequest.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.exportMailbox(address, path: body.path, format: body.format, folder: body.folder, actor: $0) }
    }
}

/// `POST /api/v1/migrations/imap` starts copying accounts' mail from another IMAP server (the
/// server connects to it); `GET /api/v1/migrations/imap/{id}` is the job's progress, then its
/// report. Server admins only.
func addMigrationRoutes(_ api: APIGroup, _ migrations: IMAPMigrations) {
    api.on(API.postMigrationsImap) { req, ctx in
        let body = try await JSONBody.decode(IMAPMigrationRequest.self, from: req, context: ctx)
        return try await run(ctx, status: 201) {
            try migrations.start(
                host: body.host, port: body.port, security: body.security, caFile: body.caFile, insecure: body.insecure ?? false,
                accounts: body.accounts.map { ($0.login, $0.password, $0.address) }, masterUser: body.masterUser,
                masterPassword: body.masterPassword, map: body.map ?? [], exclude: body.exclude ?? [], dryRun: body.dryRun ?? false,
                final: body.final ?? false, parallel: body.parallel ?? 4, timeoutSeconds: body.timeoutSeconds ?? 120, actor: $0)
        }
    }
    api.on(API.getMigrationImap) { req, ctx in
        let id = try param(ctx, "id")
        // ?wait=N: answer when the job ends, or after N seconds (at most 30) at the latest.
        let wait = min(max(try intQuery(req, "wait", default: 0), 0), 30)
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            let view = try await blocking { try migrations.view(id, actor: try ctx.requireActor()) }
            if view.state == "done" || ContinuousClock.now >= deadline { return try JSONBody.response(view) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
