import Directory
import Foundation
import MIME
import MailCore
import Offload
import Storage
import Synchronization

/// A message accepted by SMTP, with what is known of where it came from.
public struct InboundMessage: Sendable {
    /// nil for the null reverse-path (bounces).
    public var sender: String?
    /// RCPT TO addresses as accepted, in order.
    public var recipients: [String]
    public var data: [UInt8]
    /// The `Received:` header to put on top (with its CRLF).
    public var receivedHeader: String
    public var clientIP: String?
    public var helo: String?
    public var tls: String?
    public var authenticatedUser: String?
    /// What the inbound checks found (SPF, DKIM, DMARC), for the delivery log.
    public var checks: String?
    /// Why the message goes to the recipients' Junk folders instead of INBOX; nil for INBOX.
    public var junkReason: String?
    /// Accounts whose own copy goes to Junk though the message as a whole does not (their
    /// junk classifier tipped the score), and why.
    public var junkAccounts: [Int64: String] = [:]
    /// Why the message is held in quarantine instead of delivered; nil to deliver.
    public var quarantineReason: String?
    /// What the inbound checks found, for the ARC set added when the message is passed on to
    /// other servers (aliases and lists with external members); nil for mail from our users.
    public var arc: ARCContext?
    /// The From domain publishes DMARC `p=reject` or `p=quarantine` (lists rewrite From).
    public var strictSenderPolicy = false
    /// How many accounts' rules redirected this message on its way here (a chain is bounded).
    public var sieveRedirects = 0
    /// The SMTP client still waits for the reply to DATA, so a refusal can still be given
    /// instead of a message to the sender (a Sieve reject for the only recipient).
    public var awaitsReply = false

    public init(
        sender: String?, recipients: [String], data: [UInt8], receivedHeader: String, clientIP: String?, helo: String?,
        tls: String?, authenticatedUser: String?
    ) {
        self.sender = sender
        self.recipients = recipients
        self.data = data
        self.receivedHeader = receivedHeader
        self.clientIP = clientIP
        self.helo = helo
        self.tls = tls
        self.authenticatedUser = authenticatedUser
    }
}

/// Our authentication results for a message from outside, sealed into an ARC set (RFC 8617)
/// when we forward it, so that the next server can trust what we checked.
public struct ARCContext: Sendable, Hashable {
    /// The Authentication-Results payload: `mx.example.org; spf=pass …`.
    public var results: String
    /// ARC sets the message arrived with, and whether that chain verified.
    public var instances: Int
    public var chainPassed: Bool

    public init(results: String, instances: Int, chainPassed: Bool) {
        self.results = results
        self.instances = instances
        self.chainPassed = chainPassed
    }
}

/// The bytes one group of recipients gets, and who they are.
struct Variant {
    var data: [UInt8]
    var local: [MessageCommit.LocalCopy] = []
    var remote: [MessageCommit.RemoteCopy] = []
    var held: [MessageCommit.HeldCopy] = []
    var isEmpty: Bool { local.isEmpty && remote.isEmpty && held.isEmpty }
}

/// Why a message was refused at the end of DATA, with the SMTP reply to give.
public struct DeliveryRefusal: Error, Hashable, Sendable {
    public var code: Int
    public var enhanced: String
    public var text: String
}

/// Turns an accepted message into stored mail: one blob, a mailbox entry per local account, a
/// queue entry per remote recipient, held copies for moderated lists, and the delivery events
/// that `mailroom trace` reads — all in one group commit, after which the caller may say 250.
public final class LocalDelivery: Sendable {
    /// What delivery keeps in the store: mailboxes and the commit that fills them, the events
    /// it records, Sieve scripts, quarantine and moderation, junk training, the search index's
    /// backlog, blob records, migration state, and the store's upkeep (backup, sweep, compact).
    public typealias Store = MailboxStore & MessageCommitStore & EventStore & SieveScriptStore & QuarantineStore & JunkStore
        & SearchIndexStore & BlobRecordStore & IMAPMigrationStore & MaintenanceStore

