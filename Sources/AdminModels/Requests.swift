public struct DomainCreate: StrictRequest {
    public var name: String
    public var aliasOf: String?
    public var catchAll: String?
    public init(name: String, aliasOf: String? = nil, catchAll: String? = nil) {
        self.name = name
        self.aliasOf = aliasOf
        self.catchAll = catchAll
    }
}

public struct DomainUpdate: StrictRequest {
    /// The catch-all target; an empty string removes it.
    public var catchAll: String?
    /// The MTA-STS policy mode: `none`, `testing` or `enforce`.
    public var mtaSts: String?
    public init(catchAll: String? = nil, mtaSts: String? = nil) {
        self.catchAll = catchAll
        self.mtaSts = mtaSts
    }
}

public struct AccountCreate: StrictRequest {
    public var address: String
    public var password: String?
    public var generatePassword: Bool?
    public var name: String?
    /// `5G`, `500M`, a number of bytes, or `unlimited`.
    public var quota: String?
    public init(address: String, password: String? = nil, generatePassword: Bool? = nil, name: String? = nil, quota: String? = nil) {
        self.address = address
        self.password = password
        self.generatePassword = generatePassword
        self.name = name
        self.quota = quota
    }
}

public struct AccountUpdate: StrictRequest {
    public var name: String?
    public var quota: String?
    /// `active` or `disabled`.
    public var state: String?
    public init(name: String? = nil, quota: String? = nil, state: String? = nil) {
        self.name = name
        self.quota = quota
        self.state = state
    }
}

public struct PasswordSet: StrictRequest {
    public var password: String?
    public var generate: Bool?
    public init(password: String? = nil, generate: Bool? = nil) {
        self.password = password
        self.generate = generate
    }
}

public struct AccountRename: StrictRequest {
    public var newAddress: String
    /// Keep the old address working as an alias of the new one.
    public var keepAlias: Bool?
    public init(newAddress: String, keepAlias: Bool? = nil) {
        self.newAddress = newAddress
        self.keepAlias = keepAlias
    }
}

public struct AliasCreate: StrictRequest {
    public var address: String
    public var targets: [String]
    public init(address: String, targets: [String]) {
        self.address = address
        self.targets = targets
    }
}

public struct AliasTargets: StrictRequest {
    public var targets: [String]
    public init(targets: [String]) { self.targets = targets }
}

public struct ListCreate: StrictRequest {
    public var address: String
    public var name: String?
    public var description: String?
    public var members: [String]?
    public init(address: String, name: String? = nil, description: String? = nil, members: [String]? = nil) {
        self.address = address
        self.name = name
        self.description = description
        self.members = members
    }
}

public struct ListUpdate: StrictRequest {
    public var name: String?
    public var description: String?
    /// `anyone`, `members`, `organisation`, `senders` or `moderated`.
    public var postingPolicy: String?
    public var allowedSenders: [String]?
    public var owners: [String]?
    public var moderators: [String]?
    public var subjectPrefix: String?
    /// `list` or `sender`.
    public var replyTo: String?
    public var hiddenMembers: Bool?
    /// `auto`, `always` or `never`.
    public var dmarcRewrite: String?
    public init(
        name: String? = nil, description: String? = nil, postingPolicy: String? = nil, allowedSenders: [String]? = nil,
        owners: [String]? = nil, moderators: [String]? = nil, subjectPrefix: String? = nil, replyTo: String? = nil,
        hiddenMembers: Bool? = nil, dmarcRewrite: String? = nil
    ) {
        self.dmarcRewrite = dmarcRewrite
        self.name = name
        self.description = description
        self.postingPolicy = postingPolicy
        self.allowedSenders = allowedSenders
        self.owners = owners
        self.moderators = moderators
        self.subjectPrefix = subjectPrefix
        self.replyTo = replyTo
        self.hiddenMembers = hiddenMembers
    }
}

public struct MembersChange: StrictRequest {
    public var members: [String]
    public init(members: [String]) { self.members = members }
}

public struct TokenCreate: StrictRequest {
    public var name: String
    /// `server-admin` or `domain-admin`.
    public var role: String
    public var domains: [String]?
    public init(name: String, role: String, domains: [String]? = nil) {
        self.name = name
        self.role = role
        self.domains = domains
    }
}

/// `POST /api/v1/accounts/{address}/mailbox-import`: an mbox file or a Maildir on the server's
/// machine (an absolute path) into the account.
public struct MailboxImportRequest: StrictRequest, Hashable {
    public var path: String
    /// The folder for an mbox file, or for a Maildir's own messages (default INBOX); a
    /// Maildir's subfolders keep their names.
    public var folder: String?
    /// `mboxrd` (default) or `mboxo`: how `>From ` lines in the file are read (`mbox_variant`).
    public var mboxVariant: String?
    public init(path: String, folder: String? = nil, mboxVariant: String? = nil) {
        self.path = path
        self.folder = folder
        self.mboxVariant = mboxVariant
    }
}

/// `POST /api/v1/accounts/{address}/mailbox-export`: one folder to an mbox file, or the
/// account's folders (or one) to a Maildir, at an absolute path on the server's machine.
public struct MailboxExportRequest: StrictRequest, Hashable {
    public var path: String
    /// `mbox` or `maildir`.
    public var format: String
    public var folder: String?
    public init(path: String, format: String, folder: String? = nil) {
        self.path = path
        self.format = format
        self.folder = folder
    }
}

/// `PUT /api/v1/accounts/ADDRESS/role`.
public struct RoleSet: StrictRequest {
    /// `server-admin`, `domain-admin` or `user`.
    public var role: String
    public var domains: [String]?
    public init(role: String, domains: [String]? = nil) {
        self.role = role
        self.domains = domains
    }
}

/// `POST /api/v1/dkim`.
public struct DKIMGenerate: StrictRequest, Hashable {
    public var domain: String
    /// `rsa-2048` (default) or `ed25519`.
    public var algorithm: String?
    /// Default: a name from the date, e.g. `mr202611`.
    public var selector: String?
    public init(domain: String, algorithm: String?, selector: String?) {
        self.domain = domain
        self.algorithm = algorithm
        self.selector = selector
    }
}
