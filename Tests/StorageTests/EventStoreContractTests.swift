import Foundation
import MailCore
import Testing

@testable import Storage
import TestSupport

/// What any ``EventStore`` must do, run through the protocol against each implementation:
/// SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct EventStoreContractTests {
    /// On the hour (500,000 hours since 1970), so that the events below fall in one hour.
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func event(
        _ queueID: String, _ kind: DeliveryEvent.Kind, at: Date = t0, sender: String? = nil, recipient: String? = nil,
        client: String? = nil, user: String? = nil
    ) -> DeliveryEvent {
        DeliveryEvent(
            at: at, queueID: queueID, messageID: queueID == "-" ? nil : "\(queueID)@example.org", event: kind,
            sender: sender,
            recipient: recipient, clientIP: client, helo: nil, tls: nil, authUser: user, detail: nil, reply: nil)
    }

    static func audit(_ action: String, target: String, domain: String?, at: Date = t0) -> AuditEntry {
        AuditEntry(
            at: at, actor: "admin", action: action, target: target, domain: domain, before: nil, after: nil,
            sourceIP: nil)
    }

    @Test(arguments: StoreKind.allCases)
    func aTraceTellsEachMatchingMessageWholeAndEachRefusalAlone(_ kind: StoreKind) throws {
        let events: any EventStore = try kind.make()
        try events.recordEvents([
            Self.event("Q1", .received, sender: "ann@example.org", client: "192.0.2.1", user: "ann@example.org"),
            Self.event("Q1", .delivered, at: Self.t0 + 1, sender: "ann@example.org", recipient: "x@remote.test"),
            Self.event("Q2", .received, sender: "bob@example.org", client: "192.0.2.2"),
            Self.event("Q2", .bounced, at: Self.t0 + 2, sender: "bob@example.org", recipient: "y@remote.test"),
            Self.event("-", .rejected, recipient: "nobody@example.org", client: "198.51.100.7"),
            Self.event("-", .rejected, recipient: "nemo@example.org", client: "198.51.100.7"),
        ])
        let all = try events.traceEvents(messageID: nil, sender: nil, recipient: nil, since: nil, limit: 10)
        #expect(all.count == 6)
        #expect(all.map(\.id) == all.map(\.id).sorted() && Set(all.map(\.id)).count == 6)
        // The recipient matched one event of Q1: its whole story comes, oldest first.
        let q1 = try events.traceEvents(messageID: nil, sender: nil, recipient: "X@remote.test", since: nil, limit: 10)
        #expect(q1.map(\.event) == [.received, .delivered] && q1.allSatisfy { $0.queueID == "Q1" })
        #expect(
            try events.traceEvents(messageID: "<Q2@example.org>", sender: nil, recipient: nil, since: nil, limit: 10)
                .map(\.event) == [.received, .bounced])
        // Refusals share no story: only the matching one.
        let refused = try events.traceEvents(
            messageID: nil, sender: nil, recipient: "nobody@example.org", since: nil, limit: 10)
        #expect(refused.map(\.recipient) == ["nobody@example.org"])
        let fromClient = try events.traceEvents(
            messageID: nil, sender: nil, recipient: nil, client: "198.51.100.7", account: nil, since: nil, limit: 10)
        #expect(fromClient.count == 2 && fromClient.allSatisfy { $0.event == .rejected })
        // An account: as sender, recipient or the authenticated user.
        let ann = try events.traceEvents(
            messageID: nil, sender: nil, recipient: nil, client: nil, account: "ann@example.org", since: nil, limit: 10)
        #expect(ann.map(\.queueID) == ["Q1", "Q1"])
        // Filters combine: Q2's sender, but only from an event at or after t0 + 2.
        let late = try events.traceEvents(
            messageID: nil, sender: "bob@example.org", recipient: nil, since: Self.t0 + 2, limit: 10)
        #expect(late.map(\.queueID) == ["Q2", "Q2"])
        #expect(
            try events.traceEvents(
                messageID: nil, sender: "ann@example.org", recipient: nil, since: Self.t0 + 2, limit: 10
            ).isEmpty)
        // The limit counts messages, each told whole, and refusals apart.
        let one = try events.traceEvents(messageID: nil, sender: nil, recipient: nil, since: nil, limit: 1)
        let told = one.filter { $0.queueID != "-" }
        #expect(Set(told.map(\.queueID)).count == 1 && told.count == 2 && one.count(where: { $0.queueID == "-" }) == 1)
    }

    /// With a limit, the messages told are those whose latest matching event is newest: a
    /// message that was received first but bounced last comes before one received after it.
    @Test(arguments: StoreKind.allCases)
    func aLimitedTraceTellsTheMessagesWithTheNewestEvents(_ kind: StoreKind) throws {
        let events: any EventStore = try kind.make()
        try events.recordEvents([
            Self.event("Q1", .received, sender: "ann@example.org"),
            Self.event("Q2", .received, at: Self.t0 + 1, sender: "ann@example.org"),
            Self.event("Q3", .received, at: Self.t0 + 2, sender: "ann@example.org"),
            Self.event("Q2", .delivered, at: Self.t0 + 3, sender: "ann@example.org", recipient: "x@remote.test"),
            Self.event("Q1", .bounced, at: Self.t0 + 4, sender: "ann@example.org", recipient: "y@remote.test"),
        ])
        let newest = { (limit: Int) in
            Set(try events.traceEvents(messageID: nil, sender: "ann@example.org", recipient: nil, since: nil, limit: limit).map(\.queueID))
        }
        #expect(try newest(1) == ["Q1"])
        #expect(try newest(2) == ["Q1", "Q2"])
        #expect(try newest(3) == ["Q1", "Q2", "Q3"])
    }

    @Test(arguments: StoreKind.allCases)
    func theDashboardCountsMessagesPerHourByOutcome(_ kind: StoreKind) throws {
        let events: any EventStore = try kind.make()
        let hour = Int64(Self.t0.timeIntervalSince1970) / 3600
        try events.recordEvents([
            Self.event("Q1", .received), Self.event("Q1", .stored), Self.event("Q2", .received),
            Self.event("Q2", .delivered),
            Self.event("Q3", .received), Self.event("Q3", .bounced), Self.event("-", .rejected),
            Self.event("Q3", .checked),
            Self.event("Q4", .received, at: Self.t0 + 3600), Self.event("Q0", .received, at: Self.t0 - 3600),
        ])
        let counts = try events.eventCountsPerHour(since: Self.t0)
        #expect(counts["received"] == [hour: 3, hour + 1: 1])
        #expect(counts["delivered"] == [hour: 2])
        #expect(counts["bounced"] == [hour: 1] && counts["refused"] == [hour: 1])
        #expect(counts["checked"] == nil && counts["stored"] == nil)
    }

    /// Events may be staged and filed later; a reader cannot tell which are which, and filing
    /// keeps the order they were recorded in.
    @Test(arguments: StoreKind.allCases)
    func stagedAndFiledEventsAreToldAlike(_ kind: StoreKind) throws {
        let events: any EventStore = try kind.make()
        let hour = Int64(Self.t0.timeIntervalSince1970) / 3600
        let recorded: [DeliveryEvent] = (0..<5).flatMap { n in
            [Self.event("Q\(n)", .received, at: Self.t0 + Double(n), sender: "ann@example.org"),
             Self.event("Q\(n)", .stored, at: Self.t0 + Double(n), recipient: "bob@example.org")]
        }
        try events.recordEvents(Array(recorded[..<4]))
        #expect(try events.fileStagedEvents(limit: 3) <= 3)
        try events.recordEvents(Array(recorded[4...]))
        // Some filed, some maybe staged: the dashboard counts every one ...
        let counts = try events.eventCountsPerHour(since: Self.t0)
        #expect(counts["received"] == [hour: 5] && counts["delivered"] == [hour: 5])
        // ... and a trace tells them all, in the order they were recorded.
        let traced = try events.traceEvents(messageID: nil, sender: nil, recipient: nil, since: nil, limit: 10)
        #expect(traced.map { "\($0.queueID) \($0.event)" } == recorded.map { "\($0.queueID) \($0.event)" })
        #expect(traced.map(\.id) == traced.map(\.id).sorted() && Set(traced.map(\.id)).count == 10)
        // Filing what is left moves fewer than asked, then nothing; nothing told changes.
        #expect(try events.fileStagedEvents(limit: 100) < 100)
        #expect(try events.fileStagedEvents(limit: 100) == 0)
        #expect(try events.traceEvents(messageID: nil, sender: nil, recipient: nil, since: nil, limit: 10) == traced)
        #expect(try events.eventCountsPerHour(since: Self.t0) == counts)
    }

    @Test(arguments: StoreKind.allCases)
    func auditEntriesComeNewestFirstFilteredByTargetAndDomain(_ kind: StoreKind) throws {
        let events: any EventStore = try kind.make()
        try events.recordAudit(Self.audit("account.add", target: "alice@example.org", domain: "example.org"))
        try events.recordAudit(Self.audit("account.add", target: "bob@other.org", domain: "other.org", at: Self.t0 + 1))
        try events.recordAudit(
            Self.audit("domain.update", target: "example.org", domain: "example.org", at: Self.t0 + 2))
        let all = try events.auditEntries(since: nil, target: nil, domains: nil, limit: 10)
        #expect(all.map(\.target) == ["example.org", "bob@other.org", "alice@example.org"])
        #expect(
            all[2] == Self.audit("account.add", target: "alice@example.org", domain: "example.org").withID(all[2].id))
        #expect(
            try events.auditEntries(since: nil, target: "ALICE@example.org", domains: nil, limit: 10).map(\.target) == [
                "alice@example.org"
            ])
        #expect(
            try events.auditEntries(since: nil, target: "example.org", domains: nil, limit: 10).map(\.target) == [
                "example.org", "alice@example.org",
            ])
        // `_` and `%` are letters in a target, not patterns.
        #expect(try events.auditEntries(since: nil, target: "b_b", domains: nil, limit: 10).isEmpty)
        #expect(
            try events.auditEntries(since: nil, target: nil, domains: ["other.org"], limit: 10).map(\.target) == [
                "bob@other.org"
            ])
        #expect(try events.auditEntries(since: nil, target: nil, domains: [], limit: 10).isEmpty)
        #expect(try events.auditEntries(since: Self.t0 + 1, target: nil, domains: nil, limit: 10).count == 2)
        #expect(
            try events.auditEntries(since: nil, target: nil, domains: nil, limit: 1).map(\.target) == ["example.org"])
    }

    @Test(arguments: StoreKind.allCases)
    func loginHistoryKeepsTheLastSuccessPerProtocolAndRecentFailures(_ kind: StoreKind) throws {
        let events: any EventStore = try kind.make(accounts: ["ann@example.org", "bob@example.org"])
        try events.recordLoginSuccess(accountID: 1, LoginRecord(protocol: "smtp", at: Self.t0, ip: "192.0.2.1"))
        try events.recordLoginSuccess(accountID: 1, LoginRecord(protocol: "imap", at: Self.t0 + 1, ip: "192.0.2.2"))
        try events.recordLoginSuccess(accountID: 1, LoginRecord(protocol: "smtp", at: Self.t0 + 2, ip: "192.0.2.3"))
        for i in 0..<30 {
            try events.recordLoginFailure(
                accountID: 1,
                LoginRecord(protocol: "imap", at: Self.t0 + Double(i), ip: "203.0.113.9", reason: "wrong password"))
        }
        let history = try events.loginHistory(accountID: 1)
        #expect(
            history.successes == [
                LoginRecord(protocol: "imap", at: Self.t0 + 1, ip: "192.0.2.2"),
                LoginRecord(protocol: "smtp", at: Self.t0 + 2, ip: "192.0.2.3"),
            ])
        // The newest failures are kept, newest first; not all thirty.
        #expect(!history.failures.isEmpty && history.failures.count < 30)
        #expect(
            history.failures.first
                == LoginRecord(protocol: "imap", at: Self.t0 + 29, ip: "203.0.113.9", reason: "wrong password"))
        #expect(history.failures.map(\.at) == history.failures.map(\.at).sorted(by: >))
        let bob = try events.loginHistory(accountID: 2)
        #expect(bob.successes.isEmpty && bob.failures.isEmpty)
    }
}

extension AuditEntry {
    fileprivate func withID(_ id: Int64) -> AuditEntry {
        var e = self
        e.id = id
        return e
    }
}
