import DNS
import Delivery
import Foundation
import Logging
import MailCore
import NIOCore
import NIOPosix
import Offload
import SMTP
import SMTPClient
import ServiceLifecycle
import Storage
import Synchronization

/// Queue entries delivered in one SMTP transaction: one message, one sender, one destination
/// domain, several recipients.
struct Job: Sendable {
    var entries: [QueueEntry]
    var domain: String { entries[0].domain }

    /// Groups claimed entries into transactions (at most `maxRecipients` each).
    static func group(_ entries: [QueueEntry], maxRecipients: Int = 100) -> [Job] {
        var order: [String] = []
        var byKey: [String: [QueueEntry]] = [:]
        for e in entries {
            let key = "\(e.queueID)\u{0}\(e.blobHash)\u{0}\(e.sender)\u{0}\(e.domain)\u{0}\(e.headerPrefix.count)"
            if byKey[key] == nil { order.append(key) }
            byKey[key, default: []].append(e)
        }
        return order.flatMap { key in
            stride(from: 0, to: byKey[key]!.count, by: maxRecipients).map { Job(entries: Array(byKey[key]![$0..<min($0 + maxRecipients, byKey[key]!.count)])) }
        }
    }
}

/// Delivers the outbound queue: claims due entries, groups them into transactions, and hands
/// them to workers, a few per destination domain, each keeping its SMTP connection for the
/// next message. Outcomes (and the bounces they cause) are written in batches.
///
/// Crash safety: an entry is marked `active` while it is tried and removed only when the
/// outcome is written. After a crash, active entries are tried again; the one window for a
/// duplicate is between the remote `250` and the write of that outcome (milliseconds).
public final class QueueRunner: Service, Sendable {
    public let store: any QueueStore
    let delivery: LocalDelivery
    /// Routes, relay, TLS policies, retry schedule: replaced on reload (SIGHUP) and read at
    /// each attempt. The worker counts are fixed at start.
    private let liveSettings: Reloadable<OutboundSettings>
    var settings: OutboundSettings { liveSettings.current }

    /// Takes new settings from a reloaded configuration; the next attempt uses them.
    public func reload(_ settings: OutboundSettings) { liveSettings.replace(settings) }
    let resolver: DNSResolver
    let logger: Logger
    let now: @Sendable () -> Date
    let group: any EventLoopGroup
    let dispatcher: Dispatcher
    let recorder: OutcomeRecorder
    public let stats = OutboundStats()
    private let stopping = Atomic<Bool>(false)
    private let passes = Atomic<Int>(0)

    /// How many times the runner has looked for due entries (and claimed what was due). A
    /// test that moves its clock waits for the next pass to know the runner saw the new time.
    public var schedulingPasses: Int { passes.load(ordering: .acquiring) }

    public init(
        store: any QueueStore, delivery: LocalDelivery, settings: OutboundSettings, resolver: DNSResolver, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.delivery = delivery
        self.liveSettings = Reloadable(settings)
        self.resolver = resolver
        self.logger = logger
        self.group = group
        self.now = now
        self.dispatcher = Dispatcher(concurrency: settings.destinationConcurrency, maxWorkers: settings.maxConnections)
        self.recorder = OutcomeRecorder(store: store, delivery: delivery, logger: logger)
    }

