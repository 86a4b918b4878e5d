import Foundation

/// `POST /api/v1/import/dovecot-passwd`: a Dovecot passwd-file's text.
public struct DovecotPasswdImport: StrictRequest, Hashable {
    public var text: String
    /// The domain of users written without one.
    public var domain: String?
    public var dryRun: Bool?

    public init(text: String, domain: String? = nil, dryRun: Bool? = nil) {
        self.text = text
        self.domain = domain
        self.dryRun = dryRun
    }
}

/// `POST /api/v1/import/postfix-virtual`: a Postfix virtual table's source text.
public struct PostfixVirtualImport: StrictRequest, Hashable {
    public var text: String
    /// The text is a `virtual_mailbox_maps` table (address → mailbox path): create accounts.
    /// Otherwise it is a `virtual_alias_maps` table: create aliases and catch-alls.
    public var mailboxMaps: Bool?
    public var dryRun: Bool?

    public init(text: String, mailboxMaps: Bool? = nil, dryRun: Bool? = nil) {
        self.text = text
        self.mailboxMaps = mailboxMaps
        self.dryRun = dryRun
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
