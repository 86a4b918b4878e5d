import AdminModels
import Foundation
import Hummingbird
import Synchronization

/// One route of `/api/v1` as the OpenAPI document describes it.
struct APIOperation: Sendable {
    let method: String
    /// As registered: `accounts/:address`.
    let path: String
    let summary: String
    let body: (any Decodable.Type)?
    /// Bodies that are not JSON (CSV imports).
    let bodyMediaType: String
    let returns: (any Decodable.Type)?
    let returnsMediaType: String
    let status: Int
    /// Other statuses that carry a body of their own type (a 422 with the import report).
    let also: [Int: any Decodable.Type]
    /// Query parameters: name and JSON type (`string`, `integer`, `boolean`).
    let query: [(String, String)]
    let nullable: Bool
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
                String(op.status): ["description": "done", "content": content(op.returns, op.returnsMediaType, nullable: op.nullable)],
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

/// The `/api/v1` group: each route is registered with what it takes and returns, which goes
/// into the OpenAPI document.
struct APIGroup {
    let group: RouterGroup<AdminContext>
    let contract: APIContract

    typealias Handler = @Sendable (Request, AdminContext) async throws -> Response

    private func add(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, body: (any Decodable.Type)?, bodyMediaType: String,
        returns: (any Decodable.Type)?, returnsMediaType: String, status: Int, also: [Int: any Decodable.Type], query: [(String, String)],
        nullable: Bool, _ handler: @escaping Handler
    ) {
        contract.add(
            APIOperation(
                method: method.rawValue, path: path, summary: summary, body: body, bodyMediaType: bodyMediaType, returns: returns,
                returnsMediaType: returnsMediaType, status: status, also: also, query: query, nullable: nullable))
        group.on(RouterPath(path), method: method, use: handler)
    }

    func get(
        _ path: String, _ summary: String, returns: (any Decodable.Type)?, returnsMediaType: String = "application/json", query: [(String, String)] = [],
        _ handler: @escaping Handler
    ) {
        add(.get, path, summary, body: nil, bodyMediaType: "application/json", returns: returns, returnsMediaType: returnsMediaType, status: 200, also: [:], query: query, nullable: false, handler)
    }

    func post(
        _ path: String, _ summary: String, body: (any Decodable.Type)? = nil, bodyMediaType: String = "application/json", returns: (any Decodable.Type)?,
        status: Int = 200, also: [Int: any Decodable.Type] = [:], query: [(String, String)] = [], nullable: Bool = false, _ handler: @escaping Handler
    ) {
        add(.post, path, summary, body: body, bodyMediaType: bodyMediaType, returns: returns, returnsMediaType: "application/json", status: status, also: also, query: query, nullable: nullable, handler)
    }

    func put(_ path: String, _ summary: String, body: any Decodable.Type, returns: any Decodable.Type, _ handler: @escaping Handler) {
        add(.put, path, summary, body: body, bodyMediaType: "application/json", returns: returns, returnsMediaType: "application/json", status: 200, also: [:], query: [], nullable: false, handler)
    }

    func patch(_ path: String, _ summary: String, body: any Decodable.Type, returns: any Decodable.Type, _ handler: @escaping Handler) {
        add(.patch, path, summary, body: body, bodyMediaType: "application/json", returns: returns, returnsMediaType: "application/json", status: 200, also: [:], query: [], nullable: false, handler)
    }

    func delete(_ path: String, _ summary: String, returns: any Decodable.Type, query: [(String, String)] = [], _ handler: @escaping Handler) {
        add(.delete, path, summary, body: nil, bodyMediaType: "application/json", returns: returns, returnsMediaType: "application/json", status: 200, also: [:], query: query, nullable: false, handler)
    }
}