    public func run() async throws {
        let store = self.store
        try await BlockingPool.shared.run { try store.resetActiveQueueEntries() }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { tasks in
                tasks.addTask { await self.recorder.run(until: { self.stopping.load(ordering: .relaxed) && self.dispatcher.idle }) }
                await self.schedule(&tasks)
            }
        } onGracefulShutdown: {
            self.stop()
        }
        await recorder.flush()
        // Claimed entries no worker started on go back to waiting.
        _ = try? await BlockingPool.shared.run { try store.resetActiveQueueEntries() }
    }

    /// Stops claiming; workers finish the transaction they are in.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        store.outbound.signal()
    }

    private func schedule(_ tasks: inout DiscardingTaskGroup) async {
        let (store, now) = (self.store, self.now)
        while !stopping.load(ordering: .relaxed) {
            let room = settings.maxInFlight - dispatcher.inFlight
            var claimedAll = true
            if room > 0 {
                let limit = min(500, room)
                do {
                    // The store's work on the blocking pool, never on the threads every task shares.
                    let entries = try await BlockingPool.shared.run { () throws -> [QueueEntry] in
                        guard let due = try store.nextQueueAttempt(), due <= now() else { return [] }
                        return try store.claimDueQueueEntries(now: now(), limit: limit)
                    }
                    if !entries.isEmpty {
                        for (domain, n) in dispatcher.submit(Job.group(entries)) {
                            for _ in 0..<n { tasks.addTask { await self.work(domain: domain) } }
                        }
                    }
                    claimedAll = entries.count < limit
                } catch {
                    logger.error("outbound queue: cannot claim due entries", metadata: ["error": "\(error)"])
                    claimedAll = true
                }
            }
            passes.add(1, ordering: .releasing)
            if !claimedAll && room > 0 { continue }
            await store.outbound.wait(timeout: .seconds(1))
            // Destinations left without a worker (the connection limit was reached) get one.
            for (domain, n) in dispatcher.submit([]) {
                for _ in 0..<n { tasks.addTask { await self.work(domain: domain) } }
            }
        }
    }

    /// One worker: delivers jobs for `domain` until none is left (lingering briefly so that a
    /// steady stream reuses the connection), then says QUIT.
    private func work(domain: String) async {
        var session: Session?
        var idle = 0
        while true {
            if stopping.load(ordering: .relaxed) {
                _ = dispatcher.leave(domain: domain, force: true)
                break
            }
            if let job = dispatcher.take(domain: domain) {
                idle = 0
                let item = await attempt(job, session: &session)
                recorder.add(item)
                stats.record(item.outcomes, domain: domain, entries: job.entries)
                if dispatcher.finished(job.entries.count, maxInFlight: settings.maxInFlight) { store.outbound.signal() }
                continue
            }
            if idle >= 10 {
                if dispatcher.leave(domain: domain) { break }
                continue
            }
            idle += 1
            try? await Task.sleep(for: .milliseconds(50))
        }
        if let session { await session.connection.quit() }
    }

    struct Session {
        var connection: SMTPClientConnection
        var hop: ResolvedHop
    }

    // MARK: - One attempt

    func attempt(_ job: Job, session: inout Session?) async -> RecordItem {
        let entries = job.entries
        let first = entries[0]
        let data: [UInt8]
        do {
            let delivery = self.delivery
            data = first.headerPrefix + (try await BlockingPool.shared.run { try delivery.readBlob(first.blobHash) })
        } catch {
            return await conclude(job, replies: entries.map { _ in .temporary("451 4.3.0 local error: cannot read the message: \(error)") }, hop: nil, tls: nil)
        }
        let envelope = OutboundEnvelope(
            sender: first.sender, recipients: entries.map(\.recipient), data: data,
            requiresSMTPUTF8: ([first.sender] + entries.map(\.recipient)).contains { !$0.allSatisfy(\.isASCII) },
            has8BitData: data.contains { $0 >= 0x80 })
        var reused = session != nil
        for _ in 0..<2 {
            if session == nil || !(session!.connection.isUsable) {
                session = nil
                reused = false
                switch await connect(domain: job.domain) {
                case .success(let s): session = s
                case .failure(let failure): return await conclude(job, replies: entries.map { _ in failure.reply }, hop: nil, tls: nil, original: data)
                }
            }
            guard let s = session else { break }
            do {
                let result = try await s.connection.send(envelope)
                return await conclude(job, replies: Self.replies(result, count: entries.count), hop: s.hop, tls: s.connection.tlsDescription, original: data)
            } catch {
                session = nil
                await s.connection.quit()
                // A reused connection the server had closed meanwhile: try once on a fresh one.
                if reused, !error.isPermanent { continue }
                let reply: Reply = error.isPermanent ? .permanent(error.replyText) : .temporary(error.replyText)
                return await conclude(job, replies: entries.map { _ in reply }, hop: s.hop, tls: s.connection.tlsDescription, original: data)
            }
        }
        return await conclude(job, replies: entries.map { _ in .temporary("451 4.4.1 no connection could be made") }, hop: nil, tls: nil, original: data)
    }

    /// What the remote said about one recipient.
    enum Reply {
        case accepted(String)
        case temporary(String)
        case permanent(String)

        var text: String {
            switch self {
            case .accepted(let t), .temporary(let t), .permanent(let t): return t
            }
        }
    }

    static func replies(_ r: TransactionResult, count: Int) -> [Reply] {
        func classify(_ reply: SMTPReply) -> Reply {
            let text = reply.description.replacingOccurrences(of: "\r\n", with: " ").trimmingCharacters(in: .whitespaces)
            if reply.isPositive { return .accepted(text) }
            return reply.isTransient ? .temporary(text) : .permanent(text)
        }
        guard r.mailReply.isPositive else { return Array(repeating: classify(r.mailReply), count: count) }
        return (0..<count).map { i in
            let rcpt = i < r.recipientReplies.count ? classify(r.recipientReplies[i]) : .temporary("451 4.4.2 no reply to RCPT")
            guard case .accepted = rcpt else { return rcpt }
            guard let data = r.dataReply else { return .temporary("451 4.4.2 no reply to DATA") }
            return classify(data)
        }
    }

    /// The route a message to `recipient` would take now (relay, configured route or MX
    /// hosts, with their addresses), or why there is none; nothing is queued or connected.
    public func route(for recipient: String) async -> String {
        let domain = QueueEntry.domain(of: recipient)
        return await Router(settings: settings, resolver: resolver).describe(domain)
    }

    private func connect(domain: String) async -> Result<Session, ReplyFailure> {
        let hops: [ResolvedHop]
        do {
            hops = try await Router(settings: settings, resolver: resolver).hops(for: domain)
        } catch {
            return .failure(ReplyFailure(reply: error.permanent ? .permanent(error.reply) : .temporary(error.reply)))
        }
        var failures: [String] = []
        var permanent = false
        for hop in hops {
            let tls = settings.tls(for: domain)
            do {
                let c = try await SMTPClientConnection.connect(
                    host: hop.ip, port: hop.port, heloName: settings.hostname, tls: tls.policy, tlsConfiguration: tls.configuration,
                    serverName: hop.name, timeouts: settings.timeouts, group: group)
                if let relay = settings.relay, let user = relay.username {
                    do {
                        try await c.authenticate(user: user, password: relay.password ?? "")
                    } catch {
                        await c.quit()
                        throw error
                    }
                }
                return .success(Session(connection: c, hop: hop))
            } catch {
                failures.append("\(hop.name)[\(hop.ip)]:\(hop.port): \(error.replyText)")
                permanent = error.isPermanent
            }
        }
        let text = failures.isEmpty ? "451 4.4.4 no host to deliver to" : failures.joined(separator: "; ")
        // Only when the last host refused for good (5xx greeting or EHLO) is it a bounce.
        return .failure(ReplyFailure(reply: permanent ? .permanent(text) : .temporary(text)))
    }

    struct ReplyFailure: Error {
        var reply: Reply
    }

    // MARK: - Outcomes

    /// Turns the replies into queue outcomes, events, and the bounce or delay notice.
    func conclude(_ job: Job, replies: [Reply], hop: ResolvedHop?, tls: String?, original: [UInt8]? = nil) async -> RecordItem {
        let t = now()
        var item = RecordItem()
        var failed: [DeliveryStatusNotice.Recipient] = []
        var delayed: [DeliveryStatusNotice.Recipient] = []
        let hopText = hop.map { "\($0.name)[\($0.ip)]:\($0.port)" }
        for (entry, reply) in zip(job.entries, replies) {
            let attempt = QueueAttempt(at: t, mx: hop?.name, ip: hop?.ip, tls: tls, reply: reply.text)
            func event(_ kind: DeliveryEvent.Kind, _ detail: String?) -> DeliveryEvent {
                DeliveryEvent(
                    at: t, queueID: entry.queueID, messageID: entry.messageID, event: kind, sender: entry.sender, recipient: entry.recipient,
                    clientIP: hop?.ip, helo: hop?.name, tls: tls, authUser: nil, detail: detail, reply: reply.text)
            }
            let attemptNo = entry.attempts + 1
            switch reply {
            case .accepted:
                item.outcomes.append(QueueOutcome(rowID: entry.id, result: .delivered, attempt: attempt))
                item.events.append(event(.delivered, ["to \(hopText ?? "?")", tls.map { "TLS \($0)" }, "attempt \(attemptNo)"].compactMap { $0 }.joined(separator: ", ")))
            case .temporary(let text):
                let age = t.timeIntervalSince(entry.createdAt)
                if age >= settings.lifetime {
                    item.outcomes.append(QueueOutcome(rowID: entry.id, result: .failed, attempt: attempt))
                    let why = "gave up after \(attemptNo) attempts over \(Self.duration(age)); last reply: \(text)"
                    item.events.append(event(.bounced, why))
                    failed.append(.init(address: entry.recipient, action: "failed", status: Self.expiredStatus(text), diagnostic: why, remoteMTA: hop?.name, lastAttempt: t))
                    continue
                }
                let next = t.addingTimeInterval(settings.retryDelay(afterAttempts: attemptNo))
                var warn = false
                if let after = settings.delayWarning, !entry.warned, age >= after, !entry.sender.isEmpty {
                    warn = true
                    delayed.append(.init(address: entry.recipient, action: "delayed", status: DeliveryStatusNotice.status(of: text), diagnostic: text, remoteMTA: hop?.name, lastAttempt: t))
                }
                item.outcomes.append(QueueOutcome(rowID: entry.id, result: .deferred(next: next, warned: warn), attempt: attempt))
                item.events.append(event(.deferred, "attempt \(attemptNo)\(hopText.map { " to \($0)" } ?? ""); next try \(ISO8601DateFormatter().string(from: next))"))
            case .permanent(let text):
                item.outcomes.append(QueueOutcome(rowID: entry.id, result: .failed, attempt: attempt))
                item.events.append(event(.bounced, "refused\(hopText.map { " by \($0)" } ?? "") at attempt \(attemptNo)"))
                failed.append(.init(address: entry.recipient, action: "failed", status: DeliveryStatusNotice.status(of: text), diagnostic: text, remoteMTA: hop?.name, lastAttempt: t))
            }
        }
        for group in [failed, delayed] where !group.isEmpty {
            await notify(job.entries[0], group, original: original, into: &item, at: t)
        }
        return item
    }

    /// Builds the DSN for the sender and adds it (and the event telling of it) to `item`.
    /// Nothing is sent for the null sender: no bounce to a bounce, so no loops.
    func notify(_ entry: QueueEntry, _ recipients: [DeliveryStatusNotice.Recipient], original: [UInt8]?, into item: inout RecordItem, at t: Date) async {
        guard !entry.sender.isEmpty else { return }
        var original = original
        if original == nil {
            let delivery = self.delivery
            original = try? await BlockingPool.shared.run { try delivery.readBlob(entry.blobHash) }
        }
        let notice = DeliveryStatusNotice(
            reportingMTA: settings.hostname, originalSender: entry.sender, queueID: entry.queueID, arrival: entry.createdAt,
            recipients: recipients, original: original ?? [], now: t)
        let kind = notice.isDelay ? "delay notice" : "bounce"
        do {
            let prepared = try await notice.prepare(
                delivery: delivery, messageID: entry.messageID, authUser: nil,
                what: "\(kind) for \(recipients.map(\.address).joined(separator: ", "))")
            item.messages += prepared.commits
            item.prepared.append(prepared)
            item.events += prepared.events
        } catch {
            logger.error("cannot build a \(kind)", metadata: ["queue_id": "\(entry.queueID)", "error": "\(error)"])
        }
    }

    static func expiredStatus(_ text: String) -> String {
        let s = DeliveryStatusNotice.status(of: text)
        return "5" + s.dropFirst()
    }

    static func duration(_ seconds: TimeInterval) -> String {
        if seconds >= 86400 { return String(format: "%.1f days", seconds / 86400) }
        if seconds >= 3600 { return String(format: "%.1f hours", seconds / 3600) }
        return "\(Int(seconds / 60)) minutes"
    }
}

