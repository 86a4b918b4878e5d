import Delivery
import Directory
import Foundation
import Logging
import IMAP
import LoginKit
import MailCore
import Storage

/// One IMAP connection's protocol state: it takes framed commands and writes responses,
/// reading and changing the mail store as the commands say (mox's `imapserver` shape).
///
/// Not thread-safe by design: the connection runs every call on its own lane of the blocking pool, one at a
/// time, off the event loops (store reads and writes block).
final class IMAPSession: @unchecked Sendable {
    /// Where the session is in RFC 9051 §3, with what each state has: the compiler rules out
    /// an account before login or a mailbox outside the selected state.
    enum State {
        case notAuthenticated
        case authenticated(AccountRecord)
        case selected(AccountRecord, SelectedMailbox)
        /// After LOGOUT, with the account that was logged in, if any: its connection slot is
        /// given back when the connection closes (``releaseUser()``).
        case logout(AccountRecord?)
    }

    /// What the connection must do after a command.
    enum Next: Equatable {
        case read
        case close
        /// Send nothing more in clear text; put TLS in front, then read.
        case startTLS
        /// Wait for DONE; report mailbox changes as they happen.
        case idle
        /// Read one SASL line for ``continueAuthentication(_:out:)``.
        case saslLine
        /// A failed login: answer after the failure delay.
        case delayed(Duration)
        /// The command stopped between two messages because the client is behind: once the
        /// connection has sent what is written and can take more, it runs the rest (on the
        /// session's lane), and that says what comes next.
        case more(Resume)
    }

    /// The rest of a command that stopped to let the client catch up (``Next/more(_:)``).
    final class Resume: Equatable, Sendable {
        let run: @Sendable (IMAPSession, ResponseWriter) -> Next

        init(_ run: @escaping @Sendable (IMAPSession, ResponseWriter) -> Next) {
            self.run = run
        }

        static func == (a: Resume, b: Resume) -> Bool { a === b }
    }

    /// Runs the rest of the command tagged `tag`: what it throws is answered as
    /// ``run(_:out:_:)`` answers it.
    func resuming(tag: String, out: ResponseWriter, _ body: () throws -> Next) -> Next {
        do {
            return try body()
        } catch {
            return respond(to: error, tag: tag, out: out)
        }
    }

    let env: IMAPEnvironment
    let clientIP: String
    var tlsActive: Bool
    let loopback: Bool
    /// Changed only by the transitions in this file.
    private(set) var state = State.notAuthenticated
    var enabled: Set<String> = []
    var badCommands = 0
    /// The tag of the command under way (IDLE, AUTHENTICATE).
    var pendingTag = ""
    var sasl: SASLExchange?
    /// Called when the selected mailbox changes in the store (set by the connection).
    var onMailboxChange: (@Sendable () -> Void)?

    enum SASLExchange {
        case plain
        case scramFirst
        case scramFinal(SCRAMServer)
        case scramDone(user: String)
    }

    init(env: IMAPEnvironment, clientIP: String, tlsActive: Bool, loopback: Bool) {
        self.env = env
        self.clientIP = clientIP
        self.tlsActive = tlsActive
        self.loopback = loopback
        env.liveSessions.add(1)
    }

    deinit {
        if case .selected(_, let selected) = state {
            env.store.changes.unsubscribe(mailbox: selected.id, token: selected.token)
        }
        env.liveSessions.add(-1)
    }

    /// The account's quota in bytes (0: none) as the administrator set it now, not at login.
    var quota: Int64 {
        guard let account else { return 0 }
        return env.directory.snapshot.account(account.address)?.quotaBytes ?? account.quotaBytes
    }

    /// Logins allowed: over TLS, or on loopback when the configuration allows it.
    var loginAllowed: Bool { tlsActive || (loopback && env.plaintextAuthOnLoopback) }
    var utf8Names: Bool { enabled.contains("UTF8=ACCEPT") || enabled.contains("IMAP4REV2") }
    var condstore: Bool { enabled.contains("CONDSTORE") || enabled.contains("QRESYNC") }
    var qresync: Bool { enabled.contains("QRESYNC") }

    /// A CONDSTORE-enabling command (RFC 7162 §3.1: FETCH or SEARCH with MODSEQ, STORE with
    /// UNCHANGEDSINCE, …): the first one while a mailbox is selected is answered with the
    /// mailbox's HIGHESTMODSEQ, which the client uses as its starting point.
    func enableCondstore(out: ResponseWriter) {
        guard !condstore else { return }
        enabled.insert("CONDSTORE")
        if let sel = selected { out.write(.untagged(.ok, code: "HIGHESTMODSEQ \(sel.modseq)", "Highest")) }
    }
    var rev2: Bool { enabled.contains("IMAP4REV2") }

