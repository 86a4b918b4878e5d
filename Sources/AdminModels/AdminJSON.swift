import Foundation

/// The JSON conventions of the admin API: Mailroom's own (snake_case keys, ISO 8601 dates,
/// sorted keys), defined once in MailCore.
public typealias AdminJSON = JSONConventions

/// A request body type whose JSON fields are checked: a misspelt field is an error rather than
/// silently ignored. The fields are its properties, read from the type (no list to keep).
public protocol StrictRequest: Codable, Sendable {}

extension StrictRequest {
    /// The keys a body may have, read from the type itself (see ``JSONSchema/keys(_:)``).
    public static var fields: Set<String> { JSONSchema.keys(Self.self) }
}

/// The body of every error response: `{"error": {"code": "...", "message": "..."}}`.
public struct ErrorBody: Codable, Sendable, Hashable {
    public struct Detail: Codable, Sendable, Hashable {
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }
    public var error: Detail
    public init(code: String, message: String) { self.error = Detail(code: code, message: message) }
}

public struct Page<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    public var total: Int
    public var page: Int
    public var limit: Int
    public init(items: [Item], total: Int, page: Int, limit: Int) {
        self.items = items
        self.total = total
        self.page = page
        self.limit = limit
    }
}

public struct Health: Codable, Sendable {
    public var status: String
    public var store: String
    public init(status: String, store: String) {
        self.status = status
        self.store = store
    }
}