extension Error {
    var isPermanent: Bool { (self as? SMTPClientError)?.isPermanent ?? false }
    /// The error as a reply line for events, attempts and DSNs.
    var replyText: String {
        guard let e = self as? SMTPClientError else { return "451 4.4.0 \(self)" }
        switch e {
        case .rejected(let stage, let reply): return "\(reply.description.replacingOccurrences(of: "\r\n", with: " ")) (in reply to \(stage))"
        case .authFailed(let reply): return "\(reply.description.replacingOccurrences(of: "\r\n", with: " ")) (in reply to AUTH)"
        // RFC 6531 §3.5 and RFC 3463: the codes a bounce for these should carry.
        case .smtputf8Unsupported: return "553 5.6.7 \(e): the recipient's server cannot take internationalised addresses"
        case .messageTooBig: return "552 5.3.4 \(e)"
        default: return "\(e.isPermanent ? "554 5.4.0" : "451 4.4.0") \(e)"
        }
    }
}

/// Delivered, deferred and bounced recipients by destination domain, for metrics.
public final class OutboundStats: Sendable {
    public struct Counts: Sendable, Hashable {
        public var delivered = 0
        public var deferred = 0
        public var bounced = 0
        public init() {}
    }
    private let counts = Mutex<[String: Counts]>([:])
    /// How long delivery took, from queueing to the end (`mailroom_outbound_delivery_duration_seconds`).
    public let timing = Stats()

