import Directory
import Foundation
import Logging
import IMAP
import LoginKit
import MailCore
import Storage

/// LOGIN and AUTHENTICATE (PLAIN with SASL-IR, SCRAM-SHA-256), with the same failure delays
/// and per-address bans as SMTP.
extension IMAPSession {
    func checkPassword(user: String, password: String) -> AccountRecord? {
        if env.authLimiter.isBanned(clientIP) { return nil }
        return env.directory.authenticate(address: user, password: password)
    }

    /// Ends a login attempt: `OK` and the authenticated state, or `NO` after the delay.
    func finishLogin(user: String, account: AccountRecord?, out: ResponseWriter) -> Next {
        let tag = pendingTag
        sasl = nil
        if env.authLimiter.isBanned(clientIP) {
            env.stats.add(MetricCatalog.authFailures, ["protocol": "imap", "reason": "banned"])
            env.directory.recordLoginFailure(login: user, protocol: "imap", ip: clientIP, reason: .banned)
            let text = "Too many failed logins from your address; try again later"
            out.write(.tagged(tag, .no, code: "UNAVAILABLE", text))
            return .delayed(env.authFailureDelay)
        }
        guard let account else {
            env.authLimiter.recordFailure(clientIP)
            env.stats.add(MetricCatalog.authFailures, ["protocol": "imap", "reason": "credentials"])
            env.directory.recordLoginFailure(login: user, protocol: "imap", ip: clientIP)
            env.logger.notice("IMAP login failed", metadata: ["client": "\(clientIP)", "user": "\(user)"])
            out.write(.tagged(tag, .no, code: "AUTHENTICATIONFAILED", "Authentication failed"))
            return .delayed(env.authFailureDelay)
        }
        env.authLimiter.recordSuccess(clientIP)
        guard env.userConnections.acquire(account.address.key) else {
            env.directory.recordLoginFailure(login: user, protocol: "imap", ip: clientIP, reason: .connectionLimit)
            out.write(.tagged(tag, .no, code: "LIMIT", "Too many connections for \(account.address); close some first"))
            return .read
        }
        logIn(account)
        env.directory.recordLoginSuccess(account, protocol: "imap", ip: clientIP)
        out.write(.tagged(tag, .ok, code: capabilityCode, "Logged in"))
        return .read
    }

    /// Gives back the user's connection slot (the connection closed).
    func releaseUser() {
        if let account { env.userConnections.release(account.address.key) }
    }

    func startAuthentication(mechanism: String, initial: String?, out: ResponseWriter) -> Next {
        switch mechanism {
        case "PLAIN":
            sasl = .plain
        case "SCRAM-SHA-256":
            sasl = .scramFirst
        default:
            let text = "Unsupported mechanism \(mechanism.prefix(40)); use PLAIN or SCRAM-SHA-256"
            out.write(.tagged(pendingTag, .no, code: "CANNOT", text))
            return .read
        }
        guard let initial else {
            out.write(.continuation(""))
            return .saslLine
        }
        // RFC 4959: "=" is an empty initial response.
        return continueAuthentication(Array((initial == "=" ? "" : initial).utf8), out: out)
    }

    /// One line of the SASL exchange (base64, or "*" to cancel).
    func continueAuthentication(_ line: [UInt8], out: ResponseWriter) -> Next {
        let tag = pendingTag
        var text = String(decoding: line, as: UTF8.self)
        while text.hasSuffix("\r\n") || text.hasSuffix("\n") { text.removeLast() }
        if text == "*" {
            sasl = nil
            return bad(tag: tag, "Authentication cancelled", out: out)
        }
        guard let decoded = Data(base64Encoded: text) else {
            sasl = nil
            return bad(tag: tag, "Invalid base64 in the authentication exchange", out: out)
        }
        switch sasl {
        case .plain:
            // authzid NUL authcid NUL passwd (RFC 4616)
            let parts = decoded.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard parts.count == 3, parts[0].isEmpty || parts[0].caseInsensitiveCompare(parts[1]) == .orderedSame else {
                return finishLogin(user: parts.count > 1 ? parts[1] : "?", account: nil, out: out)
            }
            return finishLogin(user: parts[1], account: checkPassword(user: parts[1], password: parts[2]), out: out)
        case .scramFirst:
            var server = SCRAMServer()
            switch server.start(String(decoding: decoded, as: UTF8.self), lookup: { self.env.directory.scramCredentials(for: $0) }) {
            case .challenge(let first):
                sasl = .scramFinal(server)
                out.write(.continuation(Data(first.utf8).base64EncodedString()))
                return .saslLine
            case .failure(let user):
                return finishLogin(user: user ?? "?", account: nil, out: out)
            case .success(let user, _):
                return finishLogin(user: user, account: nil, out: out)
            }
        case .scramFinal(var server):
            switch server.finish(String(decoding: decoded, as: UTF8.self)) {
            case .success(let user, let serverFinal):
                sasl = .scramDone(user: user)
                out.write(.continuation(Data(serverFinal.utf8).base64EncodedString()))
                return .saslLine
            case .failure(let user):
                return finishLogin(user: user ?? "?", account: nil, out: out)
            case .challenge:
                return finishLogin(user: "?", account: nil, out: out)
            }
        case .scramDone(let user):
            // The proof was right; the account must still be there and active.
            let account = (try? EmailAddress(user)).flatMap { env.directory.snapshot.account($0) }.flatMap { $0.state == .active ? $0 : nil }
            return finishLogin(user: user, account: account, out: out)
        case nil:
            return bad(tag: tag, "No authentication under way", out: out)
        }
    }
}