    public let store: any Store
    public let directory: DirectoryService
    public let blobs: BlobStore
    let committer: GroupCommitter
    let indexer: SearchIndexer
    let eventFiler: EventFiler
    /// Learns each user's junk classifier from the messages moved into and out of Junk.
    public let junkTrainer: JunkTrainer
    let maxReceived: Int
    /// Messages up to this size are kept in the database, committed (and fsynced) together
    /// with their mailbox entries; larger ones become blob files, each fsynced on its own.
    public let inlineLimit: Int
    /// Bytes stored per account, loaded on first use and kept current by deliveries.
    private let usage = Mutex<[Int64: Int64]>([:])
    let refusals = Mutex<[DeliveryEvent]>([])
    private let signerBox = Mutex<(any OutboundSigner)?>(nil)
    /// Vacation replies decided but maybe not committed yet, by account, handle and sender:
    /// two messages from one sender delivered at once must not both be answered.
    let vacationsInFlight = Mutex<[String: Date]>([:])

    public init(store: any Store, directory: DirectoryService, blobs: BlobStore, maxReceivedHeaders: Int = 50, inlineLimit: Int = 256 * 1024) {
        self.inlineLimit = inlineLimit
        self.store = store
        self.directory = directory
        self.blobs = blobs
        let indexer = SearchIndexer(store: store, blobs: blobs)
        self.indexer = indexer
        let eventFiler = EventFiler(store: store)
        self.eventFiler = eventFiler
        self.committer = GroupCommitter(store: store) {
            indexer.signal()
            eventFiler.signal()
        }
        self.maxReceived = maxReceivedHeaders
        self.junkTrainer = JunkTrainer(store: store) { hash in
            if let inline = try store.inlineBlob(hash) { return inline }
            return try blobs.get(hash)
        }
        indexer.start()
        eventFiler.start()
        junkTrainer.start()
    }

    public func stop() {
        committer.stop()
        indexer.stop()
        junkTrainer.stop()
        flushRefusals()
        eventFiler.stop()
    }

    /// Adds every message still waiting to the search index now, on the caller's thread
    /// (the background indexer does the same in its own time).
    public func indexWaitingMessages() throws { try indexer.drain() }

    /// A reader went through many messages not in the search index yet: the background indexer
    /// stops waiting for a pause in the mail.
    public func indexSoon() { indexer.urge() }

    public var commitStats: (batches: Int, messages: Int) { committer.batchStats }

    /// Bytes stored for an account.
    public func usage(of accountID: Int64) -> Int64 {
        if let u = usage.withLock({ $0[accountID] }) { return u }
        let u = (try? store.mailboxUsage(accountID: accountID)) ?? 0
        usage.withLock { $0[accountID] = u }
        return u
    }

    /// A new queue id: 12 characters, time-ordered enough to read in logs.
    public static func newQueueID() -> String {
        let t = UInt64(Date().timeIntervalSince1970 * 1000) & 0xFF_FFFF_FFFF
        return String(t, radix: 16, uppercase: true) + String(UInt16.random(in: 0...UInt16.max), radix: 16, uppercase: true)
    }

    /// Stores the message durably. Returns the queue id; throws ``DeliveryRefusal`` for a
    /// message that must be refused (loops), or another error when storage failed (then the
    /// client is told to try again later).
    public func deliver(_ m: InboundMessage, queueID: String = LocalDelivery.newQueueID()) async throws -> String {
        if let reason = m.quarantineReason { return try await holdInQuarantine(m, reason: reason, queueID: queueID) }
        // Resolved, written and, when no other commit is under way, committed in one trip to
        // the blocking pool.
        let (prepared, committed) = try await BlockingPool.shared.run {
            let prepared = try self.prepareNow(m, queueID: queueID, dryRun: false)
            return (prepared, try !prepared.commits.isEmpty && self.committer.commitIfIdle(prepared.commits))
        }
        let store = self.store
        if prepared.commits.isEmpty {
            // Every recipient expanded to nobody (all skipped): keep the story all the same.
            try await BlockingPool.shared.run { try store.recordEvents(prepared.events) }
            return queueID
        }
        if !committed { try await committer.commit(prepared.commits) }
        // Messages the rules could not send (loops) are told beside the commit. Most messages
        // have none, and need no second trip to the pool.
        if !prepared.events.isEmpty { try await BlockingPool.shared.run { try store.recordEvents(prepared.events) } }
        stored(prepared)
        return queueID
    }

