import Foundation
import Testing

@testable import IMAP
import MailCore

/// THREAD's two algorithms and its response (RFC 5256 §3, §4, §5), and SORT's ordering.
struct ThreadingTests {
    /// A message for the tables: number, Message-ID, References, subject, date (and Re: flag).
    static func m(_ n: UInt32, id: String? = nil, refs: [String] = [], _ subject: String = "", reply: Bool = false, date: Double? = nil) -> ThreadMessage {
        ThreadMessage(number: n, messageID: id, references: refs, baseSubject: subject, isReplyOrForward: reply, date: date ?? Double(n))
    }

    @Test func encodesTheRFCExamples() {
        // RFC 5256 §5: 2, and 3 with 6 under it, 4 (with 23) and 44 (with 7, with 96) under 6.
        let threads = [
            ThreadNode(2),
            ThreadNode(3, [ThreadNode(6, [ThreadNode(4, [ThreadNode(23)]), ThreadNode(44, [ThreadNode(7, [ThreadNode(96)])])])]),
        ]
        #expect(Threader.encode(ThreadForest(threads)) == "(2)(3 6 (4 23)(44 7 96))")
        // A dummy parent of 3 and 5.
        #expect(Threader.encode(ThreadForest([ThreadNode(nil, [ThreadNode(3), ThreadNode(5)])])) == "((3)(5))")
        #expect(Threader.encode(ThreadForest()) == "")
    }

    /// RFC 5256 §4's ORDEREDSUBJECT answer (177 not in the search result), from messages that produce it: 174's subject has
    /// five more messages, 181 sent before 180; 172 follows 169.
    @Test func orderedSubjectReproducesTheRFCExample() {
        var messages: [ThreadMessage] = []
        for n: UInt32 in 166...181 where n != 177 {
            let subject: String
            switch n {
            case 169, 172: subject = "B"
            case 174, 175, 176, 178, 180, 181: subject = "A"
            default: subject = "S\(n)"
            }
            messages.append(Self.m(n, subject, date: n == 181 ? 179.5 : n == 179 ? 200 : Double(n)))
        }
        #expect(Threader.encode(Threader.orderedSubject(messages)) == "(166)(167)(168)(169 172)(170)(171)(173)(174 (175)(176)(178)(181)(180))(179)")
    }

    /// RFC 5256 §4's REFERENCES answer for the same mailbox: 170 and 179 answer one missing
    /// message (a dummy parent); 174 to 181 answer another; 172 answers 169.
    @Test func referencesReproducesTheRFCExample() {
        var messages: [ThreadMessage] = []
        for n: UInt32 in 166...181 where n != 177 {
            var refs: [String] = []
            switch n {
            case 172: refs = ["169@x"]
            case 170, 179: refs = ["gone1@x"]
            case 174, 175, 176, 178, 180, 181: refs = ["gone2@x"]
            default: break
            }
            messages.append(Self.m(n, id: "\(n)@x", refs: refs, "S\(n)", date: n == 181 ? 179.5 : n == 179 ? 200 : Double(n)))
        }
        #expect(Threader.encode(Threader.references(messages)) == "(166)(167)(168)(169 172)((170)(179))(171)(173)((174)(175)(176)(178)(181)(180))")
    }

