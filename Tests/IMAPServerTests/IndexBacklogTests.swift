import Foundation
import Testing

@testable import Delivery
@testable import IMAPServer
@testable import Storage

/// Delivery leaves the search index to a background indexer; SEARCH must stay exact for
/// messages it has not reached yet, and once it has.
@Suite struct IndexBacklogTests {
    static func delivered(_ body: String, subject: String) -> InboundMessage {
        InboundMessage(
            sender: "sender@elsewhere.com", recipients: ["alice@example.org"],
            data: Array("Subject: \(subject)\r\nFrom: Zed <zed@elsewhere.com>\r\nMessage-ID: <\(UUID().uuidString)@x>\r\n\r\n\(body)\r\n".utf8),
            receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "client", tls: nil, authenticatedUser: nil)
    }

    @Test func searchFindsMessagesTheIndexerHasNotReached() async throws {
        let h = try IMAPHarness()
        h.delivery.indexer.stop()
        _ = try await h.delivery.deliver(Self.delivered("the quokka was sighted", subject: "wildlife"))
        _ = try await h.delivery.deliver(Self.delivered("nothing to see", subject: "quokka report"))
        _ = try await h.delivery.deliver(Self.delivered("plain", subject: "other"))
        #expect(try h.store.indexBacklogCount() == 3)
        let s = h.session()
        h.send(s, "a SELECT INBOX")
        func search(_ query: String) -> String {
            h.send(s, "s SEARCH \(query)").split(separator: "\r\n").first { $0.hasPrefix("* SEARCH") }.map(String.init) ?? ""
        }
        let queries = ["BODY quokka", "SUBJECT quokka", "TEXT quokka", "FROM zed@elsewhere", "BODY sighted NOT SUBJECT other", "BODY absent"]
        let before = queries.map(search)
        #expect(before == ["* SEARCH 1", "* SEARCH 2", "* SEARCH 1 2", "* SEARCH 1 2 3", "* SEARCH 1", "* SEARCH"])
        // Indexed now: the same answers, from the index.
        try h.delivery.indexWaitingMessages()
        #expect(try h.store.indexBacklogCount() == 0)
        let inbox = try #require(try h.env.store.mailbox(accountID: 1, name: "INBOX"))
        #expect(try h.env.store.unindexedUIDs(mailboxID: inbox.id).isEmpty)
        #expect(queries.map(search) == before)
    }

    @Test func theIndexerWorksOffTheBacklogByItself() async throws {
        let h = try IMAPHarness()
        for i in 0..<100 { _ = try await h.delivery.deliver(Self.delivered("numbat \(i)", subject: "n\(i)")) }
        var waited = 0
        while try h.store.indexBacklogCount() > 0 && waited < 2000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(try h.store.indexBacklogCount() == 0)
        let inbox = try #require(try h.env.store.mailbox(accountID: 1, name: "INBOX"))
        #expect(try h.env.store.textSearch(mailboxID: inbox.id, fields: [.body], needle: "numbat").count == 100)
    }
}
