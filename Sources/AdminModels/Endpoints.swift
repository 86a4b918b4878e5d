import Foundation
import MailCore

/// A route of the admin API as the server registers it and the CLI calls it: its method and
/// path, what it takes and what it answers. Both sides use these, and the OpenAPI document
/// (`/api/v1/openapi.json`) is made of them, so none of the three can drift from another.
public struct Endpoint<Response: Codable & Sendable>: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE" }

    public let method: Method
    /// Under `/api/v1/`, with `:name` for each path parameter: `accounts/:address`.
    public let path: String
    public let summary: String
    public let body: (any Codable.Type)?
    public let bodyMediaType: String
    public let returnsMediaType: String
    public let status: Int
    /// Other statuses that answer with a body of their own (a 422 with the import report).
    public let also: [Int: any Codable.Type]
    /// Query parameters: name and JSON type.
    public let query: [QueryParameter]
    /// The answer may be JSON `null` (an alias removed with its last target).
    public let nullable: Bool

    public struct QueryParameter: Sendable {
        public let name: String
        public let type: String
    }

    init(
        _ method: Method, _ path: String, _ summary: String, body: (any Codable.Type)? = nil, bodyMediaType: String = "application/json",
        returnsMediaType: String = "application/json", status: Int = 200, also: [Int: any Codable.Type] = [:], query: [(String, String)] = [],
        nullable: Bool = false
    ) {
        self.method = method
        self.path = path
        self.summary = summary
        self.body = body
        self.bodyMediaType = bodyMediaType
        self.returnsMediaType = returnsMediaType
        self.status = status
        self.also = also
        self.query = query.map { QueryParameter(name: $0.0, type: $0.1) }
        self.nullable = nullable
    }

    /// The path a client requests: the parameters in order (percent-encoded here), then the
    /// query (`name=value`, already encoded) if any.
    public func url(_ parameters: [String], query: String? = nil) -> String {
        var values = parameters.makeIterator()
        let segments = path.split(separator: "/").map { segment -> String in
            guard segment.hasPrefix(":") else { return String(segment) }
            guard let value = values.next() else { preconditionFailure("\(path) needs a value for \(segment)") }
            return Self.encode(value)
        }
        precondition(values.next() == nil, "\(path) takes fewer parameters")
        return "/api/v1/" + segments.joined(separator: "/") + (query.map { $0.isEmpty ? "" : "?" + $0 } ?? "")
    }

    /// A path segment or query value, percent-encoded.
    public static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~@"))) ?? value
    }
}

/// An answer with nothing to say: `{}`.
public struct Empty: Codable, Sendable {
    public init() {}
}

