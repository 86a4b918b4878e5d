import Foundation
import Testing

@testable import IMAP

/// SORT, THREAD, ESORT's RETURN and WITHIN's keys: parse, round trip, refuse.
struct SortThreadParserTests {
    static func parse(_ s: String) throws -> TaggedCommand { try IMAPCommandParser.parse(Array((s + "\r\n").utf8)) }

    static let fixtures: [(String, IMAPCommand)] = [
        // RFC 5256 §4's examples.
        ("a SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994",
            .sort(SortCommand(criteria: [SortCriterion(.subject)], key: .since(IMAPParser.makeDate(year: 1994, month: 2, day: 1, seconds: 0, zoneSeconds: 0)!)), uid: false)),
        ("a SORT (REVERSE DATE) UTF-8 ALL", .sort(SortCommand(criteria: [SortCriterion(.date, reverse: true)], key: .all), uid: false)),
        ("a UID SORT (REVERSE ARRIVAL) US-ASCII UNDELETED UNKEYWORD $Junk",
            .sort(SortCommand(criteria: [SortCriterion(.arrival, reverse: true)], charset: "US-ASCII", key: .and([.flag("\\Deleted", set: false), .flag("$Junk", set: false)])), uid: true)),
        ("a sort (cc to from size reverse subject) utf-8 all",
            .sort(SortCommand(criteria: [SortCriterion(.cc), SortCriterion(.to), SortCriterion(.from), SortCriterion(.size), SortCriterion(.subject, reverse: true)], key: .all), uid: false)),
        // RFC 5957.
        ("a SORT (DISPLAYFROM REVERSE DISPLAYTO) UTF-8 ALL",
            .sort(SortCommand(criteria: [SortCriterion(.displayFrom), SortCriterion(.displayTo, reverse: true)], key: .all), uid: false)),
        // RFC 5267 §3 and §4.4.
        ("a UID SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL",
            .sort(SortCommand(criteria: [SortCriterion(.date)], returnOptions: [.min, .max, .count], key: .all), uid: true)),
        ("a SORT RETURN () (SIZE) UTF-8 ALL", .sort(SortCommand(criteria: [SortCriterion(.size)], returnOptions: [], key: .all), uid: false)),
        ("a UID SORT RETURN (PARTIAL 1:500 ALL SAVE) (REVERSE DATE) UTF-8 UNSEEN",
            .sort(SortCommand(criteria: [SortCriterion(.date, reverse: true)], returnOptions: [.partial(1...500), .all, .save], key: .flag("\\Seen", set: false)), uid: true)),
        ("a SORT RETURN (PARTIAL 23:5) (ARRIVAL) UTF-8 ALL",
            .sort(SortCommand(criteria: [SortCriterion(.arrival)], returnOptions: [.partial(5...23)], key: .all), uid: false)),
        // RFC 5256 §4: THREAD.
        ("a THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000",
            .thread(ThreadCommand(algorithm: .orderedSubject, key: .since(IMAPParser.makeDate(year: 2000, month: 3, day: 5, seconds: 0, zoneSeconds: 0)!)), uid: false)),
        ("a UID THREAD REFERENCES US-ASCII OR FROM bob 1:10",
            .thread(ThreadCommand(algorithm: .references, charset: "US-ASCII", key: .or(.from("bob"), .sequence(.ranges([.init(.number(1), .number(10))])))), uid: true)),
        ("a THREAD references \"utf-8\" ALL", .thread(ThreadCommand(algorithm: .references, key: .all), uid: false)),
        // RFC 5032: WITHIN, in SEARCH and in SORT.
        ("a SEARCH YOUNGER 3600", .search(SearchCommand(key: .younger(3600)), uid: false)),
        ("a UID SEARCH OLDER 86400 NOT YOUNGER 60", .search(SearchCommand(key: .and([.older(86400), .not(.younger(60))])), uid: true)),
        ("a SORT (DATE) UTF-8 YOUNGER 604800", .sort(SortCommand(criteria: [SortCriterion(.date)], key: .younger(604800)), uid: false)),
    ]

    @Test(arguments: fixtures.indices)
    func parses(_ i: Int) throws {
        let (text, expected) = Self.fixtures[i]
        let parsed = try Self.parse(text)
        #expect(parsed.tag == "a")
        #expect(parsed.command == expected)
    }

    /// What the encoder writes, the parser reads back the same.
    @Test(arguments: fixtures.indices)
    func roundTrips(_ i: Int) throws {
        let command = TaggedCommand(tag: "t1", command: Self.fixtures[i].1)
        let again = try IMAPCommandParser.parse(command.encoded())
        #expect(again == command, "\(String(decoding: command.encoded(), as: UTF8.self))")
    }

    static let malformed: [(String, String)] = [
        ("a SORT", "space"),
        ("a SORT DATE UTF-8 ALL", "expected ("),
        ("a SORT () UTF-8 ALL", "keyword"),
        ("a SORT (DATE UTF-8 ALL", "unknown sort key"),
        ("a SORT (DATE", "expected )"),
        ("a SORT (NEWEST) UTF-8 ALL", "unknown sort key"),
        ("a SORT (REVERSE) UTF-8 ALL", "space"),
        ("a SORT (REVERSE REVERSE DATE) UTF-8 ALL", "unknown sort key"),
        ("a SORT (DATE) ALL", "space"),
        ("a SORT (DATE) UTF-8", "space"),
        ("a SORT (DATE) UTF-8 FROB", "unknown search key"),
        ("a SORT RETURN (MIN FIRST) (DATE) UTF-8 ALL", "unknown SORT RETURN option"),
        ("a SORT RETURN (PARTIAL 0:10) (DATE) UTF-8 ALL", "0 is not"),
        ("a SORT RETURN (PARTIAL 5) (DATE) UTF-8 ALL", "expected :"),
        ("a SORT RETURN (PARTIAL -1:-10) (DATE) UTF-8 ALL", "number"),
        ("a UID SORT (DATE)", "space"),
        ("a THREAD UTF-8 ALL", "unknown THREAD algorithm"),
        ("a THREAD REFS UTF-8 ALL", "unknown THREAD algorithm"),
        ("a THREAD REFERENCES ALL", "space"),
        ("a UID THREAD ORDEREDSUBJECT UTF-8", "space"),
        ("a SEARCH OLDER", "space"),
        ("a SEARCH OLDER 0", "0 is not"),
        ("a SEARCH YOUNGER soon", "number"),
    ]

    @Test(arguments: malformed.indices)
    func refusesMalformed(_ i: Int) {
        let (text, message) = Self.malformed[i]
        #expect {
            try Self.parse(text)
        } throws: { error in
            guard let e = error as? IMAPParseError else { return false }
            return e.text.localizedCaseInsensitiveContains(message)
        }
    }
}
