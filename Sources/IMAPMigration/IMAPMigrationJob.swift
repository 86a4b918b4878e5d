import Delivery
import Foundation
import IMAP
import IMAPClient
import MailCore
import NIOSSL
import Offload
import Storage
import Synchronization

/// One run of `mailroom migrate imap`: every account's folders copied from the other server,
/// several accounts at once, each on its own connection. Progress and report are one
/// ``IMAPMigrationView``, read while it runs.
///
/// Resumable: after each batch of messages the folder's UIDVALIDITY and the highest UID up to
/// which everything is here are written (``IMAPMigrationStore/setIMAPMigrationMark(_:accountID:source:folder:)``); the next run
/// fetches only above it. A message already in the target folder (same bytes, or same
/// Message-ID and size) is not copied again, so a run interrupted between a copy and its mark,
/// or a changed UIDVALIDITY, never duplicates mail.
///
/// Incremental: each copy is recorded with its source UID and flags (in the transaction that
/// stores it; ``IMAPMigrationOrigin``), so every run also fetches the flags of the messages
/// copied before and brings what changed there: flags added or removed, and messages deleted
/// (our copy is removed). Mail that arrived here directly is never changed. A `final` run then
/// compares each folder with the source (``IMAPMigrationView/Comparison``).
final class IMAPMigrationJob: Sendable {
    struct Account: Sendable {
        var login: String
        var password: String
        /// The master user's login when opening `login` through it.
        var masterUser: String?
        var address: String
        var accountID: Int64
    }

    let id: String
    let accounts: [Account]
    let configuration: IMAPClientConfiguration
    let mapping: FolderMapping
    let dryRun: Bool
    let final: Bool
    let parallel: Int
    let maxMessageSize: Int
    let delivery: LocalDelivery
    private let view: Mutex<IMAPMigrationView>

    /// Messages fetched per UID FETCH, and at most this many bytes.
    static let batchMessages = 500
    static let batchBytes: UInt64 = 32 * 1024 * 1024

    init(
        id: String, accounts: [Account], configuration: IMAPClientConfiguration, mapping: FolderMapping, dryRun: Bool,
        final: Bool = false, parallel: Int, maxMessageSize: Int, delivery: LocalDelivery
    ) {
        self.id = id
        self.accounts = accounts
        self.configuration = configuration
        self.mapping = mapping
        self.dryRun = dryRun
        self.final = final && !dryRun
        self.parallel = max(1, parallel)
        self.maxMessageSize = maxMessageSize
        self.delivery = delivery
        self.view = Mutex(
            IMAPMigrationView(
                id: id, source: Self.sourceName(configuration), dryRun: dryRun, final: final && !dryRun,
                startedAt: Date(),
                accounts: accounts.map { IMAPMigrationView.Account(login: $0.login, address: $0.address) }))
    }

    static func sourceName(_ c: IMAPClientConfiguration) -> String {
        "\(c.security == .tls ? "imaps" : "imap")://\(c.host):\(c.port)"
    }

    var snapshot: IMAPMigrationView {
        var v = view.withLock { $0 }
        let now = Date()
        for i in v.accounts.indices where v.accounts[i].finishedAt == nil {
            v.accounts[i].seconds = v.accounts[i].startedAt.map { now.timeIntervalSince($0) } ?? 0
        }
        return v
    }

    private func update(_ account: Int, _ change: (inout IMAPMigrationView.Account) -> Void) {
        view.withLock { change(&$0.accounts[account]) }
    }

    private func updateFolder(_ account: Int, _ folder: Int, _ change: (inout IMAPMigrationView.Folder) -> Void) {
        view.withLock { change(&$0.accounts[account].folders[folder]) }
    }

