import Delivery
import Directory
import Foundation
import Logging
import LoginKit
import MailCore
import ManageSieve
import Sieve
import Storage

/// One ManageSieve connection's state (RFC 5804): not logged in, in a SASL exchange, or
/// logged in as an account. Runs on the connection's lane of the blocking pool (the store blocks); the
/// channel handler writes what it returns.
///
/// Script changes go through the same operations as `mailroom sieve put|activate|…`, audited
/// with the actor `managesieve:ADDRESS` (limited to the account's own domain and, by the
/// session, to the account itself).
final class ManageSieveSession: @unchecked Sendable {
    enum Next: Equatable {
        case read
        /// Write the output after this delay (a failed login), then read.
        case delayed(Duration)
        case startTLS
        case close
    }

    private enum State {
        case notAuthenticated
        /// AUTHENTICATE "PLAIN" without an initial response: the next line is the client's.
        case plainResponse
        case authenticated(AccountRecord)
    }

    let env: ManageSieveEnvironment
    let clientIP: String
    let loopback: Bool
    var tlsActive = false
    private var state = State.notAuthenticated
    private var errors = 0

    init(env: ManageSieveEnvironment, clientIP: String, loopback: Bool) {
        self.env = env
        self.clientIP = clientIP
        self.loopback = loopback
    }

    var isAuthenticated: Bool {
        if case .authenticated = state { return true }
        return false
    }

    /// Logins are offered over TLS, and in clear text on loopback only (as for IMAP).
    private var loginAllowed: Bool { tlsActive || (loopback && env.plaintextAuthOnLoopback) }

    /// The capability lines and `OK` (§1.7), sent as the greeting, for CAPABILITY, and again
    /// after STARTTLS.
    func capabilities(_ text: String = "Mailroom ManageSieve ready") -> [UInt8] {
        var lines: [[ManageSieveWord]] = [
            [.string("IMPLEMENTATION"), .string("Mailroom")],
            [.string("SASL"), .string(loginAllowed && !isAuthenticated ? "PLAIN" : "")],
            [.string("SIEVE"), .string(SieveExtension.allCases.map(\.rawValue).joined(separator: " "))],
        ]
        if env.tls != nil, !tlsActive, !isAuthenticated { lines.append([.string("STARTTLS")]) }
        lines.append([.string("MAXREDIRECTS"), .string(String(SieveLimits().maxRedirects))])
        if case .authenticated(let account) = state {
            lines.append([.string("OWNER"), .string(account.address.description)])
        }
        lines.append([.string("VERSION"), .string("1.0")])
        return lines.flatMap { ManageSieveResponse.data($0).bytes } + ManageSieveResponse.ok(text).bytes
    }

    func handle(_ frame: ManageSieveFramer.Frame, out: inout [UInt8]) -> Next {
        let next: Next
        switch frame {
        case .refused(let code, let text):
            next = refuse(.no(code: code, text), out: &out)
        case .words(let words):
            if case .plainResponse = state {
                guard words.count == 1, case .string(let s) = words[0] else {
                    state = .notAuthenticated
                    return refuse(.no("The SASL response is one string"), out: &out)
                }
                state = .notAuthenticated
                if s == "*" { return refuse(.no("Authentication cancelled"), out: &out) }
                return plain(s, out: &out)
            }
            do {
                next = try run(try ManageSieveCommand(words: words), out: &out)
            } catch {
                next = refuse(.no(error.message), out: &out)
            }
        }
        return next
    }

    private func refuse(_ response: ManageSieveResponse, out: inout [UInt8]) -> Next {
        errors += 1
        if errors > env.limits.maxErrors {
            out += ManageSieveResponse.bye("Too many errors; closing").bytes
            return .close
        }
        out += response.bytes
        return .read
    }