    static let referenceTables: [(String, [ThreadMessage], String)] = [
        ("a chain, a reply to a reply",
            [m(1, id: "a@x", "hi"), m(2, id: "b@x", refs: ["a@x"], "hi", reply: true), m(3, id: "c@x", refs: ["a@x", "b@x"], "hi", reply: true)],
            "(1 2 3)"),
        ("two replies to one message, sorted by date",
            [m(1, id: "a@x", "hi"), m(2, id: "b@x", refs: ["a@x"], "hi", reply: true, date: 9), m(3, id: "c@x", refs: ["a@x"], "hi", reply: true, date: 5)],
            "(1 (3)(2))"),
        ("In-Reply-To alone links (the session passes it as the only reference)",
            [m(1, id: "a@x", "x"), m(2, id: "b@x", refs: ["a@x"], "y")],
            "(1 2)"),
        ("a reply whose parent is missing, alone: the dummy is pruned",
            [m(1, id: "b@x", refs: ["gone@x"], "hi", reply: true)],
            "(1)"),
        ("a missing middle message: the grandchild hangs under the first",
            [m(1, id: "a@x", "t"), m(2, id: "c@x", refs: ["a@x", "b@x"], "t", reply: true)],
            "(1 2)"),
        ("a message's own References replace a link from another's truncated ones",
            [m(1, id: "a@x", "t"), m(2, id: "z@x", refs: ["a@x", "c@x"], "t"), m(3, id: "b@x", refs: ["a@x"], "t"), m(4, id: "c@x", refs: ["a@x", "b@x"], "t")],
            "(1 3 4 2)"),
        ("a loop in References is not followed",
            [m(1, id: "a@x", refs: ["b@x"], "t"), m(2, id: "b@x", refs: ["a@x"], "t")],
            "(2 1)"),
        ("duplicate Message-IDs: the second is a message of its own",
            [m(1, id: "a@x", "one"), m(2, id: "a@x", "two")],
            "(1)(2)"),
        ("no references: same base subject groups; the reply goes under the original",
            [m(1, id: "a@x", "lunch", reply: true), m(2, id: "b@x", "lunch"), m(3, id: "c@x", "other")],
            "(2 1)(3)"),
        ("same subject, neither a reply: a dummy holds both",
            [m(1, id: "a@x", "report"), m(2, id: "b@x", "report")],
            "((1)(2))"),
        ("empty subjects are not gathered",
            [m(1, id: "a@x", ""), m(2, id: "b@x", "")],
            "(1)(2)"),
        ("threads go by the date of their first message; ties by mailbox order",
            [m(1, id: "a@x", "p", date: 50), m(2, id: "b@x", "q", date: 10), m(3, id: "c@x", "r", date: 10)],
            "(2)(3)(1)"),
        ("a dummy root sorts by its first child",
            [m(1, id: "a@x", "p", date: 5), m(2, id: "b@x", refs: ["gone@x"], "q", date: 9), m(3, id: "c@x", refs: ["gone@x"], "q", date: 1)],
            "((3)(2))(1)"),
        ("a reply whose parent is missing joins the original by subject: step 4 promotes it before step 5 gathers",
            [m(1, id: "a@x", "weekly"), m(2, id: "b@x", refs: ["gone@x"], "weekly", reply: true)],
            "(1 2)"),
        ("a dummy's subject is its earliest child's",
            [m(1, id: "a@x", refs: ["gone@x"], "late", date: 9), m(2, id: "b@x", refs: ["gone@x"], "early", date: 1),
             m(3, id: "c@x", "early", date: 5)],
            "((2)(3)(1))"),
        ("roots are gathered by date: the reply meets the original before the second original does",
            [m(1, id: "a@x", "offer", date: 1), m(2, id: "b@x", "offer", date: 9), m(3, id: "c@x", refs: ["gone@x"], "offer", reply: true, date: 5)],
            "((1 3)(2))"),
        ("no Message-ID at all",
            [m(1, "s"), m(2, refs: ["zz@x"], "t", reply: true)],
            "(1)(2)"),
    ]

    @Test(arguments: referenceTables.indices)
    func references(_ i: Int) {
        let (what, messages, expected) = Self.referenceTables[i]
        #expect(Threader.encode(Threader.references(messages)) == expected, "\(what)")
    }

    /// A reply chain 100,000 messages deep (a bot answering itself): no recursion, no walk up
    /// the chain per message.
    @Test func aVeryLongReplyChainIsOneFlatThread() {
        let n = 100_000
        let messages = (1...n).map { i in
            Self.m(UInt32(i), id: "\(i)@x", refs: i > 1 ? ["\(i - 1)@x"] : [], "build failed", reply: i > 1)
        }
        let expected = "(" + (1...n).map(String.init).joined(separator: " ") + ")"
        #expect(Threader.encode(Threader.references(messages)) == expected)
        #expect(Threader.encode(Threader.orderedSubject(Array(messages.prefix(3)))) == "(1 (2)(3))")
    }

    @Test func orderedSubjectWithinAThreadGoesByDate() {
        let messages = [Self.m(1, "b", date: 30), Self.m(2, "a", date: 20), Self.m(3, "b", date: 10), Self.m(4, "b", date: 10)]
        #expect(Threader.encode(Threader.orderedSubject(messages)) == "(3 (4)(1))(2)")
    }

    static func record(_ n: UInt32, date: Double = 0, size: Int = 0, subject: String = "", from: String = "") -> SortRecord {
        var r = SortRecord(number: n)
        r.date = date
        r.arrival = Double(n)
        r.size = size
        r.subject = Casemap.key(subject)
        r.from = Casemap.key(from)
        return r
    }

    @Test func sortsByCriteriaThenMailboxOrder() {
        let records = [
            Self.record(1, date: 3, size: 10, subject: "b", from: "Zed"),
            Self.record(2, date: 1, size: 30, subject: "A", from: "amy"),
            Self.record(3, date: 3, size: 20, subject: "a", from: "bob"),
            Self.record(4, date: 2, size: 10, subject: "c", from: "_x"),
        ]
        func order(_ c: [SortCriterion]) -> [UInt32] { MessageSorter.sort(records, by: c).map(\.number) }
        #expect(order([SortCriterion(.date)]) == [2, 4, 1, 3])
        // Equal keys stay in mailbox order even in reverse (RFC 5256 §3).
        #expect(order([SortCriterion(.date, reverse: true)]) == [1, 3, 4, 2])
        #expect(order([SortCriterion(.subject), SortCriterion(.size, reverse: true)]) == [2, 3, 1, 4])
        #expect(order([SortCriterion(.size), SortCriterion(.date, reverse: true)]) == [1, 4, 3, 2])
        #expect(order([SortCriterion(.arrival, reverse: true)]) == [4, 3, 2, 1])
        // i;ascii-casemap compares uppercased: "_" (0x5F) sorts after the letters.
        #expect(order([SortCriterion(.from)]) == [2, 3, 1, 4])
    }

