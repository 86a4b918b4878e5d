import Foundation

// What the webhook admin operations return: plain values, written once here, that the admin
// API sends as JSON as they are (AdminModels re-exports MailCore) and the CLI and the console
// read.

/// A webhook, without its secret.
public struct WebhookView: Codable, Sendable, Hashable {
    /// Every event a hook can ask for.
    public static let eventNames = [
        "delivered", "bounced", "deferred", "refused", "quarantined", "auth-failure", "account-changed",
    ]
    public var id: Int64
    public var url: String
    public var events: [String]
    public var createdAt: Date
    public init(id: Int64, url: String, events: [String], createdAt: Date) {
        self.id = id
        self.url = url
        self.events = events
        self.createdAt = createdAt
    }
}

/// A new webhook with the secret that signs its requests, shown once.
public struct WebhookCreated: Codable, Sendable {
    public var hook: WebhookView
    public var secret: String
    public init(hook: WebhookView, secret: String) {
        self.hook = hook
        self.secret = secret
    }
}

/// One event sent (or being sent) to a hook.
public struct WebhookDeliveryView: Codable, Sendable, Hashable {
    public var id: Int64
    public var event: String
    /// `pending`, `delivered` or `failed` (given up).
    public var status: String
    public var attempts: Int
    public var createdAt: Date
    public var nextAttempt: Date?
    /// The receiver's HTTP status of the last attempt.
    public var lastStatus: Int?
    public var lastError: String?
    public var payload: String
    public init(
        id: Int64, event: String, status: String, attempts: Int, createdAt: Date, nextAttempt: Date?, lastStatus: Int?,
        lastError: String?,
        payload: String
    ) {
        self.id = id
        self.event = event
        self.status = status
        self.attempts = attempts
        self.createdAt = createdAt
        self.nextAttempt = nextAttempt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.payload = payload
    }
}