    func record(_ outcomes: [QueueOutcome], domain: String, entries: [QueueEntry] = [], now: Date = Date()) {
        let queuedAt = Dictionary(entries.map { ($0.id, $0.createdAt) }, uniquingKeysWith: { a, _ in a })
        for o in outcomes {
            guard let start = queuedAt[o.rowID] else { continue }
            switch o.result {
            case .delivered: timing.observe(MetricCatalog.deliveryDuration, ["result": "delivered"], now.timeIntervalSince(start))
            case .failed: timing.observe(MetricCatalog.deliveryDuration, ["result": "bounced"], now.timeIntervalSince(start))
            case .deferred: break
            }
        }
        counts.withLock { c in
            for o in outcomes {
                switch o.result {
                case .delivered: c[domain, default: Counts()].delivered += 1
                case .deferred: c[domain, default: Counts()].deferred += 1
                case .failed: c[domain, default: Counts()].bounced += 1
                }
            }
        }
    }

    public var byDomain: [String: Counts] { counts.withLock { $0 } }
}

/// What one attempt writes.
struct RecordItem: Sendable {
    var outcomes: [QueueOutcome] = []
    var events: [DeliveryEvent] = []
    var messages: [MessageCommit] = []
    var prepared: [PreparedDelivery] = []
}

