import AdminModels
import Directory
import Hummingbird

/// What the composition root knows of the running server (listeners, uptime, alerts), for
/// `GET /api/v1/status`; it also keeps the last doctor run.
public protocol StatusSource: Sendable {
    func status() -> StatusView
    func doctorRan(_ findings: [DoctorFinding])
}

/// `GET /api/v1/status`, server admins only (`mailroom status`).
func addStatusRoutes(_ api: APIGroup, _ dir: DirectoryService, _ source: any StatusSource) {
    api.on(API.getStatus) { _, ctx in
        try await run(ctx) { actor in
            try dir.requireServerAdmin(actor, "see the server's status")
            return source.status()
        }
    }
}
