import AdminModels
import Directory
import Hummingbird
import LoginKit
import Storage

/// `/api/v1/bans`: the client addresses banned after failed logins (SMTP and IMAP share them),
/// and lifting them. Server admins only; lifting is audited.
func addBanRoutes(_ api: APIGroup, _ dir: DirectoryService, _ limiter: AuthLimiter) {
    api.get("bans") { _, ctx in
        try await run(ctx) { actor in
            try dir.requireServerAdmin(actor, "see the bans")
            return limiter.bans().map { BanView(ip: $0.ip, until: $0.until, failures: $0.failures) }
        }
    }
    api.delete("bans") { _, ctx in
        try await run(ctx) { actor in try lift(nil, actor) }
    }
    api.delete("bans/:ip") { _, ctx in
        let ip = try param(ctx, "ip")
        return try await run(ctx) { actor in try lift(ip, actor) }
    }

    @Sendable func lift(_ ip: String?, _ actor: AdminActor) throws -> BansLifted {
        try dir.requireServerAdmin(actor, "lift bans")
        let lifted = limiter.clear(ip)
        try dir.store.write([], audit: [dir.auditEntry(actor, "ban.clear", target: ip.map { "ban on \($0)" } ?? "every ban")])
        return BansLifted(lifted: lifted)
    }
}