    private func run(_ command: ManageSieveCommand, out: inout [UInt8]) throws(ManageSieveParseError) -> Next {
        switch command {
        case .capability:
            out += capabilities("Capability completed")
            return .read
        case .noop(let tag):
            out +=
                ManageSieveResponse.ok(
                    code: tag.map { "TAG \(String(decoding: ManageSieveResponse.string($0), as: UTF8.self))" }, "Done"
                ).bytes
            return .read
        case .logout:
            out += ManageSieveResponse.ok("Logout completed").bytes
            return .close
        case .startTLS:
            guard env.tls != nil, !tlsActive else { return refuse(.no("TLS is not available here"), out: &out) }
            guard !isAuthenticated else { return refuse(.no("STARTTLS comes before AUTHENTICATE"), out: &out) }
            out += ManageSieveResponse.ok("Begin TLS negotiation now").bytes
            return .startTLS
        case .authenticate(let mechanism, let initial):
            guard !isAuthenticated else { return refuse(.no("Already authenticated"), out: &out) }
            guard loginAllowed else {
                return refuse(.no(code: "ENCRYPT-NEEDED", "Use STARTTLS before AUTHENTICATE"), out: &out)
            }
            guard mechanism == "PLAIN" else { return refuse(.no("Unsupported mechanism; use PLAIN"), out: &out) }
            guard let initial else {
                state = .plainResponse
                out += ManageSieveResponse.challenge("").bytes
                return .read
            }
            return plain(initial, out: &out)
        case .unauthenticate:
            guard isAuthenticated else { return refuse(.no("Not authenticated"), out: &out) }
            state = .notAuthenticated
            out += ManageSieveResponse.ok("Logged out; AUTHENTICATE again").bytes
            return .read
        default:
            guard case .authenticated(let account) = state else {
                return refuse(.no("AUTHENTICATE first"), out: &out)
            }
            return scripts(command, account, out: &out)
        }
    }

    // MARK: Login

    /// AUTHENTICATE "PLAIN" (RFC 4616): authzid NUL authcid NUL passwd, base64.
    private func plain(_ base64: String, out: inout [UInt8]) -> Next {
        guard let decoded = Data(base64Encoded: base64) else {
            return refuse(.no("Invalid base64 in the authentication exchange"), out: &out)
        }
        let parts = decoded.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard parts.count == 3, parts[0].isEmpty || parts[0].caseInsensitiveCompare(parts[1]) == .orderedSame else {
            return finishLogin(user: parts.count > 1 ? parts[1] : "?", account: nil, out: &out)
        }
        let account =
            env.authLimiter.isBanned(clientIP) ? nil : env.directory.authenticate(address: parts[1], password: parts[2])
        return finishLogin(user: parts[1], account: account, out: &out)
    }

    private func finishLogin(user: String, account: AccountRecord?, out: inout [UInt8]) -> Next {
        if env.authLimiter.isBanned(clientIP) {
            env.stats.add(MetricCatalog.authFailures, ["protocol": "managesieve", "reason": "banned"])
            env.directory.recordLoginFailure(login: user, protocol: "managesieve", ip: clientIP, reason: .banned)
            out +=
                ManageSieveResponse.no(code: "TRYLATER", "Too many failed logins from your address; try again later")
                .bytes
            return .delayed(env.authFailureDelay)
        }
        guard let account else {
            env.authLimiter.recordFailure(clientIP)
            env.stats.add(MetricCatalog.authFailures, ["protocol": "managesieve", "reason": "credentials"])
            env.directory.recordLoginFailure(login: user, protocol: "managesieve", ip: clientIP)
            env.logger.notice("ManageSieve login failed", metadata: ["client": "\(clientIP)", "user": "\(user)"])
            out += ManageSieveResponse.no("Authentication failed").bytes
            return .delayed(env.authFailureDelay)
        }
        env.authLimiter.recordSuccess(clientIP)
        env.directory.recordLoginSuccess(account, protocol: "managesieve", ip: clientIP)
        state = .authenticated(account)
        out += ManageSieveResponse.ok("Logged in").bytes
        return .read
    }

    // MARK: Scripts