    var capabilities: [String] {
        var caps = ["IMAP4rev1", "IMAP4rev2"]
        if case .notAuthenticated = state {
            if !tlsActive && env.tls != nil { caps.append("STARTTLS") }
            if loginAllowed {
                caps += ["AUTH=PLAIN", "AUTH=SCRAM-SHA-256"]
            } else {
                caps.append("LOGINDISABLED")
            }
            caps += ["SASL-IR"]
        }
        caps += [
            "LITERAL+", "ENABLE", "ID", "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "CHILDREN", "SPECIAL-USE",
            "CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE", "ESEARCH", "SEARCHRES", "CONDSTORE", "QRESYNC",
            "QUOTA", "QUOTA=RES-STORAGE", "APPENDLIMIT=\(env.limits.maxAppendSize)", "UTF8=ACCEPT", "BINARY",
            "SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "ESORT", "WITHIN",
        ]
        return caps
    }

    /// The CAPABILITY response code of the greeting and of a login's `OK`.
    var capabilityCode: String { "CAPABILITY " + capabilities.joined(separator: " ") }

    func greeting() -> [UInt8] {
        IMAPResponse.untagged(.ok, code: capabilityCode, "\(env.hostname) Mailroom IMAP ready").bytes
    }

    /// A parsed command's name as the client wrote it, upper-case (`FETCH`, `UID FETCH`): a
    /// metrics label from the small set of commands the parser accepts.
    static func commandName(_ bytes: [UInt8]) -> String {
        let words = bytes.prefix(64).split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard words.count > 1 else { return "?" }
        func word(_ i: Int) -> String {
            String(decoding: words[i].prefix { $0 != 13 && $0 != 10 && $0 != UInt8(ascii: "{") }, as: UTF8.self).uppercased()
        }
        let name = word(1)
        return name == "UID" && words.count > 2 ? "UID " + word(2) : name
    }

    /// One framed command.
    func handle(_ bytes: [UInt8], out: ResponseWriter) -> Next {
        run(bytes, out: out) { try execute($0, out: out) }
    }

    /// Parses a framed command and counts it, then `body` carries it out. A command that does
    /// not parse is answered `BAD`; what `body` throws is answered as `respond(to:)` says.
    func run(_ bytes: [UInt8], out: ResponseWriter, _ body: (TaggedCommand) throws -> Next) -> Next {
        let tagged: TaggedCommand
        do {
            tagged = try IMAPCommandParser.parse(bytes, limits: env.limits)
        } catch let e as IMAPParseError {
            return bad(tag: e.tag ?? "*", e.text, out: out)
        } catch {
            return bad(tag: "*", "Invalid command", out: out)
        }
        env.stats.add(MetricCatalog.imapCommands, ["command": Self.commandName(bytes)])
        do {
            return try body(tagged)
        } catch {
            return respond(to: error, tag: tagged.tag, out: out)
        }
    }

    /// A command that failed: `BAD` or `NO` with its response code, as the error says.
    func respond(to error: any Error, tag: String, out: ResponseWriter) -> Next {
        switch error {
        case IMAPError.bad(let text):
            return bad(tag: tag, text, out: out)
        case IMAPError.no(let code, let text):
            out.write(.tagged(tag, .no, code: code, text))
        case let e as MailboxError:
            let (code, text) = Self.describe(e)
            out.write(.tagged(tag, .no, code: code, text))
        default:
            env.logger.error("IMAP command failed", metadata: ["client": "\(clientIP)", "error": "\(error)"])
            out.write(.tagged(tag, .no, code: "SERVERBUG", "The server could not do this; try again later"))
        }
        return .read
    }

    func bad(tag: String, _ text: String, out: ResponseWriter) -> Next {
        badCommands += 1
        out.write(.tagged(tag, .bad, text))
        if badCommands >= env.limits.maxBadCommands {
            out.write(.bye("Too many invalid commands"))
            return .close
        }
        return .read
    }

    /// The store's refusal as a `NO`'s response code and text.
    static func describe(_ e: MailboxError) -> (code: String, text: String) {
        switch e {
        case .nonexistent(let name): return ("NONEXISTENT", "Mailbox \(name) does not exist")
        case .alreadyExists(let name): return ("ALREADYEXISTS", "Mailbox \(name) already exists")
        case .hasChildren(let name):
            return ("HASCHILDREN", "Mailbox \(name) has mailboxes under it; delete those first")
        case .cannotDelete(let name): return ("CANNOT", "Mailbox \(name) cannot be deleted")
        case .overQuota: return ("OVERQUOTA", "Over quota: delete some mail first")
        }
    }

