import DNS
import Foundation
import Logging
import SMTP
import Synchronization
import TestSupport
import Testing

@testable import Delivery
@testable import Directory
@testable import Outbound
@testable import Storage

/// Real time plus whatever the test has skipped: retries fall due when the test says so.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
}

/// The queue runner of an ``OutboundHarness``, routing remote.test to a loopback port, on a
/// test clock.
final class RunnerHarness: Sendable {
    let h: OutboundHarness
    let clock = TestClock()
    let runner: QueueRunner
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ h: OutboundHarness, port: Int, configure: (inout OutboundSettings) -> Void = { _ in }) {
        self.h = h
        var s = OutboundSettings(hostname: "mx.example.org")
        s.routes["remote.test"] = NextHop(host: "127.0.0.1", port: port)
        s.timeouts = .init(all: .seconds(10))
        s.timeouts.connect = .seconds(2)
        configure(&s)
        let clock = self.clock
        runner = QueueRunner(
            store: h.store, delivery: h.delivery, settings: s, resolver: DNSResolver(servers: [DNSServerAddress(host: "127.0.0.1", port: 9)]),
            logger: Logger(label: "test"), now: { clock.now })
    }

    func start() {
        let runner = self.runner
        task.withLock { $0 = Task { try? await runner.run() } }
    }

    func stop() async {
        runner.stop()
        await task.withLock { $0 }?.value
    }

    /// Moves the clock and wakes the runner.
    func advance(_ seconds: TimeInterval) {
        clock.advance(seconds)
        h.store.outbound.signal()
    }

    func entries() -> [QueueEntry] { (try? h.store.queueEntries(QueueSelection())) ?? [] }

    /// Waits (real time) until the condition holds.
    func until(_ seconds: Double = 20, _ condition: () throws -> Bool) async rethrows -> Bool {
        // Tries as well as time: while blocking tests hold the shared threads, neither this
        // task nor the queue runner it waits for may run for many seconds.
        let deadline = Date().addingTimeInterval(seconds)
        var tries = 0
        while Date() < deadline || tries < Int(seconds * 20) {
            tries += 1
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }
}

