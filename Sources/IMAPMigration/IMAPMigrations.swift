import Delivery
import Directory
import Foundation
import IMAPClient
import MailCore
import NIOSSL
import Storage
import Synchronization

/// The IMAP migrations the server runs for `mailroom migrate imap` (`POST
/// /api/v1/migrations/imap`): started on request, read while they run, kept a while after.
/// Server admins only: the server connects to whatever host it is told.
public final class IMAPMigrations: Sendable {
    let delivery: LocalDelivery
    let maxMessageSize: Int
    private let jobs = Mutex<[(id: String, job: IMAPMigrationJob)]>([])
    /// Finished jobs kept for reading their report.
    static let keep = 20

    public init(delivery: LocalDelivery, maxMessageSize: Int) {
        self.delivery = delivery
        self.maxMessageSize = maxMessageSize
    }

    /// Checks the request (every address an account here, a password or a master user for
    /// each, TLS as asked) and starts the job; returns its first view.
    ///
    /// The other server is `host`:`port`, reached with `security` `tls` (imaps), `starttls`, or
    /// `plain` (loopback only), trusting the certificates in `caFile` instead of the system's,
    /// or (`insecure`) any. Each account is a login there with its password (none with a
    /// master user, Dovecot's, that opens each login) and the address of the account here.
    /// `map`: `Source/Name=Our/Name` overrides; `exclude`: source folder patterns (`*`, `?`)
    /// not to copy. `final`: the last pass before a cutover, which also compares every folder
    /// with the source. `parallel`: accounts copied at once.
    public func start(
        host: String, port: Int, security: String, caFile: String? = nil, insecure: Bool = false,
        accounts: [(login: String, password: String?, address: String)], masterUser: String? = nil, masterPassword: String? = nil,
        map: [String] = [], exclude: [String] = [], dryRun: Bool = false, final: Bool = false, parallel: Int = 4,
        timeoutSeconds: Int = 120, actor: AdminActor
    ) throws -> IMAPMigrationView {
        let directory = delivery.directory
        try directory.requireServerAdmin(actor, "migrate mail from another server")
        guard let security = IMAPClientSecurity(rawValue: security) else {
            throw AdminError.invalid("invalid_security", "security is tls, starttls or plain, not \(security)")
        }
        guard !host.isEmpty, (1...65535).contains(port) else {
            throw AdminError.invalid("invalid_source", "give the other server as host and port (1–65535)")
        }
        guard !accounts.isEmpty else { throw AdminError.invalid("no_accounts", "no accounts to migrate") }
        var context: NIOSSLContext? = nil
        if security != .plain {
            var tls = TLSConfiguration.makeClientConfiguration()
            if insecure {
                tls.certificateVerification = .none
            } else if let ca = caFile {
                tls.trustRoots = .file(ca)
            }
            do { context = try NIOSSLContext(configuration: tls) } catch {
                throw AdminError.invalid("invalid_tls", "cannot set up TLS: \(error)")
            }
        }
        let configuration = IMAPClientConfiguration(
            host: host, port: port, security: security, sslContext: context,
            timeoutSeconds: Int64(timeoutSeconds))
        if security == .plain, !configuration.hostIsLoopback {
            throw AdminError.invalid(
                "plaintext_refused",
                "passwords are not sent without TLS except to a loopback address: use imaps:// or imap:// (STARTTLS)")
        }
        let mapping: FolderMapping
        do { mapping = try FolderMapping(map: map, exclude: exclude) } catch {
            throw AdminError.invalid("invalid_map", error.description)
        }
        if masterUser != nil, (masterPassword ?? "").isEmpty {
            throw AdminError.invalid("missing_master_password", "a master user needs its password")
        }
        let snapshot = directory.snapshot
        var seen: Set<String> = []
        let accounts = try accounts.enumerated().map { n, a in
            guard let address = try? EmailAddress(a.address), let record = snapshot.account(address) else {
                throw AdminError.notFound(
                    "no_such_account",
                    "line \(n + 1): \(a.address) is not an account here — create it first (mailroom account add, or mailroom import dovecot-passwd)"
                )
            }
            guard seen.insert("\(a.login)\u{0}\(record.id)").inserted else {
                throw AdminError.invalid(
                    "duplicate_account", "line \(n + 1): \(a.login) → \(a.address) is listed twice")
            }
            let password = masterUser != nil ? masterPassword ?? "" : a.password ?? ""
            guard !password.isEmpty else {
                throw AdminError.invalid(
                    "missing_password", "line \(n + 1): no password for \(a.login), and no master user")
            }
            return IMAPMigrationJob.Account(
                login: a.login, password: password, masterUser: masterUser, address: record.address.description,
                accountID: record.id)
        }
        let id = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let job = IMAPMigrationJob(
            id: id, accounts: accounts, configuration: configuration, mapping: mapping, dryRun: dryRun,
            final: final, parallel: parallel, maxMessageSize: maxMessageSize, delivery: delivery)
        let taken = jobs.withLock { list -> String? in
            // Two jobs copying into one account at once could both copy a message neither saw.
            let busy = Set(list.filter { $0.job.snapshot.state != "done" }.flatMap { $0.job.accounts.map(\.accountID) })
            if let a = accounts.first(where: { busy.contains($0.accountID) }) { return a.address }
            list.append((id, job))
            // Forget the oldest finished ones.
            while list.count > Self.keep, let old = list.firstIndex(where: { $0.job.snapshot.state == "done" }) {
                list.remove(at: old)
            }
            return nil
        }
        if let taken {
            throw AdminError.conflict(
                "migration_running", "\(taken) is being copied by a migration that is still running: wait for it to end"
            )
        }
        // Who brought whose mail in from where, like every other change (a dry run changes
        // nothing and is not recorded).
        if !dryRun {
            let source = "\(security == .tls ? "imaps" : "imap")://\(host):\(port)"
            try directory.store.write(
                [], audit: accounts.map { a in
                    directory.auditEntry(actor, "mail.migrate", target: "\(a.address) from \(a.login) at \(source) (migration \(id))")
                })
        }
        Task.detached { await job.run() }
        return job.snapshot
    }

    /// A job's progress, or its report once done.
    public func view(_ id: String, actor: AdminActor) throws -> IMAPMigrationView {
        try delivery.directory.requireServerAdmin(actor, "read migrations")
        guard let job = jobs.withLock({ $0.first { $0.id == id }?.job }) else {
            throw AdminError.notFound(
                "no_such_migration", "no migration \(id) (the server keeps the last \(Self.keep), until it restarts)")
        }
        return job.snapshot
    }
}
