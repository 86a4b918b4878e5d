import Foundation
import GRDB
import Testing

@testable import Delivery
import IMAP
@testable import IMAPServer
@testable import Storage

/// SORT, THREAD, ESORT and WITHIN through a session, on a small mailbox of a budget thread
/// and two lunch messages.
@Suite struct SortThreadSessionTests {
    /// (internal date, message); sizes grow with the padding so SIZE has a known order.
    static let mailbox: [(String, String)] = [
        ("10-Mar-2026 00:00:00 +0000",
            "From: \"Zoe Adams\" <zoe@example.net>\r\nTo: bob@example.org\r\nCc: carl@example.org\r\nSubject: Re: Budget\r\n"
            + "Date: Tue, 3 Mar 2026 09:00:00 +0000\r\nMessage-ID: <b2@example.net>\r\nIn-Reply-To: <b1@example.net>\r\n"
            + "References: <b1@example.net>\r\n\r\n" + String(repeating: "x", count: 5000) + "\r\n"),
        ("09-Mar-2026 00:00:00 +0000",
            "From: amy@example.net\r\nTo: \"Xavier\" <xav@example.org>\r\nSubject: Budget\r\n"
            + "Date: Mon, 2 Mar 2026 09:00:00 +0000\r\nMessage-ID: <b1@example.net>\r\n\r\n" + String(repeating: "x", count: 1000) + "\r\n"),
        ("08-Mar-2026 00:00:00 +0000",
            "From: Bob <bob@example.org>\r\nSubject: [team] Lunch\r\nDate: Wed, 4 Mar 2026 12:00:00 +0100\r\n"
            + "Message-ID: <l1@example.org>\r\n\r\n" + String(repeating: "x", count: 3000) + "\r\n"),
        ("07-Mar-2026 00:00:00 +0000",
            "From: Carl <carl@example.org>\r\nSubject: Fwd: Budget\r\nDate: Mon, 2 Mar 2026 08:00:00 -0200\r\n"
            + "Message-ID: <b3@example.org>\r\nReferences: <b1@example.net> <b2@example.net>\r\n\r\n" + String(repeating: "x", count: 2000) + "\r\n"),
        ("05-Mar-2026 00:00:00 +0000",
            "From: Amy <amy@example.net>\r\nSubject: lunch\r\n\r\n" + String(repeating: "x", count: 4000) + "\r\n"),
    ]

    /// A session with the mailbox selected. A first message, expunged, makes UIDs sequence
    /// numbers plus one.
    static func selected() throws -> (IMAPHarness, IMAPSession) {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(s, "Subject: gone\r\n\r\nx\r\n")
        for (date, message) in mailbox {
            let r = h.send(s, "ap APPEND INBOX \"\(date)\" {\(message.utf8.count)+}\r\n\(message)")
            #expect(r.contains("ap OK"), "\(r)")
        }
        h.send(s, "s SELECT INBOX")
        h.send(s, "d STORE 1 +FLAGS (\\Deleted)")
        h.send(s, "e EXPUNGE")
        return (h, s)
    }

    /// The numbers of the untagged `* SORT` line.
    static func sorted(_ response: String) -> [Int] {
        guard let line = response.split(separator: "\r\n").first(where: { $0.hasPrefix("* SORT") }) else { return [-1] }
        return line.split(separator: " ").dropFirst(2).compactMap { Int($0) }
    }