    /// Keeps the quota usage current after a prepared delivery was committed.
    public func stored(_ prepared: PreparedDelivery) {
        usage.withLock { u in
            for (account, size) in prepared.sizes where u[account] != nil { u[account]! += size }
        }
    }

    /// Signs mail that leaves for other domains (DKIM), when a key is configured.
    /// Rewrites the envelope sender of mail forwarded to other domains (see ``SRS``); nil
    /// forwards with the original sender.
    public var srs: SRS? {
        get { srsBox.withLock { $0 } }
        set { srsBox.withLock { $0 = newValue } }
    }
    private let srsBox = Mutex<SRS?>(nil)

    /// The envelope sender for a copy forwarded through the local `domain`: the SRS address of
    /// a sender from another domain, or the sender as it is (our own users' mail, bounces).
    func forwardingSender(_ sender: String?, via domain: String) -> String? {
        guard let sender, let srs, let at = sender.lastIndex(of: "@"),
            let senderDomain = try? DomainName(String(sender[sender.index(after: at)...])), !directory.snapshot.isLocal(senderDomain)
        else { return sender }
        return srs.forward(sender, via: domain) ?? sender
    }

    public var signer: (any OutboundSigner)? {
        get { signerBox.withLock { $0 } }
        set { signerBox.withLock { $0 = newValue } }
    }

    /// Resolves the recipients and writes the message bytes, and returns what to commit; the
    /// caller commits (alone, or with other changes in the same transaction, as the queue
    /// runner does with the bounces it sends).
    ///
    /// `dryRun` decides without writing anything: no blob, no recorded refusal, the rules run
    /// as `mailroom rules test` runs them (nothing sent or remembered), and what comes back
    /// holds no commits, only the events the message's story would have.
    public func prepare(
        _ m: InboundMessage, queueID: String = LocalDelivery.newQueueID(), dryRun: Bool = false
    ) async throws -> PreparedDelivery {
        // Resolution reads the store (rules, quota usage) and writing the bodies is disk work:
        // all of it on the blocking pool, in one hop.
        try await BlockingPool.shared.run { try self.prepareNow(m, queueID: queueID, dryRun: dryRun) }
    }

