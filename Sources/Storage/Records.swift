import Foundation
import MailCore

/// A domain Mailroom receives mail for. A domain alias (`aliasOf` set) delivers as its target:
/// `x@example.net` is treated as `x@example.org`.
public struct DomainRecord: Codable, Hashable, Sendable {
    public var id: Int64
    public var name: DomainName
    public var aliasOf: Int64?
    /// Where mail for unknown local parts goes (an address), or nil to refuse it.
    public var catchAll: String?
    /// The mode of the MTA-STS policy the web listener serves for this domain.
    public var mtaSTS: MTASTSMode
    public var createdAt: Date

    public init(
        id: Int64 = 0, name: DomainName, aliasOf: Int64? = nil, catchAll: String? = nil, mtaSTS: MTASTSMode = .testing,
        createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.aliasOf = aliasOf
        self.catchAll = catchAll
        self.mtaSTS = mtaSTS
        self.createdAt = createdAt
    }
}

public enum AccountState: String, Codable, Hashable, Sendable, CaseIterable {
    case active
    case disabled
}

public struct AccountRecord: Codable, Hashable, Sendable {
    public var id: Int64
    public var address: EmailAddress
    public var name: String
    /// Salted slow hash (see `PasswordHash` in Directory); nil when no password is set.
    public var passwordHash: String?
    /// Mailbox quota in bytes; 0 means no limit.
    public var quotaBytes: Int64
    public var state: AccountState
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64 = 0, address: EmailAddress, name: String = "", passwordHash: String? = nil,
        quotaBytes: Int64 = 0, state: AccountState = .active, createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.address = address
        self.name = name
        self.passwordHash = passwordHash
        self.quotaBytes = quotaBytes
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// An address that forwards to one or more targets (local or external addresses).
public struct AliasRecord: Codable, Hashable, Sendable {
    public var id: Int64
    public var address: EmailAddress
    public var targets: [String]
    public var createdAt: Date

    public init(id: Int64 = 0, address: EmailAddress, targets: [String], createdAt: Date) {
        self.id = id
        self.address = address
        self.targets = targets
        self.createdAt = createdAt
    }
}

/// Who may post to a distribution list.
public enum PostingPolicy: String, Codable, Hashable, Sendable, CaseIterable {
    /// Anyone, including outside senders.
    case anyone
    /// Only addresses that are (final) members of the list.
    case members
    /// Any sender in one of this server's domains.
    case organisation
    /// Only the addresses in the list's allowed-senders list.
    case senders
    /// Everything is held for a moderator.
    case moderated
}

/// Where replies to list mail go.
public enum ReplyToMode: String, Codable, Hashable, Sendable, CaseIterable {
    case list
    case sender
}

/// Whether a list rewrites From to its own address, as Mailman 3 does, so that a copy sent on
/// to other servers does not fail the poster's DMARC: `auto` when the poster's domain publishes
/// `p=reject` or `p=quarantine`, `always`, or `never`.
public enum DMARCRewrite: String, Codable, Hashable, Sendable, CaseIterable {
    case auto, always, never
}

public struct ListRecord: Codable, Hashable, Sendable {
    public var id: Int64
    public var address: EmailAddress
    public var name: String
    public var description: String
    /// Member addresses: accounts, aliases, other lists or external addresses.
    public var members: [String]
    public var postingPolicy: PostingPolicy
    public var allowedSenders: [String]
    public var owners: [String]
    public var moderators: [String]
    public var subjectPrefix: String
    public var replyTo: ReplyToMode
    /// Members are not disclosed to non-owners.
    public var hiddenMembers: Bool
    public var dmarcRewrite: DMARCRewrite = .auto
    public var createdAt: Date

    public init(
        id: Int64 = 0, address: EmailAddress, name: String = "", description: String = "", members: [String] = [],
        postingPolicy: PostingPolicy = .anyone, allowedSenders: [String] = [], owners: [String] = [],
        moderators: [String] = [], subjectPrefix: String = "", replyTo: ReplyToMode = .sender,
        hiddenMembers: Bool = false, createdAt: Date
    ) {
        self.id = id
        self.address = address
        self.name = name
        self.description = description
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

public enum TokenRole: String, Codable, Hashable, Sendable, CaseIterable {
    /// May do everything.
    case serverAdmin = "server-admin"
    /// May manage only the domains named on the token.
    case domainAdmin = "domain-admin"
}

/// An admin API token. Only the SHA-256 of the secret is stored.
public struct TokenRecord: Codable, Hashable, Sendable {
    public var id: Int64
    public var name: String
    public var secretHash: String
    public var role: TokenRole
    public var domains: [DomainName]
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: Int64 = 0, name: String, secretHash: String, role: TokenRole, domains: [DomainName], createdAt: Date,
        lastUsedAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.role = role
        self.domains = domains
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// One audited change: who did what to which object, with the object before and after (JSON).
public struct AuditEntry: Codable, Hashable, Sendable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var target: String
    /// The domain the target belongs to, so domain admins can read their own domains' history.
    public var domain: String?
    public var before: String?
    public var after: String?
    public var sourceIP: String?

    public init(
        id: Int64 = 0, at: Date, actor: String, action: String, target: String, domain: String?,
        before: String?, after: String?, sourceIP: String?
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.domain = domain
        self.before = before
        self.after = after
        self.sourceIP = sourceIP
    }
}

/// Everything the directory holds, as loaded into the in-memory snapshot at start-up.
public struct DirectoryData: Sendable {
    public var domains: [DomainRecord]
    public var accounts: [AccountRecord]
    public var aliases: [AliasRecord]
    public var lists: [ListRecord]

    public init(domains: [DomainRecord], accounts: [AccountRecord], aliases: [AliasRecord], lists: [ListRecord]) {
        self.domains = domains
        self.accounts = accounts
        self.aliases = aliases
        self.lists = lists
    }
}

/// One change to the directory. A batch of these is written in one transaction with its audit
/// entries, so that related changes (rename an account and the lists that name it) land together.
public enum DirectoryWrite: Sendable {
    case insertDomain(DomainRecord)
    case updateDomain(DomainRecord)
    case deleteDomain(id: Int64)
    case insertAccount(AccountRecord)
    case updateAccount(AccountRecord)
    case deleteAccount(id: Int64)
    case insertAlias(AliasRecord)
    case updateAlias(AliasRecord)
    case deleteAlias(id: Int64)
    case insertList(ListRecord)
    case updateList(ListRecord)
    case deleteList(id: Int64)
}

public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The address is already used by an account, alias or list.
    case addressTaken(String, kind: String)
    case domainTaken(String)
    case notFound(String)
    /// The database was written by a newer Mailroom.
    case schemaTooNew(unknown: [String])
    case databaseLocked(String)
    /// Another record already has this name.
    case conflict(String)

    public var description: String {
        switch self {
        case .addressTaken(let a, let kind): return "\(a) is already used by \(kind)"
        case .domainTaken(let d): return "domain \(d) already exists"
        case .notFound(let what): return "\(what) does not exist"
        case .schemaTooNew(let unknown):
            return "the database was upgraded by a newer Mailroom (schema steps \(unknown.joined(separator: ", ")) "
                + "are unknown to this version); run the newer Mailroom, or restore a backup made before the upgrade"
        case .databaseLocked(let path): return "the database \(path) is in use by another process"
        case .conflict(let what): return what
        }
    }
}
