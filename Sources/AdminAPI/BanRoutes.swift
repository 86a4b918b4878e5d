import AdminModels
import Directory
import Hummingbird
import LoginKit
import Storage

/// `/api/v1/bans`: the client addresses banned after failed logins (SMTP and IMAP share them),
/// and lifting them. Server admins only; lifting is audited.
func addBanRoutes(_ api: APIGroup, _ dir: DirectoryService, _ limiter: AuthLimiter) {
    api.on(API.getBans) { _, ctx in
        try await run(ctx) { actor in
            try dir.requireServerAdmin(actor, "see the bans")
            return limiter.bans().map { BanView(ip: $0.ip, until: $0.until, failures: $0.failures) }
        }
    }
    api.on(API.deleteBans) { _, ctx in
        try await run(ctx) { actor in try liftBans(nil, dir, limiter, actor) }
    }
    api.on(API.deleteBan) { _, ctx in
        let ip = try param(ctx, "ip")
        return try await run(ctx) { actor in try liftBans(ip, dir, limiter, actor) }
    }
}

/// Lifts the ban on `ip` (nil: every ban), audited; the API and the console both call it.
func liftBans(_ ip: String?, _ dir: DirectoryService, _ limiter: AuthLimiter, _ actor: AdminActor) throws -> BansLifted {
    try dir.requireServerAdmin(actor, "lift bans")
    let lifted = limiter.clear(ip)
    try dir.store.write([], audit: [dir.auditEntry(actor, "ban.clear", target: ip.map { "ban on \($0)" } ?? "every ban")])
    return BansLifted(lifted: lifted)
}