    /// ``prepare(_:queueID:dryRun:)`` on the caller's thread, which may block.
    func prepareNow(_ m: InboundMessage, queueID: String, dryRun: Bool) throws -> PreparedDelivery {
        let headers = HeaderSummary(m.data)
        let now = DirectoryService.now()
        func event(_ kind: DeliveryEvent.Kind, recipient: String?, detail: String? = nil, reply: String? = nil) -> DeliveryEvent {
            DeliveryEvent(
                at: now, queueID: queueID, messageID: headers.messageID, event: kind, sender: m.sender ?? "", recipient: recipient,
                clientIP: m.clientIP, helo: m.helo, tls: m.tls, authUser: m.authenticatedUser, detail: detail, reply: reply)
        }
        if headers.receivedCount >= maxReceived {
            let refusal = DeliveryRefusal(code: 554, enhanced: "5.4.6", text: "mail loop: \(headers.receivedCount) Received headers")
            if !dryRun { try? store.recordEvents([event(.rejected, recipient: m.recipients.joined(separator: ", "), detail: refusal.text, reply: "554 5.4.6")]) }
            throw refusal
        }
        let snapshot = directory.snapshot
        // One variant of the bytes per distribution list addressed (its List-* headers, subject
        // prefix, Reply-To), and one for everything else; each variant is one blob however many
        // mailboxes it goes to.
        var variants: [String: Variant] = ["": Variant(data: m.data)]
        var order = [""]
        var events: [DeliveryEvent] = [event(.received, recipient: nil, detail: "\(m.recipients.count) recipient(s), \(m.data.count) bytes")]
        if let checks = m.checks { events.append(event(.checked, recipient: nil, detail: checks)) }
        // Where a copy goes: Junk for the whole message, or for the accounts whose own
        // classifier said so.
        func junkPlace(_ account: Int64) -> (folder: String, specialUse: String?) {
            guard let why = m.junkReason ?? m.junkAccounts[account] else { return ("INBOX", nil) }
            return ("Junk (\(why))", "\\Junk")
        }
        var seenAccounts: Set<Int64> = []
        var seenRemote: Set<String> = []
        var followUps: [SieveDecision.FollowUp] = []
        var memory = SieveMemory()
        let returnPath = "Return-Path: <\(m.sender ?? "")>\r\n"
        for rcpt in m.recipients {
            if headers.deliveredTo.contains(rcpt.lowercased()) {
                let refusal = DeliveryRefusal(code: 554, enhanced: "5.4.6", text: "mail loop: already delivered to \(rcpt)")
                if !dryRun { try? store.recordEvents([event(.rejected, recipient: rcpt, detail: refusal.text, reply: "554 5.4.6")]) }
                throw refusal
            }
            let prefix = Array((returnPath + "Delivered-To: \(rcpt)\r\n").utf8)
            let r = snapshot.resolve(rcpt, limits: directory.limits)
            var key = ""
            if r.kind == .list, let address = try? EmailAddress(rcpt), case .list(let list)? = snapshot.resolvedEntry(address) {
                if list.postingPolicy == .moderated {
                    variants[""]!.held.append(.init(listAddress: list.address.description, headerPrefix: prefix, subject: headers.subject ?? ""))
                    events.append(event(.held, recipient: rcpt, detail: "held for a moderator of \(list.address)"))
                    continue
                }
                key = list.address.key
                if variants[key] == nil {
                    variants[key] = Variant(data: ListHeaders.apply(list, to: m.data, strictSenderPolicy: m.strictSenderPolicy))
                    order.append(key)
                }
            }
            if r.recipients.count > 1 || !(r.recipients.first?.path.isEmpty ?? true) || r.kind == .catchAll {
                events.append(event(.expanded, recipient: rcpt, detail: "\(r.kind.rawValue) → \(r.recipients.count) recipient(s)"))
            }
            for s in r.skipped {
                events.append(event(.rejected, recipient: s.address, detail: "skipped (\(s.reason.rawValue)) via \(s.path.joined(separator: " → "))"))
            }
            for target in r.recipients {
                let via = target.path.isEmpty ? nil : "via " + target.path.joined(separator: " → ")
                if let account = target.accountID {
                    guard seenAccounts.insert(account).inserted else { continue }
                    let (folder, specialUse) = junkPlace(account)
                    // The account's rules run after the spam verdict, on the bytes this
                    // account gets (a list's variant included).
                    let envelopeTo = target.path.isEmpty ? rcpt : target.address
                    if let decision = sieveDecision(
                        accountID: account, accountAddress: target.address, envelopeTo: envelopeTo, message: m, data: variants[key]!.data,
                        headerPrefix: prefix, junkUse: specialUse, now: now,
                        // A reject refuses at SMTP only when it refuses nobody else's copy.
                        mayRefuse: m.awaitsReply && m.recipients.count == 1 && r.recipients.count == 1, dryRun: dryRun)
                    {
                        if let refusal = decision.refusal {
                            if !dryRun { try? store.recordEvents(
                                [event(.rejected, recipient: target.address, detail: "script \"\(decision.script)\": refused by the account's rules", reply: "\(refusal.code) \(refusal.enhanced)")]) }
                            throw refusal
                        }
                        for copy in decision.copies {
                            variants[key]!.local.append(copy)
                            let place =
                                copy.mailbox.map { "\($0) (filed by the account's rules)" }
                                ?? (copy.specialUse == nil ? "INBOX" : folder)
                            let flags = copy.flags.isEmpty ? nil : "flags " + copy.flags.joined(separator: " ")
                            events.append(event(.stored, recipient: target.address, detail: [place, flags, via].compactMap { $0 }.joined(separator: " ")))
                        }
                        for note in decision.notes {
                            events.append(event(.filtered, recipient: target.address, detail: "script \"\(decision.script)\": " + note))
                        }
                        followUps += decision.followUps
                        memory.replies += decision.memory.replies
                        memory.seen += decision.memory.seen
                        continue
                    }
                    variants[key]!.local.append(.init(accountID: account, headerPrefix: prefix, specialUse: specialUse))
                    events.append(event(.stored, recipient: target.address, detail: [folder, via].compactMap { $0 }.joined(separator: " ")))
                } else {
                    guard seenRemote.insert(target.address.lowercased()).inserted else { continue }
                    // Forwarded (the RCPT was ours): the copy leaves with an SRS sender, so
                    // that SPF passes where it goes.
                    let rcptDomain = rcpt.split(separator: "@").last.map(String.init) ?? ""
                    let forwarded = (try? DomainName(rcptDomain)).map(snapshot.isLocal) ?? false
                    let sender = forwarded ? forwardingSender(m.sender, via: rcptDomain) : m.sender
                    variants[key]!.remote.append(.init(recipient: target.address, headerPrefix: [], sender: sender == m.sender ? nil : sender))
                    // A dry run also says with which sender the copy would leave.
                    let rewritten = dryRun && sender != m.sender ? "sent from \(sender ?? "<>") (SRS)" : nil
                    let detail = [via, rewritten].compactMap { $0 }.joined(separator: ", ")
                    events.append(event(.queued, recipient: target.address, detail: detail.isEmpty ? nil : detail))
                }
            }
        }
        if dryRun { return PreparedDelivery(commits: [], events: events, sizes: [:]) }
        let received = Array(m.receivedHeader.utf8)
        var used = order.compactMap { k in variants[k].flatMap { $0.isEmpty ? nil : (k, $0) } }
        if let signer {
            // Signed before it is queued: what leaves is exactly what was signed.
            for i in used.indices where !used[i].1.remote.isEmpty {
                if let signature = signer.signature(for: used[i].1.data, from: headers.from, sender: m.sender) {
                    used[i].1.data = Array(signature.utf8) + used[i].1.data
                }
            }
        }
        var bodies = used.map { received + $0.1.data }
        if let arc = m.arc, let signer {
            // Forwarded to other servers: seal what we found, as the forwarding domain (the
            // list's, or the domain of the address that expanded).
            let forwarder = m.recipients.lazy.compactMap { try? EmailAddress($0) }.first { snapshot.isLocal($0.domain) }?.domain.ascii
            for i in used.indices where !used[i].1.remote.isEmpty {
                let domain = used[i].0.isEmpty ? forwarder : used[i].0.split(separator: "@").last.map(String.init)
                if let domain, let set = signer.arcSet(for: bodies[i], domain: domain, context: arc) {
                    bodies[i] = Array(set.utf8) + bodies[i]
                }
            }
        }
        let hashes = try writeBodies(bodies)
        var commits: [MessageCommit] = []
        for (i, (_, v)) in used.enumerated() {
            commits.append(
                MessageCommit(
                    queueID: queueID, messageID: headers.messageID, sender: m.sender ?? "", blobHash: hashes[i],
                    blobSize: bodies[i].count, inlineData: bodies[i].count <= inlineLimit ? bodies[i] : nil,
                    receivedAt: now, local: v.local, remote: v.remote, held: v.held,
                    events: i == 0 ? events : []))
        }
        var sizes: [Int64: Int64] = [:]
        for (i, v) in used.enumerated() {
            for copy in v.1.local { sizes[copy.accountID, default: 0] += Int64(bodies[i].count + copy.headerPrefix.count) }
        }
        guard !followUps.isEmpty || !memory.isEmpty else {
            return PreparedDelivery(commits: commits, events: commits.isEmpty ? events : [], sizes: sizes)
        }
        // What the rules remember and send is committed with the message: a crash loses or
        // doubles none of it. A message the rules discarded still needs a commit for that.
        if commits.isEmpty {
            commits.append(
                MessageCommit(
                    queueID: queueID, messageID: headers.messageID, sender: m.sender ?? "", blobHash: "", blobSize: 0,
                    receivedAt: now, local: [], remote: [], held: [], events: events))
        }
        commits[0].sieve = memory
        var prepared = PreparedDelivery(commits: commits, events: [], sizes: sizes)
        for sub in try prepareFollowUps(followUps, event: { event(.filtered, recipient: nil, detail: $0) }) {
            prepared.commits += sub.commits
            prepared.events += sub.events
            prepared.sizes.merge(sub.sizes, uniquingKeysWith: +)
        }
        return prepared
    }
}