/// Writes attempt outcomes in batches (one transaction, one fsync, for all that finished
/// meanwhile), on the blocking pool; one flush at a time, as ``run(until:)`` awaits each.
final class OutcomeRecorder: Sendable {
    let store: any QueueStore
    let delivery: LocalDelivery
    let logger: Logger
    private let pending = Mutex<[RecordItem]>([])
    private let wake = Wakeup()

    init(store: any QueueStore, delivery: LocalDelivery, logger: Logger) {
        self.store = store
        self.delivery = delivery
        self.logger = logger
    }

    func add(_ item: RecordItem) {
        pending.withLock { $0.append(item) }
        wake.signal()
    }

    func run(until done: @Sendable () -> Bool) async {
        while !done() {
            await wake.wait(timeout: .milliseconds(100))
            await flush()
        }
    }

    func flush() async {
        let items = pending.withLock { p -> [RecordItem] in
            defer { p.removeAll() }
            return p
        }
        guard !items.isEmpty else { return }
        let (store, delivery) = (self.store, self.delivery)
        do {
            try await BlockingPool.shared.run {
                try store.recordQueueOutcomes(items.flatMap(\.outcomes), events: items.flatMap(\.events), messages: items.flatMap(\.messages))
            }
            for p in items.flatMap(\.prepared) { delivery.stored(p) }
            delivery.eventsStaged()
        } catch {
            // The entries stay active and are tried again after a restart.
            logger.error("outbound queue: cannot record delivery outcomes", metadata: ["error": "\(error)"])
        }
    }
}

