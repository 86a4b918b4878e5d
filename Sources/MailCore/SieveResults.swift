import Foundation

// What the admin operations on accounts' Sieve scripts return (scripts, vacation, forwarding,
// a dry run): plain values the admin API sends as JSON as they are. Their requests stay in
// AdminModels; the operations take their fields.

/// One of an account's Sieve scripts. `script` (the text) only when one script is asked for.
public struct SieveScriptView: Codable, Sendable, Hashable {
    public var name: String
    public var active: Bool
    public var updatedAt: Date
    public var script: String?

    public init(name: String, active: Bool, updatedAt: Date, script: String? = nil) {
        self.name = name
        self.active = active
        self.updatedAt = updatedAt
        self.script = script
    }
}

/// An account's vacation reply, as the `vacation` script says it.
public struct VacationView: Codable, Sendable, Hashable {
    public var active: Bool
    public var subject: String?
    public var message: String?
    public var days: Int?
    /// The first and last day replies are sent (ISO dates, UTC); nil when unbounded.
    public var from: String?
    public var until: String?
    /// The script that runs after the reply (the one active before the vacation was set).
    public var includes: String?
    public var script: String?

    public init(
        active: Bool, subject: String? = nil, message: String? = nil, days: Int? = nil, from: String? = nil,
        until: String? = nil, includes: String? = nil, script: String? = nil
    ) {
        self.active = active
        self.subject = subject
        self.message = message
        self.days = days
        self.from = from
        self.until = until
        self.includes = includes
        self.script = script
    }
}

/// What the account's active script would do with a message.
public struct RulesTestView: Codable, Sendable, Hashable {
    /// The active script's name; nil when the account has none (the message would go to INBOX).
    public var script: String?
    /// The script's actions, in order ("fileinto \"Projects\"", "vacation to …").
    public var actions: [String]
    /// What delivery would do: where copies go, and each effect as the trace would tell it.
    public var outcome: [String]

    public init(script: String?, actions: [String], outcome: [String]) {
        self.script = script
        self.actions = actions
        self.outcome = outcome
    }
}

/// An account's forwarding, as the `forward` script says it.
public struct ForwardView: Codable, Sendable, Hashable {
    public var active: Bool
    public var to: [String]
    /// A copy stays in the account (and its other rules still run).
    public var keepCopy: Bool
    /// With a kept copy: the script that runs after forwarding (the one active before).
    public var includes: String?
    public var script: String?

    public init(active: Bool, to: [String] = [], keepCopy: Bool = false, includes: String? = nil, script: String? = nil)
    {
        self.active = active
        self.to = to
        self.keepCopy = keepCopy
        self.includes = includes
        self.script = script
    }
}