/// A message resolved and written, ready to commit.
public struct PreparedDelivery: Sendable {
    public var commits: [MessageCommit]
    /// Events the caller records beside the commits: the message's story when there is
    /// nothing to commit (every recipient was skipped), and what callers add.
    public var events: [DeliveryEvent]
    /// Bytes added per account.
    var sizes: [Int64: Int64]
}

/// Adds a signature header (DKIM) to mail leaving for other domains.
public protocol OutboundSigner: Sendable {
    /// The header field(s) to put on top of `message`, ending in CRLF, or nil when no key
    /// applies (the domain of `from`, the From: field's value, else the envelope sender's, has
    /// none).
    func signature(for message: [UInt8], from: String?, sender: String?) -> String?
    /// The ARC set (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results, ending in CRLF)
    /// to put on top of a message forwarded by `domain`, or nil when the domain has no key.
    func arcSet(for message: [UInt8], domain: String, context: ARCContext) -> String?
}

extension OutboundSigner {
    public func arcSet(for message: [UInt8], domain: String, context: ARCContext) -> String? { nil }
}

extension LocalDelivery {
    /// Hashes the bodies, and writes the large ones as blob files (fsynced, off the async
    /// executors); small ones go into the database with the commit. What IMAP serves about
    /// them (ENVELOPE, BODYSTRUCTURE) is left to the background indexer with their words: it
    /// parses each message once for both, off the path to 250.
    func writeBodies(_ bodies: [[UInt8]]) throws -> [String] {
        try bodies.map { $0.count <= inlineLimit ? BlobStore.hash($0) : try blobs.put($0) }
    }

