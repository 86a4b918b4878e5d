import Foundation
import GRDB
import Testing

@testable import Delivery
@testable import IMAPServer
@testable import Storage

/// Delivery leaves the search index and the IMAP metadata (ENVELOPE, BODYSTRUCTURE, the Date:
/// instant) to a background indexer; SEARCH, FETCH and SORT must answer the same for messages
/// it has not reached yet, and once it has.
@Suite struct IndexBacklogTests {
    static func delivered(_ body: String, subject: String, date: String? = nil) -> InboundMessage {
        let dated = date.map { "Date: \($0)\r\n" } ?? ""
        return InboundMessage(
            sender: "sender@elsewhere.com", recipients: ["alice@example.org"],
            data: Array(
                "\(dated)Subject: \(subject)\r\nFrom: Zed <zed@elsewhere.com>\r\nMessage-ID: <\(UUID().uuidString)@x>\r\n\r\n\(body)\r\n"
                    .utf8),
            receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "client", tls: nil,
            authenticatedUser: nil)
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
            h.send(s, "s SEARCH \(query)").split(separator: "\r\n").first { $0.hasPrefix("* SEARCH") }.map(String.init)
                ?? ""
        }
        let queries = [
            "BODY quokka", "SUBJECT quokka", "TEXT quokka", "FROM zed@elsewhere", "BODY sighted NOT SUBJECT other",
            "BODY absent",
        ]
        let before = queries.map(search)
        #expect(before == ["* SEARCH 1", "* SEARCH 2", "* SEARCH 1 2", "* SEARCH 1 2 3", "* SEARCH 1", "* SEARCH"])
        // Indexed now: the same answers, from the index.
        try h.delivery.indexWaitingMessages()
        #expect(try h.store.indexBacklogCount() == 0)
        let inbox = try #require(try h.env.store.mailbox(accountID: 1, name: "INBOX"))
        #expect(try h.env.store.unindexedUIDs(mailboxID: inbox.id).isEmpty)
        #expect(queries.map(search) == before)
    }

    @Test func fetchSortAndSentDatesAnswerTheSameBeforeTheIndexer() async throws {
        let h = try IMAPHarness()
        h.delivery.indexer.stop()
        _ = try await h.delivery.deliver(
            Self.delivered("one", subject: "Re: banksia", date: "Tue, 3 Mar 2026 23:30:00 -0500"))
        _ = try await h.delivery.deliver(
            Self.delivered("two", subject: "acacia", date: "Mon, 2 Mar 2026 10:00:00 +0000"))
        _ = try await h.delivery.deliver(Self.delivered("three", subject: "waratah"))
        let inbox = try #require(try h.env.store.mailbox(accountID: 1, name: "INBOX"))
        var stored: [Bool] = []
        try h.store.scanSortFields(mailboxID: inbox.id, uids: 1, 3) { stored.append($0.stored) }
        #expect(stored == [false, false, false], "delivery leaves the metadata to the indexer")
        func answers() -> [String] {
            let s = h.session()
            h.send(s, "a SELECT INBOX")
            return [
                "f FETCH 1:* (ENVELOPE BODYSTRUCTURE)", "s1 SORT (DATE) UTF-8 ALL", "s2 SORT (SUBJECT) UTF-8 ALL",
                "s3 SEARCH SENTON 3-Mar-2026", "s4 SEARCH SENTBEFORE 3-Mar-2026", "t THREAD ORDEREDSUBJECT UTF-8 ALL",
            ].map { h.send(s, $0) }
        }
        let before = answers()
        #expect(before[1].contains("* SORT 2 1 3\r\n") && before[2].contains("* SORT 2 1 3\r\n"), "\(before)")
        // 23:30 at -0500 is the 3rd where it was written (the 4th in UTC).
        #expect(before[3].contains("* SEARCH 1\r\n") && before[4].contains("* SEARCH 2\r\n"), "\(before)")
        try h.delivery.indexWaitingMessages()
        stored = []
        try h.store.scanSortFields(mailboxID: inbox.id, uids: 1, 3) { stored.append($0.stored) }
        #expect(stored == [true, true, true])
        #expect(answers() == before)
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

    /// A SEARCH that had to read many messages for want of their words makes the indexer
    /// stop waiting for a pause in the mail; one that read a few does not.
    @Test func aSearchThatReadManyUnindexedMessagesUrgesTheIndexer() async throws {
        let h = try IMAPHarness()
        h.delivery.indexer.stop()
        let s = h.session()
        for i in 0..<SearchEvaluator.unindexedBeforeUrging {
            _ = try await h.delivery.deliver(Self.delivered("bilby \(i)", subject: "b\(i)"))
            if i == 10 {
                h.send(s, "a SELECT INBOX")
                #expect(h.send(s, "s SEARCH BODY wombat").contains("* SEARCH\r\n"))
                #expect(!h.delivery.indexer.activity.isUrged)
            }
        }
        h.send(s, "a SELECT INBOX")
        #expect(h.send(s, "s SEARCH BODY bilby").contains("* SEARCH 1 2 3 "))
        #expect(h.delivery.indexer.activity.isUrged)
    }

    /// SORT by the keys the indexer keeps answers as SORT by the envelopes did, for mail with
    /// them, for mail from before they were kept, and once the indexer has kept them for that
    /// mail too. Each answer comes from a new environment: the shared key cache would
    /// otherwise answer.
    @Test func sortByKeptKeysAnswersAsByEnvelopes() async throws {
        let h = try IMAPHarness()
        // Only this test's own calls work off the backlog: the background indexer would race
        // the checks of which keys are kept.
        h.delivery.indexer.stop()
        let messages = [
            "Subject: Re: [club] Fwd: Zebra crossing\r\nFrom: \"Ünal\" <unal@b.example>\r\nTo: team: x@y.example, z@y.example;\r\nDate: Tue, 3 Mar 2026 10:00:00 +0000",
            "Subject: =?UTF-8?B?w5xiZXIgYWxsZXM=?=\r\nFrom: =?ISO-8859-1?Q?Andr=E9?= <Andre@a.example>\r\nTo: bob@c.example\r\nCc: Carol <carol@d.example>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000",
            "Subject: apple (fwd)\r\nFrom: zed@a.example\r\nTo: \"Ann\" <ann@a.example>\r\nCc: aaron@a.example",
            "From: Mallory <MALLORY@z.example>\r\nTo: undisclosed-recipients:;\r\nDate: Sun, 1 Mar 2026 10:00:00 -0500",
            "Subject: zebra Crossing\r\nFrom: \"bea\" <bea@b.example>\r\nTo: Zoe <zoe@b.example>\r\nDate: Sun, 1 Mar 2026 09:00:00 +0000",
        ]
        for m in messages {
            let bytes = Array("\(m)\r\nMessage-ID: <\(UUID().uuidString)@x>\r\n\r\nbody\r\n".utf8)
            _ = try await h.delivery.deliver(
                InboundMessage(
                    sender: "s@elsewhere.com", recipients: ["alice@example.org"], data: bytes,
                    receivedHeader: "Received: from test\r\n",
                    clientIP: "192.0.2.1", helo: "client", tls: nil, authenticatedUser: nil))
        }
        try h.delivery.indexWaitingMessages()
        let criteria = [
            "SUBJECT", "REVERSE SUBJECT", "FROM", "TO", "CC", "DISPLAYFROM", "DISPLAYTO", "DATE", "ARRIVAL", "SIZE",
            "SUBJECT DATE", "CC REVERSE FROM",
        ]
        func answers() -> [String] {
            let s = h.session(in: h.freshEnvironment())
            h.send(s, "a SELECT INBOX")
            return criteria.map { c in
                h.send(s, "s SORT (\(c)) UTF-8 ALL").split(separator: "\r\n").first { $0.hasPrefix("* SORT") }.map(
                    String.init) ?? ""
            }
        }
        let inbox = try #require(try h.env.store.mailbox(accountID: 1, name: "INBOX"))
        func keptRows() throws -> Int {
            var n = 0
            try h.store.scanSortKeys(mailboxID: inbox.id, uids: 1, 5) { if $0.keys != nil { n += 1 } }
            return n
        }
        #expect(try keptRows() == 5)
        let kept = answers()
        // Base subjects: "Zebra crossing", "Über alles", "apple", "", "zebra Crossing".
        #expect(kept[0] == "* SORT 4 3 2 1 5", "\(kept)")
        #expect(kept[2] == "* SORT 2 5 4 1 3", "FROM compares addr-mailbox: \(kept)")
        // As stored before v26-sort-keys: no keys, waiting in the backlog.
        try await h.store.writer.write { db in
            try db.execute(
                sql: "DELETE FROM sort_keys; INSERT INTO sort_keys_backlog (blob_id) SELECT blob_id FROM blob_meta")
        }
        #expect(try keptRows() == 0)
        #expect(answers() == kept)
        try h.delivery.indexWaitingMessages()
        #expect(try keptRows() == 5 && h.store.sortKeysBacklog(limit: 10).isEmpty)
        #expect(answers() == kept)
        // A message's keys go with its metadata.
        try await h.store.writer.write { db in try db.execute(sql: "DELETE FROM blob_meta") }
        #expect(try keptRows() == 0)
    }

    /// A server being stopped does not wait for a whole batch: the indexer stops after the
    /// message under way, indexes what it read, and leaves the rest waiting (a batch of 64
    /// large messages once held a stop past its 20 s in CI).
    @Test func aBatchStopsAfterTheMessageUnderWay() async throws {
        let h = try IMAPHarness()
        h.delivery.indexer.stop()
        for n in 0..<5 {
            _ = try await h.delivery.deliver(Self.delivered("message number \(n)", subject: "stop \(n)", date: "Mon, 2 Mar 2026 10:00:00 +0000"))
        }
        var asked = 0
        #expect(try h.delivery.indexer.indexBatch(until: { asked += 1; return asked > 2 }) == 2)
        #expect(try h.store.indexBacklogCount() == 3)
        #expect(try h.delivery.indexer.indexBatch() == 3)
        #expect(try h.store.indexBacklogCount() == 0)
    }

    /// One indexing transaction writes one segment of the search index, however many messages
    /// it holds. A statement in it that opened a savepoint (an INSERT … SELECT of the SORT
    /// keys did) between the messages' texts made FTS5 write a segment per message, and
    /// merging them doubled the indexer's CPU.
    @Test func aBatchOfMessagesIsOneSegmentOfTheIndex() async throws {
        let h = try IMAPHarness()
        h.delivery.indexer.stop()
        for n in 0..<20 {
            _ = try await h.delivery.deliver(Self.delivered("message number \(n)", subject: "batch \(n)", date: "Mon, 2 Mar 2026 10:00:00 +0000"))
        }
        #expect(try h.delivery.indexer.indexBatch() == 20)
        // Each segment is at least one row of the index's data table, with its structure and
        // averages records beside them.
        let rows = try await h.store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blob_text_data") ?? 0 }
        #expect(rows < 10, "\(rows) rows of index data for 20 messages indexed together")
        // And the keys SORT compares were kept for every one.
        #expect(try h.store.sortKeysBacklog(limit: 30).isEmpty)
        let kept = try await h.store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sort_keys WHERE sent_date IS NOT NULL") ?? 0 }
        #expect(kept == 20)
    }

    /// THREAD=REFERENCES by the IDs the indexer keeps (ThreadKeys, v28-thread-keys) answers as
    /// THREAD by each message's header did: for mail with them, for mail from before they were
    /// kept (the header is read), and once the indexer has kept them from the headers.
    @Test func threadByKeptKeysAnswersAsByHeaders() async throws {
        let h = try IMAPHarness()
        h.delivery.indexer.stop()
        let messages = [
            "Subject: topic\r\nMessage-ID: <a@x>\r\nDate: Sun, 1 Mar 2026 10:00:00 +0000",
            "Subject: Re: topic\r\nMessage-ID: <b@x>\r\nIn-Reply-To: Ann's note <a@x>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000",
            "Subject: Re: topic\r\nMessage-ID:\r\n <c@x>\r\nReferences: <a@x>\r\n <b@x>\r\nDate: Tue, 3 Mar 2026 10:00:00 +0000",
            "Subject: other\r\nMessage-ID: <d@x>\r\nReferences: <gone@x>\r\nDate: Wed, 4 Mar 2026 10:00:00 +0000",
            "Subject: other\r\nMessage-ID: <e@x>\r\nReferences: <gone@x>\r\nDate: Thu, 5 Mar 2026 10:00:00 +0000",
            "Subject: Fwd: lone\r\nDate: Fri, 6 Mar 2026 10:00:00 +0000",
            // Kept in a file of its own, not in the database: the indexer reads its header there.
            "Subject: big\r\nMessage-ID: <g@x>\r\nReferences: <a@x>\r\nDate: Sat, 7 Mar 2026 10:00:00 +0000",
        ]
        for m in messages {
            let big = m.hasPrefix("Subject: big")
            let body = big ? String(repeating: "0123456789abcdef\r\n", count: 20_000) : "body\r\n"
            _ = try await h.delivery.deliver(
                InboundMessage(
                    sender: "s@elsewhere.com", recipients: ["alice@example.org"],
                    data: Array("\(m)\r\nFrom: s@elsewhere.com\r\n\r\n\(body)".utf8),
                    receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "client", tls: nil,
                    authenticatedUser: nil))
        }
        try h.delivery.indexWaitingMessages()
        let inbox = try #require(try h.env.store.mailbox(accountID: 1, name: "INBOX"))
        func kept() throws -> [ThreadKeys?] {
            var keys: [ThreadKeys?] = []
            try h.store.scanSortKeys(mailboxID: inbox.id, uids: 1, 7) {
                keys.append($0.keys?.thread.flatMap(ThreadKeys.init(encoded:)))
            }
            return keys
        }
        #expect(
            try kept() == [
                ThreadKeys(messageID: "a@x", references: [], isReplyOrForward: false),
                ThreadKeys(messageID: "b@x", references: ["a@x"], isReplyOrForward: true),
                ThreadKeys(messageID: "c@x", references: ["a@x", "b@x"], isReplyOrForward: true),
                ThreadKeys(messageID: "d@x", references: ["gone@x"], isReplyOrForward: false),
                ThreadKeys(messageID: "e@x", references: ["gone@x"], isReplyOrForward: false),
                ThreadKeys(messageID: nil, references: [], isReplyOrForward: true),
                ThreadKeys(messageID: "g@x", references: ["a@x"], isReplyOrForward: false),
            ])
        func answers() -> [String] {
            let s = h.session(in: h.freshEnvironment())
            h.send(s, "a SELECT INBOX")
            return ["THREAD REFERENCES", "UID THREAD REFERENCES", "THREAD ORDEREDSUBJECT"].map { c in
                h.send(s, "t \(c) UTF-8 ALL").split(separator: "\r\n").first { $0.hasPrefix("* THREAD") }.map(
                    String.init) ?? ""
            }
        }
        let answer = answers()
        // 4 and 5 reply to the same missing message: a dummy parent holds them.
        #expect(answer[0] == "* THREAD (1 (2 3)(7))((4)(5))(6)", "\(answer)")
        #expect(answer[2] == "* THREAD (1 (2)(3))(4 5)(6)(7)", "\(answer)")
        // As stored before v28-thread-keys: none kept, the headers waiting in the backlog.
        try await h.store.writer.write { db in
            try db.execute(
                sql: """
                    UPDATE sort_keys SET thread = NULL;
                    INSERT INTO thread_keys_backlog (blob_id) SELECT blob_id FROM blob_meta;
                    """)
        }
        #expect(try kept() == Array(repeating: nil, count: 7))
        #expect(answers() == answer)
        try h.delivery.indexWaitingMessages()
        #expect(try kept().compactMap { $0 }.count == 7 && h.store.threadKeysBacklog(limit: 10).isEmpty)
        #expect(answers() == answer)
    }
}