@Suite(.serialized, .enabled(if: Peers.shouldRun(Peers.find("postfix") != nil))) struct OutboundPeerTests {
    /// A Postfix for remote.test. The suite is skipped outside CI when Postfix is missing; one
    /// that is found but does not start fails the test (never a silent pass).
    func peer(port: Int = Peers.freePort(), access: [String: String] = [:], mainCF: String = "") throws -> PostfixPeer {
        try #require(
            try PostfixPeer.start(domain: "remote.test", port: port, access: access, mainCF: mainCF),
            "postfix did not start (.ci/run installs it)")
    }

    @Test func mailReachesPostfixInOneTransactionAndTheTraceSaysSo() async throws {
        let peer = try peer()
        defer { peer.destroy() }
        let h = try OutboundHarness()
        let r = RunnerHarness(h, port: peer.port)
        r.start()
        let id = try await h.send(to: ["u@remote.test", "v@remote.test"], subject: "to postfix")
        #expect(await r.until { peer.delivered().count == 2 })
        #expect(await r.until { r.entries().isEmpty })
        await r.stop()
        let mail = peer.delivered()
        #expect(mail.allSatisfy { $0.contains("Subject: to postfix") && $0.contains("Return-Path: <alice@example.org>") })
        // One SMTP transaction for both recipients.
        #expect(peer.logText().split(separator: "\n").filter { $0.contains("status=sent") }.count == 2)
        #expect(peer.logText().contains("nrcpt=2"))
        let events = try h.store.traceEvents(messageID: nil, sender: nil, recipient: "u@remote.test", since: nil, limit: 10)
            .filter { $0.recipient == nil || $0.recipient == "u@remote.test" }
        #expect(events.map(\.event) == [.received, .queued, .delivered])
        #expect(events.last?.queueID == id)
        #expect(events.last?.reply?.hasPrefix("250") == true)
        #expect(events.last?.detail?.contains("127.0.0.1") == true)
        #expect(r.runner.stats.byDomain["remote.test"]?.delivered == 2)
    }

    @Test func temporaryFailuresAreRetriedOnTheirSchedule() async throws {
        let peer = try peer(access: ["later@remote.test": "450 4.2.0 mailbox busy, try later"])
        defer { peer.destroy() }
        let h = try OutboundHarness()
        let r = RunnerHarness(h, port: peer.port)
        r.start()
        try await h.send(to: ["later@remote.test"])
        #expect(await r.until { r.entries().first?.status == .deferred })
        let deferred = try #require(r.entries().first)
        #expect(deferred.attempts == 1)
        #expect(deferred.lastReply?.hasPrefix("450 4.2.0 <later@remote.test>") == true)
        #expect(deferred.lastReply?.contains("mailbox busy, try later") == true)
        let wait = deferred.nextAttempt.timeIntervalSince(r.clock.now)
        #expect(wait >= 240 && wait <= 360)
        // Not before its time: the runner looks at the queue after the clock moved, and
        // leaves the entry alone.
        let passes = r.runner.schedulingPasses
        r.advance(200)
        #expect(await r.until { r.runner.schedulingPasses >= passes + 2 })
        #expect(r.entries().first?.attempts == 1)
        #expect(r.entries().first?.status == .deferred)
        // The peer recovers; at the retry time the message goes. (An smtpd Postfix started
        // before the reload may still answer 450 once: then the next retry delivers.)
        try peer.setAccess([:])
        r.advance(200)
        for _ in 0..<4 where !(await r.until(5) { peer.delivered().count == 1 }) { r.advance(5000) }
        #expect(await r.until { peer.delivered().count == 1 })
        #expect(await r.until { r.entries().isEmpty })
        await r.stop()
        let events = try h.store.traceEvents(messageID: nil, sender: nil, recipient: "later@remote.test", since: nil, limit: 10)
        #expect(events.map(\.event).prefix(3) == [.received, .queued, .deferred])
        #expect(events.last?.event == .delivered)
    }

    @Test func permanentFailuresBounceToTheSendersInbox() async throws {
        let peer = try peer(access: ["nobody@remote.test": "550 5.1.1 no such user here"])
        defer { peer.destroy() }
        let h = try OutboundHarness()
        let r = RunnerHarness(h, port: peer.port)
        r.start()
        try await h.send(to: ["nobody@remote.test", "u@remote.test"], subject: "budget")
        #expect(await r.until { r.entries().isEmpty })
        #expect(await r.until { (try? h.inbox("alice@example.org").count) == 1 })
        await r.stop()
        #expect(peer.delivered().count == 1)
        let dsn = String(decoding: try h.inbox("alice@example.org")[0], as: UTF8.self)
        #expect(dsn.contains("Subject: Undelivered Mail Returned to Sender"))
        #expect(dsn.contains("Final-Recipient: rfc822; nobody@remote.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; 127.0.0.1"))
        #expect(dsn.contains("Diagnostic-Code: smtp; 550 5.1.1 <nobody@remote.test>: Recipient address rejected: no such user here"))
        #expect(!dsn.contains("Final-Recipient: rfc822; u@remote.test"))
        #expect(dsn.contains("Subject: budget"))
        let events = try h.store.traceEvents(messageID: nil, sender: nil, recipient: "nobody@remote.test", since: nil, limit: 10)
        #expect(events.map(\.event).contains(.bounced))
        let all = try h.store.traceEvents(messageID: nil, sender: "alice@example.org", recipient: nil, since: nil, limit: 10)
        #expect(all.contains { $0.event == .notified && $0.detail?.contains("bounce") == true })
    }

    @Test func anInternationalAddressToAServerWithoutSMTPUTF8Bounces() async throws {
        let peer = try peer(mainCF: "smtputf8_enable = no")
        defer { peer.destroy() }
        let h = try OutboundHarness()
        let r = RunnerHarness(h, port: peer.port)
        r.start()
        try await h.send(to: ["josé@remote.test", "u@remote.test"])
        #expect(await r.until { r.entries().isEmpty })
        #expect(await r.until { (try? h.inbox("alice@example.org").count) == 1 })
        await r.stop()
        #expect(peer.delivered().isEmpty)
        let dsn = String(decoding: try h.inbox("alice@example.org")[0], as: UTF8.self)
        #expect(dsn.contains("Status: 5.6.7"), "\(dsn)")
        #expect(dsn.contains("cannot take internationalised addresses"))
    }

    @Test func aBounceThatFailsIsNotBouncedAgain() async throws {
        let peer = try peer(access: ["nobody@remote.test": "550 5.1.1 no such user"])
        defer { peer.destroy() }
        let h = try OutboundHarness()
        let r = RunnerHarness(h, port: peer.port)
        r.start()
        // A message with the null sender (a bounce itself) to a recipient that refuses it.
        _ = try await h.delivery.deliver(
            InboundMessage(
                sender: nil, recipients: ["nobody@remote.test"], data: Array("Subject: a bounce\r\n\r\nx\r\n".utf8),
                receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "client", tls: nil, authenticatedUser: nil))
        #expect(await r.until { r.entries().isEmpty })
        try await Task.sleep(for: .milliseconds(300))
        await r.stop()
        let events = try h.store.traceEvents(messageID: nil, sender: nil, recipient: "nobody@remote.test", since: nil, limit: 10)
        #expect(events.map(\.event) == [.received, .queued, .bounced])
        #expect(try h.store.queueEntries(QueueSelection()).isEmpty)
        #expect(try h.inbox("alice@example.org").isEmpty)
    }

    @Test func aPeerThatIsDownIsTriedAgainUntilItIsUp() async throws {
        let port = Peers.freePort()
        let h = try OutboundHarness()
        let r = RunnerHarness(h, port: port)
        r.start()
        try await h.send(to: ["u@remote.test"])
        #expect(await r.until { r.entries().first?.status == .deferred })
        #expect(r.entries().first?.lastReply?.contains("127.0.0.1") == true)
        let peer: PostfixPeer
        do { peer = try self.peer(port: port) } catch {
            await r.stop()
            throw error
        }
        defer { peer.destroy() }
        r.advance(400)
        #expect(await r.until { peer.delivered().count == 1 })
        #expect(await r.until { r.entries().isEmpty })
        await r.stop()
    }

    @Test func aRestartMidQueueLosesAndDuplicatesNothing() async throws {
        let peer = try peer()
        defer { peer.destroy() }
        let h = try OutboundHarness()
        for i in 0..<40 { try await h.send(to: ["u\(i % 4)@remote.test"], subject: "n\(i)") }
        let first = RunnerHarness(h, port: peer.port) { $0.destinationConcurrency = 2 }
        first.start()
        #expect(await first.until { h.store.queueCountsTotal() < 40 })
        await first.stop()
        #expect(try h.store.queueEntries(QueueSelection(status: .active)).isEmpty)
        let second = RunnerHarness(h, port: peer.port)
        second.start()
        #expect(await second.until { second.entries().isEmpty })
        await second.stop()
        // Every transaction is over; once Postfix has delivered all it accepted, a duplicate
        // would be in its Maildirs.
        #expect(await second.until { peer.undeliveredCount() == 0 && peer.delivered().count >= 40 })
        let subjects = peer.delivered().compactMap { $0.split(separator: "\n").first { $0.hasPrefix("Subject: ") } }
        #expect(subjects.count == 40 && Set(subjects).count == 40)
    }

    @Test func messagesThatWaitTooLongBounceAndTheSenderIsWarnedOnce() async throws {
        let peer = try peer(access: ["later@remote.test": "451 4.3.0 not today"])
        defer { peer.destroy() }
        let h = try OutboundHarness()
        let r = RunnerHarness(h, port: peer.port) {
            $0.delayWarning = 500
            $0.lifetime = 3000
        }
        r.start()
        try await h.send(to: ["later@remote.test"], subject: "slow")
        #expect(await r.until { r.entries().first?.attempts == 1 })
        r.advance(600)  // attempt 2: older than the warning age
        #expect(await r.until { r.entries().first?.attempts == 2 })
        #expect(await r.until { (try? h.inbox("alice@example.org").count) == 1 })
        #expect(String(decoding: try h.inbox("alice@example.org")[0], as: UTF8.self).contains("Subject: Delayed Mail (still being retried)"))
        r.advance(1000)  // attempt 3: no second warning
        #expect(await r.until { r.entries().first?.attempts == 3 })
        r.advance(2000)  // attempt 4: past the lifetime
        #expect(await r.until { r.entries().isEmpty })
        #expect(await r.until { (try? h.inbox("alice@example.org").count) == 2 })
        await r.stop()
        let bounce = String(decoding: try h.inbox("alice@example.org")[1], as: UTF8.self)
        #expect(bounce.contains("Subject: Undelivered Mail Returned to Sender"))
        #expect(bounce.contains("gave up after 4 attempts"))
        #expect(bounce.contains("Status: 5.3.0"))
    }
}

extension SQLiteStore {
    func queueCountsTotal() -> Int { ((try? queueCounts()) ?? [:]).values.reduce(0, +) }
}