    /// Adds a message to a mailbox (IMAP APPEND), durably, within the account's quota (bytes,
    /// 0 for none). Blocks: call it off the event loops.
    public func append(
        _ data: [UInt8], to mailboxID: Int64, accountID: Int64, quota: Int64, flags: [String], internalDate: Date,
        origin: IMAPMigrationOrigin? = nil
    ) throws -> (uidValidity: Int64, uid: Int64) {
        let hash = data.count <= inlineLimit ? BlobStore.hash(data) : try blobs.put(data)
        let headers = HeaderSummary(data)
        // Its words, ENVELOPE and BODYSTRUCTURE are left to the indexer, as a delivery's are:
        // an APPEND stores the message and its mailbox entry, and answers.
        let result = try store.appendMessage(
            NewMessage(
                blobHash: hash, blobSize: data.count, inlineData: data.count <= inlineLimit ? data : nil, meta: nil,
                flags: flags, internalDate: internalDate, messageID: headers.messageID),
            mailboxID: mailboxID, accountID: accountID, quota: quota, origin: origin)
        forgetUsage(of: accountID)
        indexer.signal()
        return result
    }

    /// Adds a message that was written to a file as it arrived (a large IMAP APPEND) to a
    /// mailbox, durably, within the account's quota (0: none): the quota is checked before the
    /// file becomes a blob, and again in the commit. The message is parsed from its file a
    /// window at a time and indexed for search in the background, so memory stays small
    /// whatever its size. The upload is finished or abandoned either way. Blocks.
    public func append(
        upload: BlobUpload, to mailboxID: Int64, accountID: Int64, quota: Int64, flags: [String], internalDate: Date
    ) throws -> (uidValidity: Int64, uid: Int64) {
        let size = upload.size
        if quota > 0, usage(of: accountID) + Int64(size) > quota {
            upload.abandon()
            throw MailboxError.overQuota
        }
        if size <= inlineLimit {
            // Small enough for the database: stored exactly as an APPEND held in memory.
            let data = try upload.contents()
            upload.abandon()
            return try append(data, to: mailboxID, accountID: accountID, quota: quota, flags: flags, internalDate: internalDate)
        }
        let hash = try upload.finish()
        let file = try blobs.file(hash)
        let outline = MessageOutline(parsing: file)
        let meta = BlobMeta(outline: outline)
        // Message-ID is read from the header only; a header of more than 1 MiB (no empty line
        // in a huge message) is read that far.
        let headers = HeaderSummary(file.copyBytes(0..<min(outline.root.headerRange.upperBound, 1 << 20)))
        if let error = file.error { throw error }
        let result = try store.appendMessage(
            NewMessage(
                blobHash: hash, blobSize: size, inlineData: nil, meta: meta, flags: flags, internalDate: internalDate,
                messageID: headers.messageID),
            mailboxID: mailboxID, accountID: accountID, quota: quota)
        forgetUsage(of: accountID)
        indexer.signal()
        return result
    }