    /// Beyond US-ASCII, i;unicode-casemap: titlecase, then NFKD (a base letter and its marks).
    @Test func nonASCIIKeysSortBesideTheirBaseLetters() {
        let words = ["Weekly", "Überprüfung", "urgent", "uber", "Ábc", "abd"]
        let records = words.enumerated().map { i, w in Self.record(UInt32(i + 1), subject: w) }
        let order = MessageSorter.sort(records, by: [SortCriterion(.subject)]).map { words[Int($0.number) - 1] }
        #expect(order == ["abd", "Ábc", "uber", "urgent", "Überprüfung", "Weekly"])
        // Titlecase, not uppercase: the digraph "dž" maps to its titlecase form "Dž", as "Dž" does.
        #expect(Casemap.key("ǆ") == Casemap.key("ǅ"))
    }

    /// A kept order with new messages merged in is the order a full sort gives, for every
    /// criteria list and however many are new (a deterministic generator, many ties).
    @Test func mergingNewMessagesIntoAnOrderIsSortingItAll() {
        var seed: UInt64 = 7
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let names = ["amy", "Bob", "bob", "carl", "", "zed"]
        let records = (0..<200).map {
            Self.record(
                UInt32($0 + 1), date: Double(next(20)), size: next(5), subject: names[next(names.count)],
                from: names[next(names.count)])
        }
        let lists: [[SortCriterion]] = [
            [SortCriterion(.date)], [SortCriterion(.from, reverse: true)],
            [SortCriterion(.subject), SortCriterion(.date, reverse: true)], [SortCriterion(.size), SortCriterion(.from)],
        ]
        for criteria in lists {
            let full = MessageSorter.order(records, by: criteria)
            for newCount in [0, 1, 7, 50, 200] {
                let new = Set((0..<newCount).map { _ in next(records.count) })
                let kept = full.filter { !new.contains($0) }
                var read: Set<Int> = []
                let merged = MessageSorter.merge(kept, with: new.shuffled(), by: criteria) { i in
                    read.insert(i)
                    return records[i]
                }
                #expect(merged == full, "\(criteria) with \(new.count) new")
                // Each new message is placed by binary search: it meets about log2(n) others.
                #expect(read.count <= new.count * (2 + Int(log2(Double(records.count)))), "\(read.count) records read")
            }
        }
    }

    /// The order settles most comparisons by an integer made of the first key (the first 8
    /// bytes of a string); it must be the order the comparison of records alone gives, with
    /// strings that share 8 bytes or more, NUL bytes, negative and zero dates, reversed and
    /// combined criteria.
    @Test func theFirstKeysIntegerOrdersAsTheRecords() {
        var seed: UInt64 = 11
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let strings = [
            "", "A", "AB", "AB\u{0}", "AB\u{0}\u{0}", "ABCDEFGH", "ABCDEFGHI", "ABCDEFGHJ", "ABCDEFGG", "\u{0}", "ZZ",
            "ÜBER", "UBER",
        ]
        let dates = [-86400.0, -0.0, 0.0, 0.5, 1e9, -1e-300, 1e-300]
        let records = (0..<300).map { n -> SortRecord in
            var r = SortRecord(number: UInt32(n + 1))
            r.date = dates[next(dates.count)]
            r.arrival = dates[next(dates.count)]
            r.size = [-1, 0, 1, Int.max, Int.min][next(5)]
            r.subject = Casemap.key(strings[next(strings.count)])
            r.from = Array(strings[next(strings.count)].utf8)
            return r
        }
        for key in SortCriterion.Key.allCases {
            for reverse in [false, true] {
                for then in [[], [SortCriterion(.subject, reverse: true)], [SortCriterion(.date), SortCriterion(.from)]] {
                    let criteria = [SortCriterion(key, reverse: reverse)] + then
                    let expected = records.indices.sorted { MessageSorter.precedes(records[$0], $0, records[$1], $1, criteria) }
                    #expect(MessageSorter.order(records, by: criteria) == expected, "\(criteria)")
                }
            }
        }
    }

    @Test func aMergeWithoutARecordAtHandIsNoAnswer() {
        let records = (0..<10).map { Self.record(UInt32($0 + 1), date: Double($0)) }
        let merged = MessageSorter.merge(Array(0..<9), with: [9], by: [SortCriterion(.date)]) { $0 == 4 ? nil : records[$0] }
        #expect(merged == nil)
        #expect(MessageSorter.merge(Array(0..<9), with: [9], by: [SortCriterion(.date)]) { records[$0] } == Array(0..<10))
    }
}
