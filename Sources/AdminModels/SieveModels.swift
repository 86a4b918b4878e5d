import Foundation

/// `POST /api/v1/accounts/:address/sieve/:name`: the script's text; `activate` makes it the
/// one that runs.
public struct SievePut: StrictRequest {
    public var script: String
    public var activate: Bool?
    public init(script: String, activate: Bool? = nil) {
        self.script = script
        self.activate = activate
    }
}

/// `POST /api/v1/accounts/:address/vacation`. `from` and `until` (ISO dates, `2026-12-24`,
/// days in UTC, both included) bound the days on which replies are sent.
public struct VacationSet: StrictRequest {
    public var subject: String
    public var message: String
    public var days: Int?
    public var from: String?
    public var until: String?
    public init(subject: String, message: String, days: Int? = nil, from: String? = nil, until: String? = nil) {
        self.subject = subject
        self.message = message
        self.days = days
        self.from = from
        self.until = until
    }
}

/// `POST /api/v1/accounts/:address/rules/test`: a message (RFC 5322 text) and its envelope
/// sender.
public struct RulesTest: StrictRequest {
    public var message: String
    public var from: String?
    public init(message: String, from: String? = nil) {
        self.message = message
        self.from = from
    }
}

/// `POST /api/v1/accounts/:address/forward`.
public struct ForwardSet: StrictRequest {
    public var to: [String]
    public var keepCopy: Bool?
    public init(to: [String], keepCopy: Bool? = nil) {
        self.to = to
        self.keepCopy = keepCopy
    }
}