    func execute(_ tagged: TaggedCommand, out: ResponseWriter) throws -> Next {
        let tag = tagged.tag
        switch tagged.command {
        case .capability:
            out.write(.capability(capabilities))
            return ok(tag, "CAPABILITY completed", out: out)
        case .noop, .check:
            try requireSelectedIfCheck(tagged.command)
            reportChanges(out: out, expunges: true)
            return ok(tag, "\(tagged.command == .check ? "CHECK" : "NOOP") completed", out: out)
        case .logout:
            out.write(.bye("Logging out"))
            out.write(.tagged(tag, .ok, "LOGOUT completed"))
            logOut()
            return .close
        case .id:
            out.write(.id(["name", "Mailroom"]))
            return ok(tag, "ID completed", out: out)
        case .starttls:
            guard case .notAuthenticated = state else { throw IMAPError.bad("STARTTLS only before login") }
            guard !tlsActive, env.tls != nil else { throw IMAPError.bad("TLS is already active or not available") }
            out.write(.tagged(tag, .ok, "Begin TLS negotiation now"))
            return .startTLS
        case .login(let user, let password):
            try requireNotAuthenticated()
            guard loginAllowed else { throw IMAPError.no("PRIVACYREQUIRED", "Logins need TLS: use STARTTLS or port 993") }
            pendingTag = tag
            return finishLogin(user: user, account: checkPassword(user: user, password: password), out: out)
        case .authenticate(let mechanism, let initial):
            try requireNotAuthenticated()
            guard loginAllowed else { throw IMAPError.no("PRIVACYREQUIRED", "Logins need TLS: use STARTTLS or port 993") }
            pendingTag = tag
            return startAuthentication(mechanism: mechanism, initial: initial, out: out)
        case .enable(let caps):
            try requireAuthenticated()
            var now: [String] = []
            for c in caps where ["CONDSTORE", "QRESYNC", "UTF8=ACCEPT", "IMAP4REV2"].contains(c) && !enabled.contains(c) {
                enabled.insert(c)
                now.append(c)
            }
            if !now.isEmpty { out.write(.enabled(now)) }
            return ok(tag, "ENABLE completed", out: out)
        case .namespace:
            try requireAuthenticated()
            out.write(.namespace(personal: ""))
            return ok(tag, "NAMESPACE completed", out: out)
        case .select(let name, let params), .examine(let name, let params):
            var readOnly = false
            if case .examine = tagged.command { readOnly = true }
            return try select(name, params, readOnly: readOnly, tag: tag, out: out)
        case .create(let name, let uses): return try create(name, uses, tag: tag, out: out)
        case .delete(let name): return try delete(name, tag: tag, out: out)
        case .rename(let from, let to): return try rename(from, to, tag: tag, out: out)
        case .subscribe(let name), .unsubscribe(let name):
            let account = try authenticatedAccount()
            let mailbox = try mailboxName(name)
            var subscribe = false
            if case .subscribe = tagged.command { subscribe = true }
            try env.store.setSubscribed(accountID: account.id, name: mailbox, subscribe)
            return ok(tag, "\(subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE") completed", out: out)
        case .list(let list): return try self.list(list, tag: tag, out: out)
        case .lsub(let reference, let pattern): return try lsub(reference, pattern, tag: tag, out: out)
        case .status(let name, let items): return try status(name, items, tag: tag, out: out)
        case .append(let name, let flags, let date, let message): return try append(name, flags, date, message, tag: tag, out: out)
        case .idle:
            try requireAuthenticated()
            pendingTag = tag
            out.write(.continuation("idling"))
            reportChanges(out: out, expunges: true)
            return .idle
        case .getQuota(let root): return try getQuota(root, tag: tag, out: out)
        case .getQuotaRoot(let name): return try getQuotaRoot(name, tag: tag, out: out)
        case .setQuota:
            try requireAuthenticated()
            throw IMAPError.no("NOPERM", "Quotas are set by the administrator (mailroom account update --quota)")
        case .close, .unselect:
            let sel = try selectedMailbox()
            if tagged.command == .close, !sel.readOnly {
                // CLOSE expunges silently (RFC 9051 §6.4.1).
                _ = try env.store.expunge(mailboxID: sel.id, uids: nil)
                env.delivery.forgetUsage(of: try authenticatedAccount().id)
            }
            deselect()
            return ok(tag, "\(tagged.command == .close ? "CLOSE" : "UNSELECT") completed", out: out)
        case .expunge:
            return try expunge(uids: nil, tag: tag, out: out)
        case .uidExpunge(let set):
            return try expunge(uids: set, tag: tag, out: out)
        case .search(let search, let uid):
            return try self.search(search, uid: uid, tag: tag, out: out)
        case .sort(let sort, let uid):
            return try self.sort(sort, uid: uid, tag: tag, out: out)
        case .thread(let thread, let uid):
            return try self.thread(thread, uid: uid, tag: tag, out: out)
        case .fetch(let set, let items, let modifiers, let uid):
            return try fetch(set, items, modifiers, uid: uid, tag: tag, out: out)
        case .store(let set, let flags, let unchangedSince, let uid):
            return try store(set, flags, unchangedSince: unchangedSince, uid: uid, tag: tag, out: out)
        case .copy(let set, let name, let uid):
            return try copy(set, to: name, move: false, uid: uid, tag: tag, out: out)
        case .move(let set, let name, let uid):
            return try copy(set, to: name, move: true, uid: uid, tag: tag, out: out)
        }
    }