    static let sorts: [(String, [Int])] = [
        // Date: fields in UTC (4's 08:00 -0200 is 10:00); 5 has none and goes by its internal date.
        ("DATE", [2, 4, 1, 3, 5]),
        ("REVERSE DATE", [5, 3, 1, 4, 2]),
        ("ARRIVAL", [5, 4, 3, 2, 1]),
        ("SIZE", [2, 4, 3, 5, 1]),
        ("REVERSE SIZE", [1, 5, 3, 4, 2]),
        // Base subjects: BUDGET (1, 2, 4) and LUNCH (3, 5); equal keys in mailbox order.
        ("SUBJECT", [1, 2, 4, 3, 5]),
        ("SUBJECT REVERSE DATE", [1, 4, 2, 5, 3]),
        ("REVERSE SUBJECT DATE", [3, 5, 2, 4, 1]),
        // addr-mailbox of the first From: zoe, amy, bob, carl, amy.
        ("FROM", [2, 5, 3, 4, 1]),
        ("FROM REVERSE ARRIVAL", [2, 5, 3, 4, 1]),
        ("FROM ARRIVAL", [5, 2, 3, 4, 1]),
        ("TO", [3, 4, 5, 1, 2]),
        ("CC", [2, 3, 4, 5, 1]),
        // Display names: "Zoe Adams", amy@example.net (none), Bob, Carl, Amy.
        ("DISPLAYFROM", [5, 2, 3, 4, 1]),
        ("REVERSE DISPLAYFROM", [1, 4, 3, 2, 5]),
        ("DISPLAYTO", [3, 4, 5, 1, 2]),
    ]

    @Test(arguments: sorts.indices)
    func sortsBy(_ i: Int) throws {
        let (h, s) = try Self.selected()
        let (criteria, expected) = Self.sorts[i]
        let r = h.send(s, "a SORT (\(criteria)) UTF-8 ALL")
        #expect(Self.sorted(r) == expected, "\(criteria): \(r)")
        #expect(r.hasSuffix("a OK SORT completed\r\n"))
    }

    @Test func uidSortAndSortOverASearch() throws {
        let (h, s) = try Self.selected()
        #expect(Self.sorted(h.send(s, "a UID SORT (DATE) UTF-8 ALL")) == [3, 5, 2, 4, 6])
        #expect(Self.sorted(h.send(s, "b SORT (DATE) US-ASCII SUBJECT budget")) == [2, 4, 1])
        #expect(Self.sorted(h.send(s, "c UID SORT (REVERSE SIZE) UTF-8 2:4")) == [4, 5, 3])
        #expect(h.send(s, "d SORT (DATE) UTF-8 KEYWORD $Nothing").contains("* SORT\r\nd OK"))
        // RFC 7162 §3.1.5: with a MODSEQ criterion, the highest MODSEQ of the result.
        h.send(s, "f STORE 4 +FLAGS (\\Flagged)")
        let flagged = h.send(s, "f2 FETCH 4 (MODSEQ)")
        let modseq = flagged.firstMatch(of: /MODSEQ \((\d+)\)/).map { String($0.1) } ?? "?"
        let withModseq = h.send(s, "g SORT (REVERSE DATE) UTF-8 MODSEQ \(modseq)")
        #expect(withModseq.contains("* SORT 4 (MODSEQ \(modseq))\r\n"), "\(flagged)\(withModseq)")
        #expect(h.send(s, "h SORT RETURN (COUNT) (DATE) UTF-8 MODSEQ 1").contains("COUNT 5 MODSEQ \(modseq)\r\n"))
        let nope = h.send(s, "e SORT (DATE) KOI8-R ALL")
        #expect(nope.contains("e NO [BADCHARSET (UTF-8 US-ASCII)]"), "\(nope)")
    }

    @Test func threads() throws {
        let (h, s) = try Self.selected()
        // REFERENCES: 1 answers 2, 4 answers 1; the two lunches share a base subject and
        // neither is a reply, so a dummy holds them.
        #expect(h.send(s, "a THREAD REFERENCES UTF-8 ALL").contains("* THREAD (2 1 4)((3)(5))\r\na OK THREAD completed"))
        #expect(h.send(s, "b UID THREAD REFERENCES UTF-8 ALL").contains("* THREAD (3 2 5)((4)(6))\r\n"))
        // ORDEREDSUBJECT: by base subject, each thread's first message the parent of the rest.
        #expect(h.send(s, "c THREAD ORDEREDSUBJECT UTF-8 ALL").contains("* THREAD (2 (4)(1))(3 5)\r\n"))
        // Over a search result: the missing parent becomes a dummy, pruned.
        #expect(h.send(s, "d THREAD REFERENCES UTF-8 1,4").contains("* THREAD (1 4)\r\n"))
        #expect(h.send(s, "e THREAD REFERENCES UTF-8 KEYWORD $Nothing").contains("* THREAD\r\ne OK"))
    }

