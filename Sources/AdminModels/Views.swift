import Foundation

public struct DoctorRequest: StrictRequest {
    /// The domains to check; empty or absent checks every domain.
    public var domains: [String]?
    public init(domains: [String]? = nil) { self.domains = domains }
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