    /// Runs every account, `parallel` at a time.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            while next < accounts.count, next < parallel {
                let i = next
                group.addTask { await self.runAccount(i) }
                next += 1
            }
            while await group.next() != nil {
                if next < accounts.count {
                    let i = next
                    group.addTask { await self.runAccount(i) }
                    next += 1
                }
            }
        }
        view.withLock {
            $0.state = "done"
            $0.finishedAt = Date()
        }
    }

    /// The state key of the source: server and login (one account may be fed from several).
    private func sourceKey(_ a: Account) -> String { "\(Self.sourceName(configuration))/\(a.login)" }

    private func runAccount(_ index: Int) async {
        let account = accounts[index]
        update(index) {
            $0.state = "running"
            $0.startedAt = Date()
        }
        var plans: [FolderMapping.Plan]? = nil
        var remaining = 0
        var connections = 0
        var lastError: (any Error)? = nil
        // A connection that breaks costs the folder it broke in; the account goes on with the
        // next folder on a new connection, a few times.
        while connections < 3 {
            connections += 1
            do {
                try await IMAPClientConnection.with(configuration) { imap in
                    try await imap.login(
                        user: account.masterUser ?? account.login, password: account.password,
                        authorizationIdentity: account.masterUser == nil ? nil : account.login)
                    if plans == nil {
                        let namespace = try await imap.personalNamespace()
                        let made = mapping.plan(try await imap.list(), namespacePrefix: namespace?.prefix)
                            .sorted {
                                ($0.target == "INBOX" ? 0 : 1, $0.source) < ($1.target == "INBOX" ? 0 : 1, $1.source)
                            }
                        plans = made
                        update(index) {
                            $0.folders = made.map {
                                IMAPMigrationView.Folder(
                                    source: $0.source, target: $0.target ?? "", excluded: $0.excluded)
                            }
                        }
                    }
                    while let all = plans, remaining < all.count {
                        let folder = remaining
                        remaining += 1
                        defer { update(index) { $0.foldersDone = remaining } }
                        guard all[folder].target != nil else { continue }
                        do {
                            try await copyFolder(
                                all[folder], folder: folder, account: account, index: index, imap: imap)
                        } catch let error as IMAPClientError {
                            updateFolder(index, folder) { $0.error = "\(error)" }
                            switch error {
                            case .refused: continue  // the folder could not be opened; the connection is fine
                            default: throw error
                            }
                        } catch {
                            updateFolder(index, folder) { $0.error = "\(error)" }
                        }
                    }
                }
                lastError = nil
                break
            } catch {
                lastError = error
                if case IMAPClientError.loginFailed = error { break }
                if case IMAPClientError.tlsUnavailable = error { break }
                if plans == nil { break }  // nothing learnt yet: trying again would fail the same way
                if let all = plans, remaining >= all.count { break }
            }
        }
        let failure = lastError
        update(index) {
            if let failure {
                $0.error = "\(failure)"
                $0.state = "failed"
            } else {
                $0.state = $0.hasFailures ? "failed" : "done"
            }
            $0.finishedAt = Date()
            $0.seconds = $0.startedAt.map { Date().timeIntervalSince($0) } ?? 0
        }
    }

    private func copyFolder(
        _ plan: FolderMapping.Plan, folder: Int, account: Account, index: Int, imap: IMAPClientConnection
    ) async throws {
        guard let target = plan.target else { return }
        let status = try await imap.examine(plan.wireName)
        let store = delivery.store
        let key = sourceKey(account)
        let mark = try await offload {
            try store.imapMigrationMark(accountID: account.accountID, source: key, folder: plan.source)
        }
        let uidValidity = Int64(status.uidValidity ?? 0)
        var from: UInt32 = 1
        if let mark, mark.uidValidity == uidValidity, status.uidValidity != nil {
            from = UInt32(clamping: mark.lastUID + 1)
        }
        let wanted = status.exists == 0 || from == UInt32.max ? [] : try await imap.sizes(from: from)
        let bytes = wanted.reduce(UInt64(0)) { $0 + $1.size }
        updateFolder(index, folder) {
            $0.sourceCount = Int(status.exists)
            $0.uidValidity = uidValidity
            $0.uidValidityChanged = mark != nil && mark?.uidValidity != uidValidity
            $0.newMessages = wanted.count
            $0.newBytes = Int64(bytes)
        }
        update(index) {
            $0.messagesTotal += wanted.count
            $0.bytesTotal += Int64(bytes)
        }
        guard !dryRun else { return }
        if !wanted.isEmpty {
            try await copyMessages(
                wanted, plan: plan, target: target, from: from, uidValidity: status.uidValidity.map(Int64.init),
                folder: folder, account: account, index: index, imap: imap)
        }
        guard status.uidValidity != nil else {
            // Without UIDVALIDITY no copy can be tied to a source message: nothing to follow.
            if final {
                updateFolder(index, folder) {
                    $0.error = "not compared with the source: the other server gives the folder no UIDVALIDITY"
                }
            }
            return
        }
        try await syncFolder(
            plan, folder: folder, account: account, index: index, imap: imap, uidValidity: uidValidity,
            renumbered: mark != nil && mark?.uidValidity != uidValidity, empty: status.exists == 0)
    }

    /// Copies `wanted` (UIDs and sizes, from `from` on) in batches, recording after each how far
    /// everything is here.
    private func copyMessages(
        _ wanted: [(uid: UInt32, size: UInt64)], plan: FolderMapping.Plan, target: String, from: UInt32,
        uidValidity: Int64?, folder: Int, account: Account, index: Int, imap: IMAPClientConnection
    ) async throws {
        let store = delivery.store
        let key = sourceKey(account)
        let (mailbox, stored) = try await offload {
            let m = try self.delivery.ensureMailbox(target, accountID: account.accountID)
            return (m, try store.storedMessageKeys(mailboxID: m.id))
        }
        var known = KnownMessages(stored)
        // Everything up to `safe` is here; a failed message holds it below itself, so that the
        // next run tries that message again.
        var safe = Int64(from) - 1
        var firstFailure: Int64? = nil
        func fail(_ uid: UInt32, size: UInt64, _ reason: String) {
            firstFailure = min(firstFailure ?? Int64(uid), Int64(uid))
            updateFolder(index, folder) {
                $0.failed += 1
                if $0.failures.count < 100 { $0.failures.append(.init(uid: Int64(uid), reason: reason)) }
            }
            update(index) {
                $0.messagesDone += 1
                $0.bytesDone += Int64(size)
            }
        }
        var index0 = 0
        while index0 < wanted.count {
            var end = index0
            var batchBytes: UInt64 = 0
            while end < wanted.count, end - index0 < Self.batchMessages, batchBytes < Self.batchBytes {
                batchBytes += wanted[end].size
                end += 1
            }
            let batch = wanted[index0..<end]
            let high = batch.last!.uid
            // A message over our limit is not even fetched (a huge one would only cost time).
            for big in batch where big.size > UInt64(maxMessageSize) {
                fail(
                    big.uid, size: big.size,
                    "\(big.size) bytes, larger than the limit of \(maxMessageSize) (max_append_size)")
            }
            let fetch = batch.filter { $0.size <= UInt64(maxMessageSize) }.map(\.uid)
            let expected = Set(fetch)
            if !fetch.isEmpty {
                try await imap.fetchMessages(Self.uidSet(fetch)) { m in
                    guard expected.contains(m.uid) else { return }
                    let origin = uidValidity.map {
                        IMAPMigrationOrigin(
                            accountID: account.accountID, source: key, folder: plan.source, uidValidity: $0,
                            sourceUID: Int64(m.uid), sourceFlags: Self.flags(m.flags))
                    }
                    let outcome = await copyMessage(m, to: mailbox, account: account, known: known, origin: origin)
                    switch outcome {
                    case .copied(let k, let uid):
                        known.insert(k, .init(uid: uid, owned: true))
                        updateFolder(index, folder) { $0.copied += 1 }
                    case .skipped:
                        updateFolder(index, folder) { $0.skipped += 1 }
                    case .failed(let reason):
                        fail(m.uid, size: m.size, reason)
                        return
                    }
                    update(index) {
                        $0.messagesDone += 1
                        $0.bytesDone += Int64(m.size)
                    }
                }
            }
            // Messages listed but not sent (expunged meanwhile) are gone: nothing to copy.
            safe = Int64(high)
            if let f = firstFailure { safe = min(safe, f - 1) }
            if let uidValidity, safe >= 0 {
                let newMark = IMAPMigrationMark(uidValidity: uidValidity, lastUID: safe)
                try await offload {
                    try store.setIMAPMigrationMark(
                        newMark, accountID: account.accountID, source: key, folder: plan.source)
                }
            }
            index0 = end
        }
    }

    /// Brings what changed on the source since the messages were copied: flags, and deletions.
    /// Fetches the flags of every message of the folder (`UID FETCH 1:*`, no bodies); a final
    /// pass also compares the folder with ours.
    private func syncFolder(
        _ plan: FolderMapping.Plan, folder: Int, account: Account, index: Int, imap: IMAPClientConnection,
        uidValidity: Int64, renumbered: Bool, empty: Bool
    ) async throws {
        let store = delivery.store
        let key = sourceKey(account)
        let links = try await offload {
            try store.imapMigrationLinks(
                accountID: account.accountID, source: key, folder: plan.source, uidValidity: uidValidity)
        }
        guard final || !links.isEmpty else { return }
        // (`1:*` in an empty folder is refused by some servers.)
        let now = empty ? [] : try await imap.flags(through: nil)
        // A folder that holds messages listed as holding none would take every copy with it.
        guard empty || !now.isEmpty else {
            throw UnlikelyListing()
        }
        var byUID: [Int64: [String]?] = [:]
        for m in now { byUID.updateValue(m.flags.map(Self.flags), forKey: Int64(m.uid)) }
        var changed: [Int64: [String]] = [:]
        var gone: Set<Int64> = []
        for link in links {
            guard let flags = byUID[link.sourceUID] else {
                // A UID is never used again under one UIDVALIDITY: the message was deleted there.
                gone.insert(link.sourceUID)
                continue
            }
            if let flags, !Self.sameFlags(flags, link.sourceFlags) { changed[link.sourceUID] = flags }
        }
        let result = try await offload { [changed, gone] in
            try store.syncIMAPMigration(
                accountID: account.accountID, source: key, folder: plan.source, uidValidity: uidValidity,
                flags: changed, gone: gone)
        }
        if result.expunged > 0 { delivery.forgetUsage(of: account.accountID) }
        if renumbered, view.withLock({ $0.accounts[index].folders[folder].failed == 0 }) {
            // Compared again under the new UIDVALIDITY: what the old numbers said is no longer true.
            try await offload {
                try store.forgetIMAPMigrationLinks(
                    accountID: account.accountID, source: key, folder: plan.source, except: uidValidity)
            }
        }
        updateFolder(index, folder) {
            $0.flagsChanged += result.flagsChanged
            $0.expunged += result.expunged
        }
        guard final else { return }
        let after = try await offload {
            try store.imapMigrationLinks(
                accountID: account.accountID, source: key, folder: plan.source, uidValidity: uidValidity)
        }
        let linked = Dictionary(after.map { ($0.sourceUID, $0) }, uniquingKeysWith: { a, _ in a })
        var c = IMAPMigrationView.Comparison()
        for m in now {
            c.sourceCount += 1
            c.sourceBytes += Int64(m.size)
            guard let link = linked[Int64(m.uid)], let ours = link.flags else {
                if c.missing.count < 100 { c.missing.append(Int64(m.uid)) }
                continue
            }
            c.here += 1
            c.hereBytes += link.size ?? 0
            // A message that arrived here directly keeps its own flags (and trace headers).
            guard link.owned else { continue }
            if let flags = m.flags, !Self.sameFlags(Self.flags(ours), Self.flags(flags)) { c.flagsDiffer += 1 }
            if link.size != Int64(m.size) { c.sizeDiffers += 1 }
        }
        updateFolder(index, folder) { $0.comparison = c }
    }

    /// The server answered a folder's listing with no message while it holds some: bringing
    /// deletions from it would remove every copy (the connection goes on with the next folder).
    struct UnlikelyListing: Error, CustomStringConvertible {
        var description: String {
            "the server listed no message of a folder that holds some: no flag change or deletion brought"
        }
    }

    /// The same flags, in any order and case.
    static func sameFlags(_ a: [String], _ b: [String]) -> Bool {
        Set(a.map { $0.lowercased() }) == Set(b.map { $0.lowercased() })
    }

    /// UIDs as a sequence set, runs joined: `1:4,7,9:10`.
    static func uidSet(_ uids: [UInt32]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = uids.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i]):\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    enum MessageOutcome {
        case copied(KnownMessages.Key, uid: Int64)
        case skipped
        case failed(String)
    }

    private func copyMessage(
        _ m: IMAPFetchedMessage, to mailbox: MailboxRecord, account: Account, known: KnownMessages,
        origin: IMAPMigrationOrigin?
    ) async -> MessageOutcome {
        guard let data = m.data, !data.isEmpty else { return .failed("empty message") }
        guard data.count <= maxMessageSize else {
            return .failed("\(data.count) bytes, larger than the limit of \(maxMessageSize) (max_append_size)")
        }
        let flags = Self.flags(m.flags)
        let date = m.internalDate ?? Date()
        do {
            let (outcome, key) = try await offload {
                try self.delivery.importMessage(
                    data, to: mailbox.id, accountID: account.accountID, address: account.address, flags: flags,
                    internalDate: date, known: known, origin: origin)
            }
            if case .copied(let uid) = outcome { return .copied(key, uid: uid) }
            return .skipped
        } catch MailboxError.overQuota {
            return .failed("over the account's quota")
        } catch {
            return .failed("\(error)")
        }
    }

    /// The flags to keep: system flags spelled as we spell them, keywords as they are;
    /// \Recent is the session's, not the message's.
    static func flags(_ flags: [String]) -> [String] {
        var out: [String] = []
        for f in flags {
            if f.hasPrefix("\\") {
                guard
                    let system = ["\\Seen", "\\Answered", "\\Flagged", "\\Draft", "\\Deleted"].first(where: {
                        $0.caseInsensitiveCompare(f) == .orderedSame
                    })
                else { continue }
                if !out.contains(system) { out.append(system) }
            } else if !out.contains(f) {
                out.append(f)
            }
        }
        return out
    }

    private func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingPool.shared.run(body)
    }
}