    @Test func esortReturnsPositionsInSortOrder() throws {
        let (h, s) = try Self.selected()
        #expect(h.send(s, "a UID SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL").contains("* ESEARCH (TAG \"a\") UID MIN 3 MAX 6 COUNT 5\r\n"))
        #expect(h.send(s, "b SORT RETURN (ALL) (DATE) UTF-8 ALL").contains("* ESEARCH (TAG \"b\") ALL 2,4,1,3,5\r\n"))
        #expect(h.send(s, "c SORT RETURN () (REVERSE ARRIVAL) UTF-8 ALL").contains("* ESEARCH (TAG \"c\") ALL 1:5\r\n"))
        #expect(h.send(s, "d SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL").contains("* ESEARCH (TAG \"d\") PARTIAL (2:3 4,1)\r\n"))
        #expect(h.send(s, "e SORT RETURN (PARTIAL 4:10 COUNT) (DATE) UTF-8 ALL").contains("* ESEARCH (TAG \"e\") PARTIAL (4:10 3,5) COUNT 5\r\n"))
        #expect(h.send(s, "f SORT RETURN (PARTIAL 10:20) (DATE) UTF-8 ALL").contains("* ESEARCH (TAG \"f\") PARTIAL (10:20 NIL)\r\n"))
        #expect(h.send(s, "g SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 KEYWORD $Nothing").contains("* ESEARCH (TAG \"g\") COUNT 0\r\n"))
        // SAVE keeps the matches for "$" (RFC 5182).
        #expect(h.send(s, "h SORT RETURN (SAVE) (DATE) UTF-8 SUBJECT lunch").contains("h OK"))
        #expect(h.send(s, "i SEARCH $").contains("* SEARCH 3 5\r\n"))
    }

    @Test func withinComparesInternalDatesWithNow() throws {
        let h = try IMAPHarness()
        let s = h.session()
        let message = "Subject: old\r\n\r\nx\r\n"
        h.send(s, "ap APPEND INBOX \"01-Jan-2020 00:00:00 +0000\" {\(message.utf8.count)+}\r\n\(message)")
        h.append(s, "Subject: new\r\n\r\nx\r\n")
        h.send(s, "s SELECT INBOX")
        #expect(h.send(s, "a SEARCH OLDER 86400").contains("* SEARCH 1\r\n"))
        #expect(h.send(s, "b SEARCH YOUNGER 86400").contains("* SEARCH 2\r\n"))
        #expect(h.send(s, "c UID SEARCH NOT YOUNGER 86400").contains("* SEARCH 1\r\n"))
        #expect(Self.sorted(h.send(s, "d SORT (REVERSE ARRIVAL) UTF-8 YOUNGER 4000000000")) == [2, 1])
    }

    @Test func malformedSortsAndUnknownAlgorithmsAreBad() throws {
        let (h, s) = try Self.selected()
        #expect(h.send(s, "a SORT (NEWEST) UTF-8 ALL").hasPrefix("a BAD"))
        #expect(h.send(s, "b SORT DATE UTF-8 ALL").hasPrefix("b BAD"))
        #expect(h.send(s, "c SORT (DATE) UTF-8").hasPrefix("c BAD"))
        #expect(h.send(s, "d THREAD FASTEST UTF-8 ALL").hasPrefix("d BAD"))
        #expect(h.send(s, "e SORT RETURN (PARTIAL 0:5) (DATE) UTF-8 ALL").hasPrefix("e BAD"))
        let fresh = h.session()
        #expect(h.send(fresh, "f SORT (DATE) UTF-8 ALL").hasPrefix("f BAD"))
    }

