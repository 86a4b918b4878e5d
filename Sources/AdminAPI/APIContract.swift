import AdminModels
import Foundation
import Hummingbird
import Synchronization

/// One route of `/api/v1` as the OpenAPI document describes it: an ``Endpoint`` without its
/// answer's type as a generic parameter.
struct APIOperation: Sendable {
    let method: String
    /// As registered: `accounts/:address`.
    let path: String
    let summary: String
    let body: (any Decodable.Type)?
    /// Bodies that are not JSON (CSV imports).
    let bodyMediaType: String
    let returns: any Decodable.Type
    let returnsMediaType: String
    let status: Int
    let also: [Int: any Decodable.Type]
    let query: [(String, String)]
    let nullable: Bool

    init<R>(_ e: Endpoint<R>) {
        method = e.method.rawValue
        path = e.path
        summary = e.summary
        body = e.body
        bodyMediaType = e.bodyMediaType
        returns = R.self
        returnsMediaType = e.returnsMediaType
        status = e.status
        also = e.also.mapValues { $0 }
        query = e.query.map { ($0.name, $0.type) }
        nullable = e.nullable
    }
}

/// The routes of `/api/v1` as they are registered, and the OpenAPI 3.1 document made of them:
/// a route is in the document because registering it put it there.
final class APIContract: Sendable {
    private let operations = Mutex<[APIOperation]>([])

    func add(_ op: APIOperation) { operations.withLock { $0.append(op) } }

    var all: [APIOperation] { operations.withLock { $0 } }

    /// `GET /api/v1/openapi.json`.
    func document() -> [String: Any] {
        var components: [String: Any] = [:]
        let error = JSONSchema.of(ErrorBody.self, components: &components)
        var paths: [String: [String: Any]] = [:]
        for op in all {
            let segments = op.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            let path = "/api/v1/" + segments.joined(separator: "/")
            var parameters: [[String: Any]] = op.path.split(separator: "/").filter { $0.hasPrefix(":") }.map {
                ["name": String($0.dropFirst()), "in": "path", "required": true, "schema": ["type": "string"]]
            }
            parameters += op.query.map { ["name": $0.0, "in": "query", "required": false, "schema": ["type": $0.1]] }
            func content(_ type: (any Decodable.Type)?, _ mediaType: String, nullable: Bool = false) -> [String: Any] {
                guard let type else { return [mediaType: ["schema": ["type": "string"]]] }
                var schema = JSONSchema.of(type, components: &components)
                if nullable { schema = ["oneOf": [schema, ["type": "null"]]] }
                return [mediaType: ["schema": schema]]
            }
            var responses: [String: Any] = [
                String(op.status): ["description": "done", "content": content(op.returnsMediaType == "application/json" ? op.returns : nil, op.returnsMediaType, nullable: op.nullable)],
                "default": ["description": "refused: the error's code and a message saying what to do", "content": ["application/json": ["schema": error]]],
            ]
            for (status, type) in op.also { responses[String(status)] = ["description": "refused, with details", "content": content(type, "application/json")] }
            var operation: [String: Any] = [
                "operationId": op.method.lowercased() + "_" + op.path.replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "-", with: "_"),
                "summary": op.summary, "responses": responses,
            ]
            if !parameters.isEmpty { operation["parameters"] = parameters }
            if let body = op.body {
                operation["requestBody"] = ["required": true, "content": content(body, op.bodyMediaType)]
            } else if op.bodyMediaType != "application/json" {
                operation["requestBody"] = ["required": true, "content": [op.bodyMediaType: ["schema": ["type": "string"]]]]
            }
            paths[path, default: [:]][op.method.lowercased()] = operation
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Mailroom admin API", "version": "1",
                "description": "Everything the mailroom CLI does; see docs/admin-api.md. Authenticate with a bearer token (mailroom token create).",
            ],
            "servers": [["url": "/"]],
            "security": [["token": []]],
            "paths": paths,
            "components": ["schemas": components, "securitySchemes": ["token": ["type": "http", "scheme": "bearer"]]],
        ]
    }

    func json() -> String {
        let data = (try? JSONSerialization.data(withJSONObject: document(), options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The `/api/v1` group: each route is registered by its ``Endpoint``, which goes into the
/// OpenAPI document; the CLI calls the same endpoints.
struct APIGroup {
    let group: RouterGroup<AdminContext>
    let contract: APIContract

    typealias Handler = @Sendable (Request, AdminContext) async throws -> Response

    func on<R>(_ endpoint: Endpoint<R>, _ handler: @escaping Handler) {
        contract.add(APIOperation(endpoint))
        let method: HTTPRequest.Method =
            switch endpoint.method {
            case .get: .get
            case .post: .post
            case .put: .put
            case .patch: .patch
            case .delete: .delete
            }
        group.on(RouterPath(endpoint.path), method: method, use: handler)
    }
}
