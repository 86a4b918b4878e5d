import AdminModels
import Directory
import Hummingbird

/// The TLS certificates as the composition root knows them (it owns the listeners and ACME).
public protocol TLSAdmin: Sendable {
    func status() -> TLSStatusView
    /// Obtains a new ACME certificate now, whatever its expiry; throws an ``AdminError`` when
    /// there is no ACME or the CA refuses.
    func renew() async throws -> TLSStatusView
}

/// `/api/v1/tls` (status) and `/api/v1/tls/renew`, server admins only.
func addTLSRoutes(_ api: APIGroup, _ dir: DirectoryService, _ tls: any TLSAdmin) {
    api.on(API.getTls) { _, ctx in
        try await run(ctx) { actor in
            try dir.requireServerAdmin(actor, "see the TLS certificates")
            return tls.status()
        }
    }
    api.on(API.postTlsRenew) { _, ctx in
        try await runAsync(ctx) { actor in
            try dir.requireServerAdmin(actor, "renew the TLS certificate")
            return try await tls.renew()
        }
    }
}
