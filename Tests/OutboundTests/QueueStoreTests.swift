import AdminModels
import Foundation
import MIME
import Testing
import TestSupport

@testable import Delivery
@testable import Directory
@testable import LoginKit
@testable import MailCore
@testable import Outbound
@testable import Storage

/// A directory with one local domain, and delivery into a store (in memory unless asked).
struct OutboundHarness {
    let store: SQLiteStore
    let dir: DirectoryService
    let delivery: LocalDelivery
    static let admin = AdminActor(name: "t", role: .serverAdmin)
    /// The store as the queue's code sees it: only through the protocol.
    var queueStore: any QueueStore { store }

    init(storage: StoreKind = .memory) throws {
        store = try storage.make()
        dir = try DirectoryService(store: store, passwordIterations: 4096)
        _ = try dir.addDomain("example.org", actor: Self.admin)
        _ = try dir.addDomain("other.org", actor: Self.admin)
        for a in ["alice@example.org", "bob@example.org", "olga@other.org"] {
            _ = try dir.addAccount(a, actor: Self.admin)
        }
        let root = Scratch.url("mailroom-outbound").path
        delivery = LocalDelivery(store: store, directory: dir, blobs: BlobStore(root: root))
    }

    var queue: QueueAdmin { QueueAdmin(store: store, directory: dir, delivery: delivery, hostname: "mx.example.org") }

    /// Sends a message from `sender` as an authenticated user would; returns its queue id.
    @discardableResult
    func send(from sender: String = "alice@example.org", to recipients: [String], subject: String = "hi", body: String = "hello\r\n") async throws -> String {
        let data = "From: <\(sender)>\r\nTo: \(recipients.map { "<\($0)>" }.joined(separator: ", "))\r\nSubject: \(subject)\r\n"
            + "Message-ID: <\(UUID().uuidString)@example.org>\r\n\r\n\(body)"
        return try await delivery.deliver(
            InboundMessage(
                sender: sender, recipients: recipients, data: Array(data.utf8), receivedHeader: "Received: from test\r\n",
                clientIP: "192.0.2.1", helo: "client", tls: nil, authenticatedUser: sender))
    }

    func account(_ address: String) throws -> Int64 { try #require(dir.snapshot.account(try EmailAddress(address))?.id) }

    func inbox(_ address: String) throws -> [[UInt8]] {
        try store.inboxMessages(accountID: try account(address)).map { try delivery.readBlob($0.blobHash) }
    }
}

/// The queue store's contract (``QueueStore``, ``DKIMKeyStore``): what any implementation must
/// do, run against each one through the protocol; then the queue's admin operations.
@Suite struct QueueStoreTests {
    @Test(arguments: StoreKind.allCases)
    func remoteRecipientsAreQueuedWithTheirDomain(_ kind: StoreKind) async throws {
        let h = try OutboundHarness(storage: kind)
        let id = try await h.send(to: ["x@Remote.test", "y@remote.test", "z@far.test", "bob@example.org"])
        let entries = try h.queueStore.queueEntries(QueueSelection())
        // Addresses are kept in their canonical form (domain lower-cased).
        #expect(entries.map(\.recipient) == ["x@remote.test", "y@remote.test", "z@far.test"])
        #expect(entries.map(\.domain) == ["remote.test", "remote.test", "far.test"])
        #expect(entries.allSatisfy { $0.status == .queued && $0.queueID == id && $0.messageID != nil })
        // One transaction per destination domain.
        let jobs = Job.group(entries)
        #expect(jobs.map { $0.entries.map(\.recipient) } == [["x@remote.test", "y@remote.test"], ["z@far.test"]])
    }

    @Test(arguments: StoreKind.allCases)
    func claimingMarksActiveAndARestartReturnsThemToTheQueue(_ kind: StoreKind) async throws {
        let h = try OutboundHarness(storage: kind)
        let q = h.queueStore
        try await h.send(to: ["x@remote.test"])
        let now = Date()
        #expect(try q.nextQueueAttempt().map { $0 <= now } == true)
        let claimed = try q.claimDueQueueEntries(now: now, limit: 10)
        #expect(claimed.count == 1)
        #expect(try q.claimDueQueueEntries(now: now, limit: 10).isEmpty)
        #expect(try q.queueEntries(QueueSelection(status: .active)).count == 1)
        #expect(try q.queueCounts() == [.active: 1])
        try q.resetActiveQueueEntries()
        #expect(try q.claimDueQueueEntries(now: now, limit: 10).map(\.id) == claimed.map(\.id))
    }

