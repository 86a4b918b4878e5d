import Foundation
import GRDB
import Testing

@testable import Delivery
@testable import Storage

/// A delivery's events are staged by its commit and filed by the background filer.
@Suite struct EventFilerTests {
    static func counts(_ store: SQLiteStore) throws -> (staged: Int, filed: Int) {
        try store.writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event_staging")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM delivery_events")!)
        }
    }

    /// Polls `done` every 10 ms, for at most `seconds`.
    static func eventually(within seconds: Int = 10, _ done: () throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 100) {
            if try done() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try done()
    }

    @Test func aDeliveredMessagesEventsAreStagedThenFiled() async throws {
        let h = try PolicyHarness()
        defer { h.delivery.stop() }
        let message = InboundMessage(
            sender: "sender@elsewhere.com", recipients: ["alice@example.org"],
            data: Array("Subject: staged\r\nMessage-ID: <staged@x>\r\n\r\nhello\r\n".utf8),
            receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "client", tls: nil, authenticatedUser: nil)
        _ = try await h.delivery.deliver(message)
        // Filed within the filer's gathering time and a little more; staged until then.
        let filed = try await Self.eventually { try Self.counts(h.store) == (0, 2) }
        #expect(filed, "staged and filed: \(String(describing: try? Self.counts(h.store)))")
    }

    @Test func theFilerFilesEverythingStagedInBatches() async throws {
        let store = try SQLiteStore.inMemory()
        let n = EventFiler.batch * 2 + 5
        try store.recordEvents((0..<n).map { i in
            DeliveryEvent(
                at: Date(timeIntervalSince1970: 1_800_000_000 + Double(i)), queueID: "-", messageID: nil, event: .rejected,
                sender: "s\(i)@example.net", recipient: "nobody@example.org", clientIP: "192.0.2.1", helo: nil, tls: nil,
                authUser: nil, detail: nil, reply: "550 5.1.1 no such user")
        })
        #expect(try Self.counts(store) == (n, 0), "a recorded event is staged")
        let filer = EventFiler(store: store, gather: .zero)
        defer { filer.stop() }
        filer.start()
        let filed = try await Self.eventually { try Self.counts(store) == (0, n) }
        #expect(filed, "staged and filed: \(String(describing: try? Self.counts(store)))")
        let senders = try await store.writer.read { db in try String.fetchAll(db, sql: "SELECT sender FROM delivery_events ORDER BY id") }
        #expect(senders == (0..<n).map { "s\($0)@example.net" })
    }
}
