import Foundation

// What the directory's admin operations return (domains, accounts, aliases, lists, tokens, the
// audit log, imports, traces, logins): plain values, written once here, that the admin API
// sends as JSON as they are (AdminModels re-exports MailCore) and the CLI and the console read.

public struct DomainView: Codable, Sendable, Hashable {
    /// Canonical ASCII name (A-labels).
    public var name: String
    /// The name as people write it (U-labels).
    public var displayName: String
    /// The domain this one is an alias of.
    public var aliasOf: String?
    public var catchAll: String?
    public var domainAliases: [String]
    public var accounts: Int
    public var aliases: Int
    public var lists: Int
    /// The mode of the MTA-STS policy served for the domain: `none`, `testing` or `enforce`.
    public var mtaSts: String
    public var createdAt: Date

    public init(
        name: String, displayName: String, aliasOf: String?, catchAll: String?, domainAliases: [String], accounts: Int,
        aliases: Int, lists: Int, mtaSts: String = "testing", createdAt: Date
    ) {
        self.mtaSts = mtaSts
        self.name = name
        self.displayName = displayName
        self.aliasOf = aliasOf
        self.catchAll = catchAll
        self.domainAliases = domainAliases
        self.accounts = accounts
        self.aliases = aliases
        self.lists = lists
        self.createdAt = createdAt
    }
}

public struct AccountView: Codable, Sendable, Hashable {
    public var address: String
    public var name: String
    /// Quota in bytes; 0 means unlimited.
    public var quota: Int64
    /// `active` or `disabled`.
    public var state: String
    public var hasPassword: Bool
    /// The scheme of the stored password: `SCRAM-SHA-256` (ours), or the scheme of a hash
    /// imported from another system (`SHA512-CRYPT`, …) until the user's first login replaces it.
    public var passwordScheme: String?
    /// Lists and aliases that name this account directly.
    public var memberOf: [String]?
    /// Messages stored and their size in bytes (in `show` only).
    public var messages: Int?
    public var storedBytes: Int64?
    public var createdAt: Date
    public var updatedAt: Date
    /// `show` only: the last successful login per protocol, recent failed ones (newest first),
    /// and the bans in force on addresses those came from.
    public var lastLogins: [LoginView]?
    public var loginFailures: [LoginView]?
    public var bans: [BanView]?

