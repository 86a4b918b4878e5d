import Foundation
import GRDB
import MailCore

/// One login of an account, as recorded (schema step v14-login-history): the same fields as
/// the account view shows (``LoginView``), so the history is handed over as it is read.
public typealias LoginRecord = LoginView

extension SQLiteStore {
    /// Failed logins kept per account: enough to see a pattern, too few for guessing to matter.
    public static let keptLoginFailures = 20

    /// Records a successful login: the account's last one for the protocol.
    public func recordLoginSuccess(accountID: Int64, _ login: LoginRecord) throws {
        try writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO login_success (account_id, protocol, at, ip) VALUES (?, ?, ?, ?)",
                arguments: [accountID, login.protocol, login.at.timeIntervalSince1970, login.ip])
        }
    }

    /// Records a failed login of an existing account, keeping its most recent ones only.
    public func recordLoginFailure(accountID: Int64, _ login: LoginRecord) throws {
        try writer.write { db in
            try db.execute(
                sql: "INSERT INTO login_failures (account_id, protocol, at, ip, reason) VALUES (?, ?, ?, ?, ?)",
                arguments: [accountID, login.protocol, login.at.timeIntervalSince1970, login.ip, login.reason ?? ""])
            try db.execute(
                sql: """
                    DELETE FROM login_failures WHERE account_id = ? AND id NOT IN
                        (SELECT id FROM login_failures WHERE account_id = ? ORDER BY id DESC LIMIT ?)
                    """,
                arguments: [accountID, accountID, Self.keptLoginFailures])
        }
    }

    /// An account's last successful login per protocol, and its recent failures, newest first.
    public func loginHistory(accountID: Int64) throws -> (successes: [LoginRecord], failures: [LoginRecord]) {
        try writer.read { db in
            let successes = try Row.fetchAll(
                db, sql: "SELECT * FROM login_success WHERE account_id = ? ORDER BY protocol", arguments: [accountID]
            ).map { LoginRecord(protocol: $0["protocol"], at: Date(timeIntervalSince1970: $0["at"]), ip: $0["ip"]) }
            let failures = try Row.fetchAll(
                db, sql: "SELECT * FROM login_failures WHERE account_id = ? ORDER BY id DESC", arguments: [accountID]
            ).map { LoginRecord(protocol: $0["protocol"], at: Date(timeIntervalSince1970: $0["at"]), ip: $0["ip"], reason: $0["reason"]) }
            return (successes, failures)
        }
    }
}
