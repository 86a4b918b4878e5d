import Foundation
import MailCore
import Storage

/// Why a login failed, in the words `mailroom account show` uses.
public enum LoginFailureReason: String, Sendable {
    case wrongPassword = "wrong password"
    case disabled = "account disabled"
    case noPassword = "account has no password"
    case banned = "client address banned after failed logins"
    case connectionLimit = "over the per-user connection limit"
    case wrongCode = "wrong two-factor code"
}

/// The login journal behind "why can't this user log in?": every login of an existing
/// account, success or failure, is kept (the last success per protocol, the recent failures).
/// Logins of addresses that are no account are not: they are noise an attacker controls, and
/// the log has them. A journal that cannot be written never fails the login itself.
extension DirectoryService {
    /// Why `login` (as the client typed it) did not log in, when the password check said no:
    /// nil when it names no account (nothing is recorded then).
    public func failureReason(login: String) -> LoginFailureReason? {
        guard let address = try? EmailAddress(login), let account = snapshot.account(address) else { return nil }
        if account.state != .active { return .disabled }
        return account.passwordHash == nil ? .noPassword : .wrongPassword
    }

    public func recordLoginSuccess(_ account: AccountRecord, protocol: String, ip: String) {
        try? store.recordLoginSuccess(accountID: account.id, LoginRecord(protocol: `protocol`, at: clock(), ip: ip))
    }

    /// Records a failure of `login` with `reason`, or the reason ``failureReason(login:)`` finds.
    public func recordLoginFailure(login: String, protocol: String, ip: String, reason: LoginFailureReason? = nil) {
        guard let address = try? EmailAddress(login), let account = snapshot.account(address),
            let reason = reason ?? failureReason(login: login)
        else { return }
        try? store.recordLoginFailure(
            accountID: account.id, LoginRecord(protocol: `protocol`, at: clock(), ip: ip, reason: reason.rawValue))
    }

    /// An account's view with its login history (for `account show`).
    func addLogins(to view: inout AccountView, accountID: Int64) throws {
        let history = try store.loginHistory(accountID: accountID)
        view.lastLogins = history.successes
        view.loginFailures = history.failures
    }
}

/// An account's junk classifier, for `mailroom account junk show|reset`.
extension DirectoryService {
    public func junkSummary(_ address: String, actor: AdminActor) throws -> JunkSummary {
        let account = try existingAccount(address, actor, in: snapshot)
        return try store.junkSummary(accountID: account.id)
    }

    public func resetJunk(_ address: String, actor: AdminActor) throws -> JunkSummary {
        let account = try existingAccount(address, actor, in: snapshot)
        try store.resetJunk(accountID: account.id, audit: auditEntry(actor, "account.junk.reset", target: account.address.description, domain: account.address.domain))
        return try store.junkSummary(accountID: account.id)
    }
}
