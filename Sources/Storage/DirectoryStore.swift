import Foundation
import MailCore

/// The directory's storage: domains, accounts, aliases and lists, which the directory reads
/// whole into its snapshot and changes through ``DirectoryWrite``s, and what is kept per
/// account or admin beside them: API tokens, roles, app passwords, TOTP, password reset links
/// and web console sessions. ``SQLiteStore`` is one implementation;
/// `Tests/StorageTests/DirectoryStoreContractTests.swift` holds the contract any other must pass.
///
/// A change given an `audit` entry writes it in the same transaction: both or neither.
public protocol DirectoryStore: Sendable {
    /// Fails when the store cannot be read (the admin API's health check).
    func healthCheck() throws

    // MARK: Domains, accounts, aliases, lists

    /// Every domain, account, alias and list, each kind by id.
    func loadDirectory() throws -> DirectoryData
    /// Applies `writes` and records `audit`, all or nothing. Returns, for each write, the id of
    /// the row it inserted (or the id it touched). A domain or address already taken is a
    /// ``StoreError``, as is an update or delete of a row that is not there; a new account
    /// gets the default mailboxes.
    @discardableResult
    func write(_ writes: [DirectoryWrite], audit: [AuditEntry]) throws -> [Int64]
    /// Accounts sorted by address, optionally of one domain, a page at a time.
    func accounts(domainID: Int64?, offset: Int, limit: Int) throws -> [AccountRecord]
    /// How many accounts there are, optionally in one domain.
    func accountCount(domainID: Int64?) throws -> Int
    /// The address of the account with this id (sessions keep the id, which a rename keeps).
    func accountAddress(id: Int64) throws -> String?

    // MARK: Roles

    /// The accounts that may use the admin console beyond their own settings, by account id.
    func accountRoles() throws -> [Int64: AccountRole]
    /// Sets (or with nil, removes) an account's role.
    func setAccountRole(accountID: Int64, _ role: AccountRole?, audit: AuditEntry) throws

    // MARK: API tokens

    /// Adds a token (known by the hash of its secret); returns its id.
    @discardableResult
    func insertToken(_ token: TokenRecord, audit: AuditEntry?) throws -> Int64
    /// Every token, revoked ones included, by id.
    func tokens() throws -> [TokenRecord]
    /// The token with this secret hash, revoked or not.
    func token(secretHash: String) throws -> TokenRecord?
    /// Marks a token revoked at `at`; ``StoreError/notFound(_:)`` when there is none.
    func revokeToken(id: Int64, at: Date, audit: AuditEntry?) throws
    func markTokenUsed(id: Int64, at: Date) throws

    // MARK: App passwords

    /// Adds an app password (known by the hash of its secret); returns its id.
    func insertAppPassword(accountID: Int64, name: String, secretHash: String, at: Date, audit: AuditEntry) throws
        -> Int64
    /// An account's app passwords, by name.
    func appPasswords(accountID: Int64) throws -> [AppPasswordRecord]
    /// The app password of the account with this hash, if any.
    func appPassword(accountID: Int64, secretHash: String) throws -> AppPasswordRecord?
    func markAppPasswordUsed(id: Int64, at: Date) throws
    /// Removes one of the account's app passwords; ``StoreError/notFound(_:)`` when the account
    /// has none with this id.
    func deleteAppPassword(accountID: Int64, id: Int64, audit: AuditEntry) throws

    // MARK: TOTP

    func totp(accountID: Int64) throws -> TOTPRecord?
    /// Stores (or with nil, removes) an account's TOTP state.
    func setTOTP(accountID: Int64, _ totp: TOTPRecord?, audit: AuditEntry?) throws
    /// Uses up a TOTP step (it must be later than the last one used) or a recovery code (it
    /// must still be there, and then is not): true only for the one sign-in that used it first.
    func consumeTOTP(accountID: Int64, step: Int64?, recoveryHash: String?) throws -> Bool

    // MARK: Password reset links

    /// Adds a reset link (known by the hash of its token) for an account, live until `expires`.
    func insertPasswordReset(tokenHash: String, accountID: Int64, expires: Date, audit: AuditEntry) throws
    /// The account a live reset link is for; with `consume`, the link is used up by this, so
    /// that it answers once. Expired links are forgotten.
    func passwordReset(tokenHash: String, now: Date, consume: Bool) throws -> Int64?

    // MARK: Console sessions

    func insertConsoleSession(_ s: ConsoleSessionRecord) throws
    func consoleSession(idHash: String) throws -> ConsoleSessionRecord?
    func touchConsoleSession(idHash: String, at: Date, verified: Bool) throws
    /// Ends one session, or with nil every session of the account ("sign out everywhere");
    /// returns how many ended.
    @discardableResult
    func deleteConsoleSessions(accountID: Int64, idHash: String?) throws -> Int
    /// Drops sessions idle since `idleBefore` or created before `createdBefore`; returns how many.
    @discardableResult
    func expireConsoleSessions(idleBefore: Date, createdBefore: Date) throws -> Int
}

extension SQLiteStore: DirectoryStore {}