    func ok(_ tag: String, code: String? = nil, _ text: String, out: ResponseWriter) -> Next {
        out.write(.tagged(tag, .ok, code: code, text))
        return .read
    }

    // MARK: State

    /// The logged-in account, for a command that needs one (`BAD` before login).
    func authenticatedAccount() throws -> AccountRecord {
        switch state {
        case .authenticated(let account), .selected(let account, _): return account
        case .notAuthenticated, .logout: throw IMAPError.bad("Log in first")
        }
    }

    /// The selected mailbox as the client knows it, for a command that needs one (`BAD`
    /// otherwise). A copy: changes go through ``updateSelected(_:)``.
    func selectedMailbox() throws -> SelectedMailbox {
        guard case .selected(_, let mailbox) = state else { throw IMAPError.bad("Select a mailbox first") }
        return mailbox
    }

    /// For a command that needs the authenticated state but not the account.
    func requireAuthenticated() throws {
        _ = try authenticatedAccount()
    }

    func requireNotAuthenticated() throws {
        guard case .notAuthenticated = state else { throw IMAPError.bad("Already logged in") }
    }

    func requireSelectedIfCheck(_ c: IMAPCommand) throws {
        if c == .check { _ = try selectedMailbox() }
    }

    /// The logged-in account, if any; after LOGOUT, the one that was (its connection slot is
    /// still held).
    var account: AccountRecord? {
        switch state {
        case .authenticated(let account), .selected(let account, _): return account
        case .logout(let account): return account
        case .notAuthenticated: return nil
        }
    }

    /// The selected mailbox, if any (read-only: changes go through ``updateSelected(_:)``).
    var selected: SelectedMailbox? {
        guard case .selected(_, let mailbox) = state else { return nil }
        return mailbox
    }

    /// Whether a login has succeeded on this connection (the autologout time depends on it).
    var hasLoggedIn: Bool {
        if case .notAuthenticated = state { return false }
        return true
    }

    /// Changes the selected mailbox and writes it back; nothing (nil) when none is selected.
    ///
    /// While `change` runs the session is in the authenticated state, so the mailbox it is
    /// given is the only reference and its UID list changes in place rather than being copied
    /// (a large mailbox's list is long): `change` must read only that mailbox, not the session's.
    @discardableResult
    func updateSelected<R>(_ change: (inout SelectedMailbox) throws -> R) rethrows -> R? {
        guard case .selected(let account, var mailbox) = state else { return nil }
        state = .authenticated(account)
        defer { state = .selected(account, mailbox) }
        return try change(&mailbox)
    }

    /// LOGIN or AUTHENTICATE succeeded.
    func logIn(_ account: AccountRecord) {
        state = .authenticated(account)
    }

    /// SELECT or EXAMINE opened `mailbox` (after ``deselect()``).
    func enterSelected(_ mailbox: SelectedMailbox) {
        guard case .authenticated(let account) = state else {
            preconditionFailure("A mailbox is selected only from the authenticated state")
        }
        state = .selected(account, mailbox)
    }

    /// Leaves the selected state, if in it, and stops listening for the mailbox's changes.
    func deselect() {
        guard case .selected(let account, let mailbox) = state else { return }
        env.store.changes.unsubscribe(mailbox: mailbox.id, token: mailbox.token)
        state = .authenticated(account)
    }

    /// LOGOUT: the mailbox's changes are of no more interest; the account's connection slot
    /// stays held until the connection closes.
    func logOut() {
        deselect()
        state = .logout(account)
    }
}

/// A command that cannot be done: `BAD` (the client's mistake in the protocol) or `NO` with a
/// response code (RFC 5530).
enum IMAPError: Error {
    case bad(String)
    case no(String?, String)

    static func no(_ text: String) -> IMAPError { .no(nil, text) }
}

extension IMAPSession {
    /// The selected mailbox changed while the client idles: tell it now.
    func idleUpdate(out: ResponseWriter) {
        reportChanges(out: out, expunges: true)
    }

    /// The line that ends IDLE: `DONE`, or anything else (a protocol error, but IDLE ends).
    func endIdle(_ line: [UInt8], out: ResponseWriter) -> Next {
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.uppercased() == "DONE" else { return bad(tag: pendingTag, "Expected DONE to end IDLE", out: out) }
        return ok(pendingTag, "IDLE terminated", out: out)
    }
}