    @Test(arguments: StoreKind.allCases)
    func outcomesRemoveDeliveredEntriesAndRescheduleDeferredOnes(_ kind: StoreKind) async throws {
        let h = try OutboundHarness(storage: kind)
        try await h.send(to: ["ok@remote.test", "later@remote.test"])
        let now = Date()
        let claimed = try h.queueStore.claimDueQueueEntries(now: now, limit: 10)
        let hash = claimed[0].blobHash
        let next = now.addingTimeInterval(300)
        try h.queueStore.recordQueueOutcomes(
            [
                QueueOutcome(rowID: claimed[0].id, result: .delivered, attempt: QueueAttempt(at: now, mx: "mx.remote.test", ip: "127.0.0.1", tls: nil, reply: "250 ok")),
                QueueOutcome(
                    rowID: claimed[1].id, result: .deferred(next: next, warned: false),
                    attempt: QueueAttempt(at: now, mx: "mx.remote.test", ip: "127.0.0.1", tls: "TLSv1.3", reply: "450 4.2.0 busy")),
            ], events: [], messages: [])
        let left = try h.queueStore.queueEntries(QueueSelection())
        #expect(left.map(\.recipient) == ["later@remote.test"])
        #expect(left[0].status == .deferred && left[0].attempts == 1 && left[0].lastReply == "450 4.2.0 busy")
        #expect(abs(left[0].nextAttempt.timeIntervalSince(next)) < 0.01)
        #expect(try h.queueStore.queueAttempts(rowIDs: [left[0].id])[left[0].id]?.map(\.tls) == ["TLSv1.3"])
        // Not due before its time; due after.
        #expect(try h.queueStore.claimDueQueueEntries(now: now.addingTimeInterval(299), limit: 10).isEmpty)
        #expect(try h.queueStore.claimDueQueueEntries(now: now.addingTimeInterval(301), limit: 10).count == 1)
        // The last reference gone, an outbound-only blob leaves the database.
        try h.queueStore.recordQueueOutcomes([QueueOutcome(rowID: left[0].id, result: .failed, attempt: nil)], events: [], messages: [])
        #expect(try h.store.inlineBlob(hash) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func aNewDKIMKeyBecomesItsDomainsActiveOne(_ kind: StoreKind) throws {
        let keys: any DKIMKeyStore = try kind.make()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        func key(_ domain: String, _ selector: String) -> DKIMKeyRecord {
            DKIMKeyRecord(domain: domain, selector: selector, algorithm: "ed25519", privateKeyPEM: "k-\(selector)", createdAt: at, active: true)
        }
        _ = try keys.addDKIMKey(key("example.org", "s1"), audit: nil)
        _ = try keys.addDKIMKey(key("other.org", "s1"), audit: nil)
        _ = try keys.addDKIMKey(key("example.org", "s2"), audit: nil)
        #expect(try keys.dkimKeys().map { "\($0.domain)/\($0.selector)/\($0.active)" } == ["example.org/s1/false", "example.org/s2/true", "other.org/s1/true"])
        #expect(throws: StoreError.self) { try keys.addDKIMKey(key("example.org", "s1"), audit: nil) }
        #expect(try keys.dkimKeys().count == 3)
    }

    @Test func holdReleaseAndRetryApplyToTheSelection() async throws {
        let h = try OutboundHarness()
        let a = try await h.send(to: ["x@remote.test"])
        let b = try await h.send(to: ["y@far.test"])
        let held = try h.queue.act(.hold, QueueSelection(queueID: a), actor: OutboundHarness.admin)
        #expect(held.recipients == 1 && held.queueIds == [a])
        #expect(try h.store.claimDueQueueEntries(now: Date(), limit: 10).map(\.queueID) == [b])
        try h.store.resetActiveQueueEntries()
        _ = try h.queue.act(.release, QueueSelection(queueID: a), actor: OutboundHarness.admin)
        #expect(try h.store.queueEntries(QueueSelection(queueID: a))[0].status == .deferred)
        let retried = try h.queue.act(.retry, QueueSelection(domain: "far.test"), actor: OutboundHarness.admin)
        #expect(retried.queueIds == [b])
        #expect(throws: AdminError.self) { try h.queue.act(.hold, QueueSelection(queueID: "NOSUCH"), actor: OutboundHarness.admin) }
        let events = try h.store.traceEvents(messageID: nil, sender: nil, recipient: "x@remote.test", since: nil, limit: 10)
        #expect(events.map(\.event) == [.received, .queued, .admin, .admin])
    }