    private func scripts(_ command: ManageSieveCommand, _ account: AccountRecord, out: inout [UInt8]) -> Next {
        let address = account.address.description
        let actor = AdminActor(
            name: "managesieve:\(address)", role: .domainAdmin, domains: [account.address.domain], sourceIP: clientIP)
        let delivery = env.delivery
        do {
            switch command {
            case .listScripts:
                for s in try delivery.sieveScripts(address, actor: actor) {
                    out += ManageSieveResponse.data([.string(s.name)] + (s.active ? [.atom("ACTIVE")] : [])).bytes
                }
                out += ManageSieveResponse.ok("Listscripts completed").bytes
            case .haveSpace(let name, let size):
                if let refusal = try space(name: name, size: size, account) { return refuse(refusal, out: &out) }
                out += ManageSieveResponse.ok("Putscript would succeed").bytes
            case .putScript(let name, let script):
                if let refusal = try space(name: name, size: script.utf8.count, account) {
                    return refuse(refusal, out: &out)
                }
                if let error = compile(script) { return refuse(.no(error), out: &out) }
                _ = try delivery.putSieveScript(address, name: name, script: script, actor: actor)
                out += ManageSieveResponse.ok("Putscript completed").bytes
            case .checkScript(let script):
                if let error = compile(script) { return refuse(.no(error), out: &out) }
                out += ManageSieveResponse.ok("Script is valid").bytes
            case .setActive(let name):
                if name.isEmpty {
                    _ = try delivery.deactivateSieve(address, actor: actor)
                } else {
                    _ = try delivery.activateSieveScript(address, name: name, actor: actor)
                }
                out += ManageSieveResponse.ok("Setactive completed").bytes
            case .getScript(let name):
                let s = try delivery.sieveScript(address, name: name, actor: actor)
                let text = Array((s.script ?? "").utf8)
                out += Array("{\(text.count)}\r\n".utf8) + text + [0x0D, 0x0A]
                out += ManageSieveResponse.ok("Getscript completed").bytes
            case .deleteScript(let name):
                if try env.delivery.store.sieveScript(accountID: account.id, name: name)?.active == true {
                    return refuse(
                        .no(code: "ACTIVE", "\"\(name)\" is the active script; SETACTIVE \"\" or another first"),
                        out: &out)
                }
                _ = try delivery.deleteSieveScript(address, name: name, actor: actor)
                out += ManageSieveResponse.ok("Deletescript completed").bytes
            case .renameScript(let old, let new):
                _ = try delivery.renameSieveScript(address, name: old, to: new, actor: actor)
                out += ManageSieveResponse.ok("Renamescript completed").bytes
            default:
                preconditionFailure("not a script command: \(command)")
            }
        } catch let error as AdminError {
            let code: String? =
                switch error.code {
                case "no_such_script": "NONEXISTENT"
                case "script_exists": "ALREADYEXISTS"
                default: nil
                }
            // The admin messages point at the CLI; a ManageSieve user gets one about the protocol.
            let text = code == "NONEXISTENT" ? "There is no script by that name; LISTSCRIPTS shows them" : error.message
            return refuse(.no(code: code, text), out: &out)
        } catch {
            env.logger.error("ManageSieve command failed", metadata: ["client": "\(clientIP)", "error": "\(error)"])
            return refuse(.no(code: "TRYLATER", "The server could not do that now; try again later"), out: &out)
        }
        return .read
    }

    /// Why a script of `size` octets named `name` would not be stored, if it would not (§2.5).
    private func space(name: String, size: Int, _ account: AccountRecord) throws -> ManageSieveResponse? {
        let limit = min(env.limits.maxLiteralSize, SieveLimits().maxScriptSize)
        if size > limit { return .no(code: "QUOTA/MAXSIZE", "A script is at most \(limit) octets") }
        let existing = try env.delivery.store.sieveScripts(accountID: account.id)
        if !existing.contains(where: { $0.name == name }), existing.count >= env.limits.maxScripts {
            return .no(
                code: "QUOTA/MAXSCRIPTS", "An account has at most \(env.limits.maxScripts) scripts; delete one first")
        }
        return nil
    }

    /// "line:column: message" for a script that does not compile (RFC 5804 §2.6 leaves the
    /// text to the server).
    private func compile(_ script: String) -> String? {
        do {
            _ = try SieveProgram(script)
            return nil
        } catch {
            return error.description
        }
    }
}
