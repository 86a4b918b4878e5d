import AdminModels
import Directory
import Foundation
import Hummingbird
import Logging

/// Turns every error into the API's JSON error body, so that clients always get a stable code
/// and a message to act on, and the server never answers with an HTML page or a bare status.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AdminContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as AdminError {
            if e.status >= 500 { context.logger.error("admin request failed", metadata: ["error": "\(e.message)"]) }
            return JSONBody.error(status: e.status, code: e.code, message: e.message)
        } catch let e as any HTTPResponseError {
            let code: String
            let message: String
            switch e.status.code {
            case 404:
                code = "not_found"
                message = "no such API route: \(request.method) \(request.uri.path) — see docs/admin-api.md"
            case 405:
                code = "method_not_allowed"
                message = "\(request.method) is not allowed on \(request.uri.path)"
            case 413:
                code = "body_too_large"
                message = "the request body is too large (JSON bodies up to 1 MiB, CSV imports up to 64 MiB)"
            default:
                code = "http_\(e.status.code)"
                message = (e as? HTTPError)?.body ?? e.status.reasonPhrase
            }
            return JSONBody.error(status: Int(e.status.code), code: code, message: message)
        } catch {
            context.logger.error("admin request failed", metadata: ["error": "\(error)"])
            return JSONBody.error(status: 500, code: "internal", message: "internal error; the server log has details")
        }
    }
}

/// Requires `Authorization: Bearer <token>` and sets the caller on the context.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AdminContext
    let directory: DirectoryService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw AdminError.unauthenticated
        }
        let secret = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let ip = context.remoteAddress?.ipAddress
        let dir = directory
        guard let actor = try await blocking({ dir.actor(bearer: secret, sourceIP: ip) }) else {
            throw AdminError(status: 401, code: "invalid_token", message: "the admin token is unknown or revoked — create one with `mailroom token create`")
        }
        var context = context
        context.actor = actor
        return try await next(request, context)
    }
}

/// Counts requests and their latency per route for `/metrics`.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = AdminContext
    let metrics: AdminMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.record(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: Int(response.status.code),
            duration: ContinuousClock.now - start)
        return response
    }
}