    public init(
        address: String, name: String, quota: Int64, state: String, hasPassword: Bool, memberOf: [String]?,
        createdAt: Date, updatedAt: Date
    ) {
        self.address = address
        self.name = name
        self.quota = quota
        self.state = state
        self.hasPassword = hasPassword
        self.memberOf = memberOf
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct AccountCreated: Codable, Sendable {
    public var account: AccountView
    /// Present only when the server generated the password; shown once, never stored in clear.
    public var generatedPassword: String?
    public init(account: AccountView, generatedPassword: String?) {
        self.account = account
        self.generatedPassword = generatedPassword
    }
}

public struct AccountRemoved: Codable, Sendable {
    public var address: String
    /// What went with the account, for the administrator's record.
    public var removed: [String]
    public init(address: String, removed: [String]) {
        self.address = address
        self.removed = removed
    }
}

public struct AliasView: Codable, Sendable, Hashable {
    public var address: String
    public var targets: [String]
    public var createdAt: Date
    public init(address: String, targets: [String], createdAt: Date) {
        self.address = address
        self.targets = targets
        self.createdAt = createdAt
    }
}

public struct MemberView: Codable, Sendable, Hashable {
    public var address: String
    /// `account`, `alias`, `list`, `external`, `disabled` or `unknown`.
    public var kind: String
    public init(address: String, kind: String) {
        self.address = address
        self.kind = kind
    }
}

public struct ListView: Codable, Sendable, Hashable {
    public var address: String
    public var name: String
    public var description: String
    public var memberCount: Int
    public var members: [MemberView]?
    public var postingPolicy: String
    public var allowedSenders: [String]
    public var owners: [String]
    public var moderators: [String]
    public var subjectPrefix: String
    public var replyTo: String
    public var hiddenMembers: Bool
    /// `auto`, `always` or `never`: From rewritten to the list's address for DMARC.
    public var dmarcRewrite: String
    public var createdAt: Date

    public init(
        address: String, name: String, description: String, memberCount: Int, members: [MemberView]?,
        postingPolicy: String, allowedSenders: [String], owners: [String], moderators: [String],
        subjectPrefix: String, replyTo: String, hiddenMembers: Bool, dmarcRewrite: String = "auto", createdAt: Date
    ) {
        self.dmarcRewrite = dmarcRewrite
        self.address = address
        self.name = name
        self.description = description
        self.memberCount = memberCount
        self.members = members
        self.postingPolicy = postingPolicy
        self.allowedSenders = allowedSenders
        self.owners = owners
        self.moderators = moderators
        self.subjectPrefix = subjectPrefix
        self.replyTo = replyTo
        self.hiddenMembers = hiddenMembers
        self.createdAt = createdAt
    }
}

public struct RecipientView: Codable, Sendable, Hashable {
    public var address: String
    /// True for a local mailbox, false for an external address mail is forwarded to.
    public var local: Bool
    /// Aliases and lists passed through, outermost first.
    public var path: [String]
    public init(address: String, local: Bool, path: [String]) {
        self.address = address
        self.local = local
        self.path = path
    }
}

public struct SkippedView: Codable, Sendable, Hashable {
    public var address: String
    public var reason: String
    public var path: [String]
    public init(address: String, reason: String, path: [String]) {
        self.address = address
        self.reason = reason
        self.path = path
    }
}

public struct ResolutionView: Codable, Sendable, Hashable {
    public var input: String
    public var kind: String
    public var canonical: String?
    public var subaddressTag: String?
    public var viaDomainAlias: String?
    public var deliverable: Bool
    public var recipients: [RecipientView]
    public var skipped: [SkippedView]
    public var truncated: Bool
    public var error: String?

    public init(
        input: String, kind: String, canonical: String?, subaddressTag: String?, viaDomainAlias: String?,
        deliverable: Bool, recipients: [RecipientView], skipped: [SkippedView], truncated: Bool, error: String?
    ) {
        self.input = input
        self.kind = kind
        self.canonical = canonical
        self.subaddressTag = subaddressTag
        self.viaDomainAlias = viaDomainAlias
        self.deliverable = deliverable
        self.recipients = recipients
        self.skipped = skipped
        self.truncated = truncated
        self.error = error
    }
}

public struct TokenView: Codable, Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var role: String
    public var domains: [String]
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    public init(
        id: Int64, name: String, role: String, domains: [String], createdAt: Date, lastUsedAt: Date?, revokedAt: Date?
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.domains = domains
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

public struct TokenCreated: Codable, Sendable {
    public var token: TokenView
    /// The bearer secret; shown once, stored only as a hash.
    public var secret: String
    public init(token: TokenView, secret: String) {
        self.token = token
        self.secret = secret
    }
}

public struct AuditView: Codable, Sendable, Hashable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var target: String
    public var domain: String?
    public var before: String?
    public var after: String?
    public var sourceIp: String?
    public init(
        id: Int64, at: Date, actor: String, action: String, target: String, domain: String?, before: String?,
        after: String?, sourceIp: String?
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.domain = domain
        self.before = before
        self.after = after
        self.sourceIp = sourceIp
    }
}

public struct ImportReport: Codable, Sendable, Hashable {
    public struct RowError: Codable, Sendable, Hashable {
        public var line: Int
        public var message: String
        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }
    public var imported: Int
    public var errors: [RowError]
    public init(imported: Int, errors: [RowError]) {
        self.imported = imported
        self.errors = errors
    }
}

public struct TraceEventView: Codable, Sendable, Hashable {
    public var at: Date
    public var event: String
    public var sender: String?
    public var recipient: String?
    public var clientIp: String?
    public var helo: String?
    public var tls: String?
    public var authUser: String?
    public var detail: String?
    public var reply: String?
    public init(
        at: Date, event: String, sender: String?, recipient: String?, clientIp: String?, helo: String?, tls: String?,
        authUser: String?, detail: String?, reply: String?
    ) {
        self.at = at
        self.event = event
        self.sender = sender
        self.recipient = recipient
        self.clientIp = clientIp
        self.helo = helo
        self.tls = tls
        self.authUser = authUser
        self.detail = detail
        self.reply = reply
    }
}

/// One message's story: every event with its queue id, in time order. Refusals at RCPT (which
/// have no message) have queue id `-`.
public struct TraceView: Codable, Sendable, Hashable {
    public var queueId: String
    public var messageId: String?
    public var events: [TraceEventView]
    public init(queueId: String, messageId: String?, events: [TraceEventView]) {
        self.queueId = queueId
        self.messageId = messageId
        self.events = events
    }
}

/// One login: a success, or a failure with its reason (wrong password, account disabled,
/// address banned, …).
public struct LoginView: Codable, Sendable, Hashable {
    /// `smtp` or `imap`.
    public var `protocol`: String
    public var at: Date
    /// The client's address.
    public var ip: String
    /// Failures: why (wrong password, account disabled, …); nil for a success.
    public var reason: String?

    public init(protocol: String, at: Date, ip: String, reason: String? = nil) {
        self.protocol = `protocol`
        self.at = at
        self.ip = ip
        self.reason = reason
    }
}

/// A client address banned after failed logins (SMTP and IMAP share bans).
public struct BanView: Codable, Sendable, Hashable {
    public var ip: String
    public var until: Date
    /// Failed logins from it within the counting window.
    public var failures: Int

    public init(ip: String, until: Date, failures: Int) {
        self.ip = ip
        self.until = until
        self.failures = failures
    }
}

/// An account's console role (`mailroom account set ADDRESS --role …`).
public struct AccountRoleView: Codable, Sendable, Hashable {
    public var address: String
    /// `server-admin`, `domain-admin` or `user`.
    public var role: String
    /// The domains a domain admin manages.
    public var domains: [String]

    public init(address: String, role: String, domains: [String]) {
        self.address = address
        self.role = role
        self.domains = domains
    }
}

/// What an import did, or (dry run, or refused for conflicts) would do. Nothing is applied
/// unless there are no conflicts.
public struct MigrationReport: Codable, Sendable, Hashable {
    public struct Item: Codable, Sendable, Hashable {
        public var line: Int
        /// The address (or `@domain`) concerned; empty for a line that could not be read.
        public var address: String
        public var detail: String

        public init(line: Int, address: String, detail: String) {
            self.line = line
            self.address = address
            self.detail = detail
        }
    }

    public var applied: Bool
    public var created: [Item]
    public var changed: [Item]
    public var unchanged: [Item]
    public var conflicts: [Item]

    public init(
        applied: Bool = false, created: [Item] = [], changed: [Item] = [], unchanged: [Item] = [],
        conflicts: [Item] = []
    ) {
        self.applied = applied
        self.created = created
        self.changed = changed
        self.unchanged = unchanged
        self.conflicts = conflicts
    }
}
