import Foundation

// What the outbound queue's and the DKIM keyring's admin operations return: plain values,
// written once here, that the admin API sends as JSON as they are (AdminModels re-exports
// MailCore) and the CLI and the console read.

/// One remote recipient waiting on the outbound queue.
public struct QueueEntryView: Codable, Sendable, Hashable {
    /// The message's queue id (as in `Received:` headers, logs and `mailroom trace`).
    public var queueId: String
    public var messageId: String?
    public var sender: String
    public var recipient: String
    public var domain: String
    /// `queued`, `active`, `deferred` or `held`.
    public var status: String
    public var size: Int
    public var createdAt: Date
    public var nextAttempt: Date
    public var attempts: Int
    public var lastReply: String?
    public var lastAttempt: Date?
    /// Every attempt (only in `queue show`).
    public var history: [QueueAttemptView]?

    public init(
        queueId: String, messageId: String?, sender: String, recipient: String, domain: String, status: String,
        size: Int,
        createdAt: Date, nextAttempt: Date, attempts: Int, lastReply: String?, lastAttempt: Date?,
        history: [QueueAttemptView]?
    ) {
        self.queueId = queueId
        self.messageId = messageId
        self.sender = sender
        self.recipient = recipient
        self.domain = domain
        self.status = status
        self.size = size
        self.createdAt = createdAt
        self.nextAttempt = nextAttempt
        self.attempts = attempts
        self.lastReply = lastReply
        self.lastAttempt = lastAttempt
        self.history = history
    }
}

public struct QueueAttemptView: Codable, Sendable, Hashable {
    public var at: Date
    /// The host tried (MX name, route or relay host), and the address connected to.
    public var mx: String?
    public var ip: String?
    public var tls: String?
    /// The remote reply, or what went wrong before there was one.
    public var reply: String
    public init(at: Date, mx: String?, ip: String?, tls: String?, reply: String) {
        self.at = at
        self.mx = mx
        self.ip = ip
        self.tls = tls
        self.reply = reply
    }
}

/// What a queue action (retry, hold, release, delete) did.
public struct QueueActionResult: Codable, Sendable, Hashable {
    public var action: String
    /// Recipients the action applied to.
    public var recipients: Int
    /// Queue ids of the messages concerned.
    public var queueIds: [String]
    /// Bounces sent to senders (delete --bounce).
    public var bounced: Int
    public init(action: String, recipients: Int, queueIds: [String], bounced: Int = 0) {
        self.action = action
        self.recipients = recipients
        self.queueIds = queueIds
        self.bounced = bounced
    }
}

/// The queue by destination domain and age, like Postfix's qshape.
public struct QueueSummaryView: Codable, Sendable, Hashable {
    public struct Row: Codable, Sendable, Hashable {
        public var domain: String
        public var total: Int
        /// Recipients per age bucket, in the order of `buckets`.
        public var counts: [Int]
        public init(domain: String, total: Int, counts: [Int]) {
            self.domain = domain
            self.total = total
            self.counts = counts
        }
    }
    /// Upper bounds of the age buckets, e.g. `5m`, `10m`, …, and `older`.
    public var buckets: [String]
    public var rows: [Row]
    /// Recipients by status.
    public var byStatus: [String: Int]
    public init(buckets: [String], rows: [Row], byStatus: [String: Int]) {
        self.buckets = buckets
        self.rows = rows
        self.byStatus = byStatus
    }
}

/// A DKIM signing key (the private half never leaves the server).
public struct DKIMKeyView: Codable, Sendable, Hashable {
    public var domain: String
    public var selector: String
    public var algorithm: String
    /// The key that signs the domain's mail now.
    public var active: Bool
    public var createdAt: Date
    /// Where to publish the record: `selector._domainkey.domain`.
    public var dnsName: String
    /// The TXT record's value.
    public var dnsRecord: String
    public init(
        domain: String, selector: String, algorithm: String, active: Bool, createdAt: Date, dnsName: String,
        dnsRecord: String
    ) {
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.active = active
        self.createdAt = createdAt
        self.dnsName = dnsName
        self.dnsRecord = dnsRecord
    }
}