    /// Drops the cached usage of an account after mail was removed or copied outside delivery.
    public func forgetUsage(of accountID: Int64) {
        _ = usage.withLock { $0.removeValue(forKey: accountID) }
    }

    /// A stored message's bytes, wherever they are kept.
    public func readBlob(_ hash: String) throws -> [UInt8] {
        if let inline = try store.inlineBlob(hash) { return inline }
        return try blobs.get(hash)
    }

    /// Records refusals (unknown recipients, relay attempts) for `mailroom trace`. They are
    /// written in batches, not each with its own fsync: a flood of refused recipients must not
    /// cost a disk write apiece.
    public func recordRefusal(_ event: DeliveryEvent) {
        let batch = refusals.withLock { r -> [DeliveryEvent]? in
            r.append(event)
            guard r.count >= 64 || (r.first.map { event.at.timeIntervalSince($0.at) >= 1 } ?? false) else { return nil }
            defer { r.removeAll() }
            return r
        }
        // Callers are on event loops: write elsewhere.
        if let batch {
            let (store, eventFiler) = (self.store, self.eventFiler)
            BlockingPool.shared.submit {
                try? store.recordEvents(batch)
                eventFiler.signal()
            }
        }
    }

    /// Events were written outside a delivery's commit (the queue runner's outcomes): they are
    /// staged, and the filer is told.
    public func eventsStaged() { eventFiler.signal() }

    /// Writes refusals still waiting (at shutdown, and before a trace is read).
    public func flushRefusals() {
        let batch = refusals.withLock { r -> [DeliveryEvent] in
            defer { r.removeAll() }
            return r
        }
        guard !batch.isEmpty else { return }
        try? store.recordEvents(batch)
        eventFiler.signal()
    }
}