    @Test func aDomainAdminSeesOnlyMailFromItsDomains() async throws {
        let h = try OutboundHarness()
        try await h.send(to: ["x@remote.test"])
        try await h.send(from: "olga@other.org", to: ["y@remote.test"])
        let other = AdminActor(name: "d", role: .domainAdmin, domains: [try DomainName("other.org")])
        #expect(try h.queue.list(QueueSelection(), limit: 100, actor: other).map(\.sender) == ["olga@other.org"])
        let r = try h.queue.act(.hold, QueueSelection(domain: "remote.test"), actor: other)
        #expect(r.recipients == 1)
        #expect(try h.store.queueEntries(QueueSelection(status: .held)).map(\.sender) == ["olga@other.org"])
    }

    @Test func deletingWithBounceTellsTheSender() async throws {
        let h = try OutboundHarness()
        let id = try await h.send(to: ["x@remote.test"], subject: "quarterly report")
        let r = try await h.queue.delete(queueID: id, bounce: true, actor: OutboundHarness.admin)
        #expect(r.recipients == 1 && r.bounced == 1)
        #expect(try h.store.queueEntries(QueueSelection()).isEmpty)
        let inbox = try h.inbox("alice@example.org")
        #expect(inbox.count == 1)
        let dsn = ParsedMessage(parsing: inbox[0])
        #expect(dsn.root.type == "multipart" && dsn.root.subtype == "report")
        #expect(dsn.root.children.map { "\($0.type)/\($0.subtype)" } == ["text/plain", "message/delivery-status", "text/rfc822-headers"])
        let status = String(decoding: inbox[0][dsn.root.children[1].bodyRange], as: UTF8.self)
        #expect(status.contains("Final-Recipient: rfc822; x@remote.test\r\nAction: failed\r\nStatus: 5.0.0"))
        let original = String(decoding: inbox[0][dsn.root.children[2].bodyRange], as: UTF8.self)
        #expect(original.contains("Subject: quarterly report"))
        // The bounce has the null sender, so it can never bounce back.
        #expect(String(decoding: inbox[0].prefix(200), as: UTF8.self).contains("Received: by mx.example.org"))
        let stored = try h.store.inboxMessages(accountID: try h.account("alice@example.org"))
        #expect(String(decoding: stored[0].headerPrefix, as: UTF8.self).hasPrefix("Return-Path: <>"))
        #expect(try h.store.traceEvents(messageID: nil, sender: "alice@example.org", recipient: nil, since: nil, limit: 10).isEmpty == false)
    }

    @Test func summaryCountsByDomainAndAge() async throws {
        let h = try OutboundHarness()
        try await h.send(to: ["a@remote.test", "b@remote.test"])
        try await h.send(to: ["c@far.test"])
        // The first message's time: a slow run can put minutes between the two sends.
        let queued = try #require(try h.store.queueEntries(QueueSelection()).map(\.createdAt).min())
        let s = try h.queue.summary(actor: OutboundHarness.admin, now: queued.addingTimeInterval(60))
        #expect(s.rows.map(\.domain) == ["remote.test", "far.test"])
        #expect(s.rows.map(\.counts) == [[2, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
        #expect(s.byStatus == ["queued": 3])
        // Seven minutes on, they are in the 5–10 minute bucket; a day on, in the last.
        let later = try h.queue.summary(actor: OutboundHarness.admin, now: queued.addingTimeInterval(7 * 60))
        #expect(later.rows[0].counts[0...1] == [0, 2])
        let dayOn = try h.queue.summary(actor: OutboundHarness.admin, now: queued.addingTimeInterval(86_400))
        #expect(dayOn.rows[0].counts.last == 2)
    }
}