/// Every route of `/api/v1`.
public enum API {
    public static let deleteAccount = Endpoint<AccountRemoved>(.delete, "accounts/:address", "Remove an account and its mail")
    public static let deleteAccountForward = Endpoint<ForwardView>(.delete, "accounts/:address/forward", "Stop forwarding")
    public static let deleteAccountJunk = Endpoint<JunkView>(.delete, "accounts/:address/junk", "Forget what the account's junk classifier learned")
    public static let deleteAccountSieveScript = Endpoint<[SieveScriptView]>(.delete, "accounts/:address/sieve/:name", "Delete a script")
    public static let deleteAccountVacation = Endpoint<VacationView>(.delete, "accounts/:address/vacation", "Turn the vacation reply off")
    public static let deleteAlias = Endpoint<Empty>(.delete, "aliases/:address", "Remove an alias")
    public static let deleteBan = Endpoint<BansLifted>(.delete, "bans/:ip", "Lift one ban")
    public static let deleteBans = Endpoint<BansLifted>(.delete, "bans", "Lift every ban")
    public static let deleteDomain = Endpoint<Empty>(.delete, "domains/:name", "Remove an empty domain")
    public static let deleteList = Endpoint<Empty>(.delete, "lists/:address", "Remove a list")
    public static let deleteQuarantined = Endpoint<QuarantineResult>(.delete, "quarantine/:id", "Delete a quarantined message")
    public static let deleteQueued = Endpoint<QueueActionResult>(.delete, "queue/:id", "Delete a queued message", query: [("bounce", "boolean")])
    public static let deleteToken = Endpoint<Empty>(.delete, "tokens/:id", "Revoke an API token")
    public static let deleteWebhook = Endpoint<Empty>(.delete, "webhooks/:id", "Remove a webhook")
    public static let getAccount = Endpoint<AccountView>(.get, "accounts/:address", "An account, with its logins")
    public static let getAccountForward = Endpoint<ForwardView>(.get, "accounts/:address/forward", "Forwarding")
    public static let getAccountJunk = Endpoint<JunkView>(.get, "accounts/:address/junk", "What the account's junk classifier learned")
    public static let getAccountRole = Endpoint<AccountRoleView>(.get, "accounts/:address/role", "The account's console role")
    public static let getAccountSieve = Endpoint<[SieveScriptView]>(.get, "accounts/:address/sieve", "The account's Sieve scripts")
    public static let getAccountSieveScript = Endpoint<SieveScriptView>(.get, "accounts/:address/sieve/:name", "A Sieve script")
    public static let getAccountVacation = Endpoint<VacationView>(.get, "accounts/:address/vacation", "The vacation reply")
    public static let getAccounts = Endpoint<Page<AccountView>>(.get, "accounts", "Accounts, a page at a time", query: [("domain", "string"), ("page", "integer"), ("limit", "integer")])
    public static let getAccountsExport = Endpoint<String>(.get, "accounts/export", "Accounts as CSV", returnsMediaType: "text/csv", query: [("domain", "string")])
    public static let getAlias = Endpoint<AliasView>(.get, "aliases/:address", "An alias")
    public static let getAliases = Endpoint<[AliasView]>(.get, "aliases", "The aliases", query: [("domain", "string")])
    public static let getAudit = Endpoint<[AuditView]>(.get, "audit", "The audit log", query: [("since", "string"), ("target", "string"), ("limit", "integer")])
    public static let getBans = Endpoint<[BanView]>(.get, "bans", "Addresses banned after failed logins")
    public static let getDkim = Endpoint<[DKIMKeyView]>(.get, "dkim", "DKIM keys")
    public static let getDomain = Endpoint<DomainView>(.get, "domains/:name", "A domain")
    public static let getDomainDnsRecords = Endpoint<[DNSRecordView]>(.get, "domains/:name/dns-records", "The DNS records to publish for the domain")
    public static let getDomains = Endpoint<[DomainView]>(.get, "domains", "The domains")
    public static let getList = Endpoint<ListView>(.get, "lists/:address", "A list with its members")
    public static let getListExpand = Endpoint<ResolutionView>(.get, "lists/:address/expand", "Who a list reaches")
    public static let getLists = Endpoint<[ListView]>(.get, "lists", "The distribution lists", query: [("domain", "string")])
    public static let getModeration = Endpoint<[HeldView]>(.get, "moderation", "Messages held for list moderators", query: [("list", "string")])
    public static let getQuarantine = Endpoint<[QuarantineView]>(.get, "quarantine", "Messages in quarantine")
    public static let getQuarantined = Endpoint<QuarantineMessageView>(.get, "quarantine/:id", "A quarantined message with its text")
    public static let getQueue = Endpoint<[QueueEntryView]>(.get, "queue", "The outbound queue", query: [("domain", "string"), ("sender", "string"), ("recipient", "string"), ("status", "string"), ("limit", "integer")])
    public static let getQueueSummary = Endpoint<QueueSummaryView>(.get, "queue/summary", "Queued recipients by domain and age")
    public static let getQueued = Endpoint<[QueueEntryView]>(.get, "queue/:id", "A queued message with its attempts")
    public static let getResolve = Endpoint<ResolutionView>(.get, "resolve/:address", "How an address resolves")
    public static let getStatus = Endpoint<StatusView>(.get, "status", "The server's status")
    public static let getStorage = Endpoint<StorageUsage>(.get, "storage", "Disk use of the store")
    public static let getTls = Endpoint<TLSStatusView>(.get, "tls", "Certificates")
    public static let getTokens = Endpoint<[TokenView]>(.get, "tokens", "API tokens")
    public static let getTrace = Endpoint<[TraceView]>(.get, "trace", "The story of each matching message", query: [("message_id", "string"), ("sender", "string"), ("recipient", "string"), ("client", "string"), ("account", "string"), ("since", "string"), ("limit", "integer")])
    public static let getWebhookLog = Endpoint<[WebhookDeliveryView]>(.get, "webhooks/:id/log", "A webhook's deliveries", query: [("limit", "integer")])
    public static let getWebhooks = Endpoint<[WebhookView]>(.get, "webhooks", "Webhooks")
    public static let patchAccount = Endpoint<AccountView>(.patch, "accounts/:address", "Change an account", body: AccountUpdate.self)
    public static let patchDomain = Endpoint<DomainView>(.patch, "domains/:name", "Change a domain", body: DomainUpdate.self)
    public static let patchList = Endpoint<ListView>(.patch, "lists/:address", "Change a list", body: ListUpdate.self)
    public static let postAccountForward = Endpoint<ForwardView>(.post, "accounts/:address/forward", "Forward the account's mail", body: ForwardSet.self)
    public static let postAccountMailboxExport = Endpoint<MailboxTransferView>(.post, "accounts/:address/mailbox-export", "Export the account's mail as mbox or Maildir", body: MailboxExportRequest.self)
    public static let postAccountMailboxImport = Endpoint<MailboxTransferView>(.post, "accounts/:address/mailbox-import", "Import an mbox file or Maildir into the account", body: MailboxImportRequest.self)
    public static let postAccountPassword = Endpoint<[String: String]>(.post, "accounts/:address/password", "Set a password", body: PasswordSet.self)
    public static let postAccountRename = Endpoint<AccountView>(.post, "accounts/:address/rename", "Give an account a new address", body: AccountRename.self)
    public static let postAccountRulesTest = Endpoint<RulesTestView>(.post, "accounts/:address/rules/test", "What the account's rules would do with a message", body: RulesTest.self)
    public static let postAccountSieveDeactivate = Endpoint<[SieveScriptView]>(.post, "accounts/:address/sieve-deactivate", "No active script")
    public static let postAccountSieveScript = Endpoint<SieveScriptView>(.post, "accounts/:address/sieve/:name", "Store a Sieve script", body: SievePut.self)
    public static let postAccountSieveScriptActivate = Endpoint<SieveScriptView>(.post, "accounts/:address/sieve/:name/activate", "Make a script the active one")
    public static let postAccountVacation = Endpoint<VacationView>(.post, "accounts/:address/vacation", "Set the vacation reply", body: VacationSet.self)
    public static let postAccounts = Endpoint<AccountCreated>(.post, "accounts", "Add an account", body: AccountCreate.self, status: 201)
    public static let postAccountsImport = Endpoint<ImportReport>(.post, "accounts/import", "Import accounts from CSV", bodyMediaType: "text/csv", also: [422: ImportReport.self], query: [("partial", "boolean")])
    public static let postAliasTargetsRemove = Endpoint<AliasView?>(.post, "aliases/:address/targets/remove", "Remove targets from an alias (the alias goes with its last target)", body: AliasTargets.self, nullable: true)
    public static let postAliases = Endpoint<AliasView>(.post, "aliases", "Add an alias", body: AliasCreate.self, status: 201)
    public static let postBackups = Endpoint<BackupView>(.post, "backups", "Back up the server into a folder on its machine", body: BackupRequest.self)
    public static let postDkim = Endpoint<DKIMKeyView>(.post, "dkim", "Generate a DKIM key", body: DKIMGenerate.self, status: 201)
    public static let postDkimRotate = Endpoint<DKIMKeyView>(.post, "dkim/:domain/rotate", "A new DKIM key for a domain", status: 201, query: [("algorithm", "string")])
    public static let postDoctor = Endpoint<[DoctorFinding]>(.post, "doctor", "Check what is published in DNS", body: DoctorRequest.self)
    public static let postDomains = Endpoint<DomainView>(.post, "domains", "Add a domain", body: DomainCreate.self, status: 201)
    public static let postHeldApprove = Endpoint<ModerationResult>(.post, "moderation/:id/approve", "Approve a held message")
    public static let postHeldReject = Endpoint<ModerationResult>(.post, "moderation/:id/reject", "Reject a held message")
    public static let postImportDovecotPasswd = Endpoint<MigrationReport>(.post, "import/dovecot-passwd", "Import accounts from a Dovecot passwd-file", body: DovecotPasswdImport.self, also: [422: MigrationReport.self])
    public static let postImportPostfixVirtual = Endpoint<MigrationReport>(.post, "import/postfix-virtual", "Import aliases or accounts from a Postfix virtual table", body: PostfixVirtualImport.self, also: [422: MigrationReport.self])
    public static let postListMembers = Endpoint<ListView>(.post, "lists/:address/members", "Add members", body: MembersChange.self)
    public static let postListMembersRemove = Endpoint<ListView>(.post, "lists/:address/members/remove", "Remove members", body: MembersChange.self)
    public static let postLists = Endpoint<ListView>(.post, "lists", "Create a list", body: ListCreate.self, status: 201)
    public static let postQuarantinedRelease = Endpoint<QuarantineResult>(.post, "quarantine/:id/release", "Deliver a quarantined message")
    public static let postQueueRetry = Endpoint<QueueActionResult>(.post, "queue/retry", "Retry many queued messages", query: [("domain", "string"), ("sender", "string"), ("recipient", "string"), ("all", "boolean")])
    public static let postQueuedHold = Endpoint<QueueActionResult>(.post, "queue/:id/hold", "Hold a queued message")
    public static let postQueuedRelease = Endpoint<QueueActionResult>(.post, "queue/:id/release", "Release a queued message")
    public static let postQueuedRetry = Endpoint<QueueActionResult>(.post, "queue/:id/retry", "Retry a queued message")
    public static let postStorageSweep = Endpoint<BlobSweepReport>(.post, "storage/sweep", "Delete message files nothing refers to")
    public static let postTlsRenew = Endpoint<TLSStatusView>(.post, "tls/renew", "Renew the ACME certificate now")
    public static let postTraceDryRun = Endpoint<TraceDryRunView>(
        .post, "trace/dry-run", "Try a message without delivering it: the whole flow it would take", body: TraceDryRun.self)
    public static let postMigrationsImap = Endpoint<IMAPMigrationView>(
        .post, "migrations/imap", "Start copying accounts' mail from another IMAP server", body: IMAPMigrationRequest.self, status: 201)
    public static let getMigrationImap = Endpoint<IMAPMigrationView>(
        .get, "migrations/imap/:id", "A migration's progress, then its report", query: [("wait", "integer")])
    public static let postTokens = Endpoint<TokenCreated>(.post, "tokens", "Create an API token", body: TokenCreate.self, status: 201)
    public static let postWebhooks = Endpoint<WebhookCreated>(.post, "webhooks", "Add a webhook", body: WebhookCreate.self, status: 201)
    public static let putAccountRole = Endpoint<AccountRoleView>(.put, "accounts/:address/role", "Set the account's console role", body: RoleSet.self)

    /// `POST queue/ID/ACTION` for a queue action's name.
    public static func queueAction(_ action: String) -> Endpoint<QueueActionResult> {
        switch action {
        case "hold": return postQueuedHold
        case "release": return postQueuedRelease
        default: return postQueuedRetry
        }
    }
}
