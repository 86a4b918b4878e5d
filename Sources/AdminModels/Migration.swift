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