/// Jobs waiting per destination, and the workers serving them.
final class Dispatcher: Sendable {
    private struct State {
        var pending: [String: [Job]] = [:]
        var workers: [String: Int] = [:]
        var totalWorkers = 0
        var inFlight = 0
    }
    private let state = Mutex(State())
    let concurrency: Int
    let maxWorkers: Int

    init(concurrency: Int, maxWorkers: Int) {
        self.concurrency = max(1, concurrency)
        self.maxWorkers = max(1, maxWorkers)
    }

    var inFlight: Int { state.withLock { $0.inFlight } }
    var idle: Bool { state.withLock { $0.totalWorkers == 0 } }

    /// Queues jobs; returns how many new workers to start per domain.
    func submit(_ jobs: [Job]) -> [(String, Int)] {
        state.withLock { s in
            for j in jobs {
                s.pending[j.domain, default: []].append(j)
                s.inFlight += j.entries.count
            }
            var start: [(String, Int)] = []
            for domain in s.pending.keys.sorted() {
                let want = min(s.pending[domain]?.count ?? 0, concurrency) - s.workers[domain, default: 0]
                let n = max(0, min(want, maxWorkers - s.totalWorkers))
                if n > 0 {
                    s.workers[domain, default: 0] += n
                    s.totalWorkers += n
                    start.append((domain, n))
                }
            }
            return start
        }
    }

    func take(domain: String) -> Job? {
        state.withLock { s in
            guard var q = s.pending[domain], !q.isEmpty else { return nil }
            let j = q.removeFirst()
            s.pending[domain] = q.isEmpty ? nil : q
            return j
        }
    }

    /// Returns true when the caller should ask for more entries (it was at the limit).
    func finished(_ entries: Int, maxInFlight: Int) -> Bool {
        state.withLock { s in
            let wasFull = s.inFlight >= maxInFlight
            s.inFlight -= entries
            return wasFull
        }
    }

    /// A worker leaves, unless work arrived for it meanwhile (then it must go on) and the
    /// runner is not stopping.
    func leave(domain: String, force: Bool = false) -> Bool {
        state.withLock { s in
            if !force, let q = s.pending[domain], !q.isEmpty { return false }
            s.workers[domain, default: 1] -= 1
            if s.workers[domain] == 0 { s.workers[domain] = nil }
            s.totalWorkers -= 1
            return true
        }
    }
}