    @Test func sortsMailStoredWithoutAnEnvelopeFromItsBytes() throws {
        let (h, s) = try Self.selected()
        try h.store.writer.write { db in
            try db.execute(sql: "DELETE FROM blob_meta WHERE blob_id IN (SELECT b.rowid FROM blobs b JOIN messages m ON m.blob_hash = b.hash WHERE m.uid IN (3, 6))")
        }
        #expect(Self.sorted(h.send(s, "a SORT (DATE) UTF-8 ALL")) == [2, 4, 1, 3, 5])
        #expect(Self.sorted(h.send(s, "b SORT (DISPLAYFROM) UTF-8 ALL")) == [5, 2, 3, 4, 1])
        #expect(h.send(s, "c THREAD REFERENCES UTF-8 ALL").contains("* THREAD (2 1 4)((3)(5))\r\n"))
    }

    /// Keys computed by one SORT serve the next, in any session; new mail and new keys are
    /// read when needed, and expunged mail drops out.
    @Test func sortKeysAreSharedAndStayRight() throws {
        let (h, s) = try Self.selected()
        #expect(Self.sorted(h.send(s, "a SORT (DATE) UTF-8 ALL")) == [2, 4, 1, 3, 5])
        let other = h.session()
        h.send(other, "s SELECT INBOX")
        #expect(Self.sorted(h.send(other, "b SORT (SUBJECT DATE) UTF-8 ALL")) == [2, 4, 1, 3, 5])
        let late = "From: aaron@example.com\r\nSubject: Aardvark\r\nDate: Sun, 1 Mar 2026 00:00:00 +0000\r\n\r\nx\r\n"
        h.send(other, "ap APPEND INBOX {\(late.utf8.count)+}\r\n\(late)")
        h.send(s, "n NOOP")
        #expect(Self.sorted(h.send(s, "c SORT (DATE) UTF-8 ALL")) == [6, 2, 4, 1, 3, 5])
        #expect(Self.sorted(h.send(s, "d SORT (SUBJECT) UTF-8 ALL")) == [6, 1, 2, 4, 3, 5])
        #expect(Self.sorted(h.send(s, "e SORT (FROM) UTF-8 ALL")) == [6, 2, 5, 3, 4, 1])
        h.send(s, "f STORE 2 +FLAGS (\\Deleted)")
        h.send(s, "g EXPUNGE")
        #expect(Self.sorted(h.send(s, "h SORT (FROM) UTF-8 ALL")) == [5, 4, 2, 3, 1])
    }

    /// A kept SORT answer serves any subset of the messages it ordered, numbered as the
    /// request asks and after expunges; new mail, a new criterion or other messages make
    /// the next SORT compute again. A kept THREAD answer serves only the same messages.
    @Test func keptAnswersServeOnlyWhatTheyCover() throws {
        let (h, s) = try Self.selected()
        #expect(Self.sorted(h.send(s, "a SORT (FROM) UTF-8 ALL")) == [2, 5, 3, 4, 1])
        // zoe, bob, amy
        #expect(Self.sorted(h.send(s, "b SORT (FROM) UTF-8 1,3,5")) == [5, 3, 1])
        #expect(Self.sorted(h.send(s, "c UID SORT (FROM) UTF-8 ALL")) == [3, 6, 4, 5, 2])
        #expect(Self.sorted(h.send(s, "d SORT (REVERSE FROM) UTF-8 ALL")) == [1, 4, 3, 2, 5])
        #expect(h.send(s, "e SORT RETURN (MIN MAX COUNT) (FROM) UTF-8 ALL").contains("* ESEARCH (TAG \"e\") MIN 2 MAX 1 COUNT 5"))
        // amy (2) goes: the others move up one sequence number.
        h.send(s, "f STORE 2 +FLAGS (\\Deleted)")
        h.send(s, "g EXPUNGE")
        #expect(Self.sorted(h.send(s, "h SORT (FROM) UTF-8 ALL")) == [4, 2, 3, 1])
        let late = "From: aaron@example.com\r\nSubject: Re: Lunch\r\nDate: Sun, 1 Mar 2026 00:00:00 +0000\r\n"
            + "Message-ID: <l2@example.com>\r\nReferences: <l1@example.org>\r\n\r\nx\r\n"
        #expect(h.send(s, "i THREAD REFERENCES UTF-8 ALL").contains("* THREAD (1 3)((2)(4))\r\n"))
        h.send(s, "ap APPEND INBOX {\(late.utf8.count)+}\r\n\(late)")
        h.send(s, "n NOOP")
        #expect(Self.sorted(h.send(s, "j SORT (FROM) UTF-8 ALL")) == [5, 4, 2, 3, 1])
        #expect(Self.sorted(h.send(s, "k SORT (FROM) UTF-8 2:5")) == [5, 4, 2, 3])
        // The reply joins its lunch thread; the other threads are as before.
        #expect(h.send(s, "l THREAD REFERENCES UTF-8 ALL").contains("* THREAD (1 3)((2 5)(4))\r\n"))
        #expect(h.send(s, "m THREAD REFERENCES UTF-8 1:4").contains("* THREAD (1 3)((2)(4))\r\n"))
    }

