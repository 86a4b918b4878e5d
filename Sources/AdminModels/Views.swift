import Foundation

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

/// One DNS record to publish for a domain, as a zone file would hold it.
public struct DNSRecordView: Codable, Sendable, Hashable {
    /// The owner name with a trailing dot (`_dmarc.example.org.`), or a placeholder in angle
    /// brackets when it depends on something Mailroom cannot know (`<your outbound address>`).
    public var name: String
    public var type: String
    /// The record data as a zone file writes it (TXT in quoted strings).
    public var value: String
    /// What it is for, in a few words.
    public var purpose: String
    public init(name: String, type: String, value: String, purpose: String) {
        self.name = name
        self.type = type
        self.value = value
        self.purpose = purpose
    }
}

/// One thing `mailroom doctor` checked.
public struct DoctorFinding: Codable, Sendable, Hashable {
    /// The domain it is about, or nil for the server itself.
    public var domain: String?
    /// A short name: `mx`, `spf`, `dkim`, `dmarc`, `ptr`, `certificate`, `listener`, …
    public var check: String
    /// `ok`, `warning` or `error`.
    public var status: String
    public var detail: String
    /// What to do about it (nil when it is fine).
    public var fix: String?
    public init(domain: String?, check: String, status: String, detail: String, fix: String? = nil) {
        self.domain = domain
        self.check = check
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

public struct DoctorRequest: StrictRequest {
    /// The domains to check; empty or absent checks every domain.
    public var domains: [String]?
    public init(domains: [String]? = nil) { self.domains = domains }
}

/// One login: a success, or a failure with its reason (wrong password, account disabled,
/// address banned, …).
public struct LoginView: Codable, Sendable, Hashable {
    /// `smtp` or `imap`.
    public var `protocol`: String
    public var at: Date
    public var ip: String
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

/// What `DELETE /api/v1/bans[/IP]` did.
public struct BansLifted: Codable, Sendable, Hashable {
    public var lifted: Int
    public init(lifted: Int) { self.lifted = lifted }
}

/// `mailroom status`: the server's health on one screen.
public struct StatusView: Codable, Sendable, Hashable {
    public struct Listener: Codable, Sendable, Hashable {
        public var name: String
        public var address: String
        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }

    public struct Alert: Codable, Sendable, Hashable {
        /// The alert rule's name (as in deploy/prometheus/mailroom-alerts.yml).
        public var name: String
        public var summary: String
        public var since: Date
        public init(name: String, summary: String, since: Date) {
            self.name = name
            self.summary = summary
            self.since = since
        }
    }

    /// The last `mailroom doctor` run of every domain (by a server admin).
    public struct DoctorRun: Codable, Sendable, Hashable {
        public var at: Date
        public var ok: Int
        public var warnings: Int
        public var errors: Int
        /// The errors' and warnings' details.
        public var problems: [String]
        public init(at: Date, ok: Int, warnings: Int, errors: Int, problems: [String]) {
            self.at = at
            self.ok = ok
            self.warnings = warnings
            self.errors = errors
            self.problems = problems
        }
    }

    public var version: String
    public var hostname: String
    public var startedAt: Date
    public var listeners: [Listener]
    public var certificates: [TLSCertificateView]
    /// Recipients on the outbound queue by status, and the oldest one's age in seconds.
    public var queue: [String: Int]
    public var oldestQueuedSeconds: Double?
    public var bannedAddresses: Int
    public var alerts: [Alert]
    /// Where alerts are mailed (`[alerts] email`), if anywhere.
    public var alertEmail: String?
    public var lastDoctor: DoctorRun?

    public init(
        version: String, hostname: String, startedAt: Date, listeners: [Listener], certificates: [TLSCertificateView],
        queue: [String: Int], oldestQueuedSeconds: Double?, bannedAddresses: Int, alerts: [Alert], alertEmail: String?,
        lastDoctor: DoctorRun?
    ) {
        self.version = version
        self.hostname = hostname
        self.startedAt = startedAt
        self.listeners = listeners
        self.certificates = certificates
        self.queue = queue
        self.oldestQueuedSeconds = oldestQueuedSeconds
        self.bannedAddresses = bannedAddresses
        self.alerts = alerts
        self.alertEmail = alertEmail
        self.lastDoctor = lastDoctor
    }
}

/// An account's junk classifier: what it learned, and whether it judges mail yet.
public struct JunkView: Codable, Sendable, Hashable {
    public var hamMessages: Int
    public var spamMessages: Int
    public var tokens: Int
    /// Trained enough (at least `minimumHam` and `minimumSpam` messages) to judge mail.
    public var active: Bool
    public var minimumHam: Int
    public var minimumSpam: Int
    /// `[spam] junk_learning`: off, the server neither learns nor asks any classifier.
    public var learning: Bool

    public init(hamMessages: Int, spamMessages: Int, tokens: Int, active: Bool, minimumHam: Int, minimumSpam: Int, learning: Bool) {
        self.hamMessages = hamMessages
        self.spamMessages = spamMessages
        self.tokens = tokens
        self.active = active
        self.minimumHam = minimumHam
        self.minimumSpam = minimumSpam
        self.learning = learning
    }
}

/// `POST /api/v1/backups`: where to write the backup.
public struct BackupRequest: StrictRequest, Hashable {
    public var dir: String
    public init(dir: String) { self.dir = dir }
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

/// `POST /api/v1/webhooks`.
public struct WebhookCreate: StrictRequest {
    public var url: String
    /// Any of `WebhookView.eventNames`.
    public var events: [String]
    public init(url: String, events: [String]) {
        self.url = url
        self.events = events
    }
}

/// A webhook, without its secret.
public struct WebhookView: Codable, Sendable, Hashable {
    /// Every event a hook can ask for.
    public static let eventNames = ["delivered", "bounced", "deferred", "refused", "quarantined", "auth-failure", "account-changed"]
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
        id: Int64, event: String, status: String, attempts: Int, createdAt: Date, nextAttempt: Date?, lastStatus: Int?, lastError: String?,
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