    /// Over its capacity, the cache drops the mailboxes used longest ago, never the one just used.
    @Test func theCacheKeepsTheMailboxInUse() {
        let cache = SortKeyCache(capacity: 3000)
        let uids = Array(Int64(1)...40)
        let keys: Set<SortCriterion.Key> = [.date, .from]
        var records = uids.map { SortRecord(number: UInt32($0)) }
        for mailbox in Int64(1)...2 {
            cache.store(records, uids: uids, indices: Array(records.indices), mailbox: mailbox, keys: keys)
        }
        // 40 messages with one string key are about 40 * (64 + 80) bytes: only one mailbox fits.
        #expect(cache.fill(&records, uids: uids, mailbox: 1, keys: keys).count == 40)
        #expect(cache.fill(&records, uids: uids, mailbox: 2, keys: keys).isEmpty)
        cache.storeOrder(uids.reversed(), mailbox: 2, criteria: [SortCriterion(.from)])
        #expect(cache.order(mailbox: 2, criteria: [SortCriterion(.from)]) == uids.reversed())
        #expect(cache.order(mailbox: 2, criteria: [SortCriterion(.from, reverse: true)]) == nil)
    }

    /// A mailbox keeps the orders of its last few criteria lists; the one used longest ago
    /// goes first, so the lists a client keeps asking for stay however many others come by.
    @Test func theOrdersUsedLongestAgoGoFirst() {
        let cache = SortKeyCache()
        let lists = SortCriterion.Key.allCases.flatMap {
            [[SortCriterion($0)], [SortCriterion($0, reverse: true)], [SortCriterion($0), SortCriterion(.arrival)]]
        }
        #expect(lists.count > SortKeyCache.ordersPerMailbox + 2)
        for (i, criteria) in lists.enumerated() {
            cache.storeOrder([Int64(i)], mailbox: 1, criteria: criteria)
            // The first list is asked for after every other one.
            #expect(cache.order(mailbox: 1, criteria: lists[0]) == [0])
        }
        #expect(cache.order(mailbox: 1, criteria: lists[1]) == nil)
        let last = lists.count - 1
        #expect(cache.order(mailbox: 1, criteria: lists[last]) == [Int64(last)])
        #expect(cache.order(mailbox: 1, criteria: lists[last - SortKeyCache.ordersPerMailbox + 2]) != nil)
        #expect(cache.order(mailbox: 1, criteria: lists[last - SortKeyCache.ordersPerMailbox + 1]) == nil)
    }

    @Test func capabilitiesNameTheExtensions() throws {
        let h = try IMAPHarness()
        let caps = h.send(h.session(), "a CAPABILITY")
        for c in ["SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "ESORT", "WITHIN"] {
            #expect(caps.contains(" \(c) ") || caps.contains(" \(c)\r\n"), "\(c)")
        }
        #expect(!caps.contains("CONTEXT=SEARCH") && !caps.contains("CONTEXT=SORT"))
    }
}
