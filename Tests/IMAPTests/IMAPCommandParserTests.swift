import Foundation
import Testing

@testable import IMAP

struct IMAPCommandParserTests {
    static func parse(_ s: String) throws -> TaggedCommand { try IMAPCommandParser.parse(Array((s + "\r\n").utf8)) }

    static let date = IMAPParser.makeDate(year: 2026, month: 11, day: 29, seconds: 0, zoneSeconds: 0)!

    static let fixtures: [(String, IMAPCommand)] = [
        ("a CAPABILITY", .capability),
        ("a noop", .noop),
        ("a LOGIN alice@example.com \"pass word\"", .login(user: "alice@example.com", password: "pass word")),
        ("a LOGIN {5+}\r\nalice {3+}\r\npwd", .login(user: "alice", password: "pwd")),
        ("a AUTHENTICATE PLAIN AGFsaWNlAHB3", .authenticate(mechanism: "PLAIN", initialResponse: "AGFsaWNlAHB3")),
        ("a AUTHENTICATE SCRAM-SHA-256", .authenticate(mechanism: "SCRAM-SHA-256", initialResponse: nil)),
        ("a ENABLE CONDSTORE utf8=accept", .enable(["CONDSTORE", "UTF8=ACCEPT"])),
        ("a ID (\"name\" \"mutt\" \"version\" NIL)", .id(["name": "mutt", "version": String?.none])),
        ("a ID NIL", .id(nil)),
        ("a SELECT INBOX", .select(MailboxName("INBOX"), SelectParameters())),
        ("a SELECT \"Sent Items\" (CONDSTORE)", .select(MailboxName("Sent Items"), SelectParameters(condstore: true))),
        ("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))",
            .select(MailboxName("INBOX"), SelectParameters(qresync: QResync(
                uidValidity: 67890007, modseq: 20050715194045000,
                knownUIDs: .ranges([.init(.number(41), .number(41)), .init(.number(43), .number(211)), .init(.number(214), .number(541))]))))),
        ("a EXAMINE Archive", .examine(MailboxName("Archive"), SelectParameters())),
        ("a CREATE Projects/2026", .create(MailboxName("Projects/2026"), specialUse: [])),
        ("a CREATE MySent (USE (\\Sent))", .create(MailboxName("MySent"), specialUse: ["\\Sent"])),
        ("a DELETE foo", .delete(MailboxName("foo"))),
        ("a RENAME foo bar", .rename(MailboxName("foo"), MailboxName("bar"))),
        ("a SUBSCRIBE &ZeVnLIqe-", .subscribe(MailboxName("&ZeVnLIqe-"))),
        ("a LIST \"\" *", .list(ListCommand(reference: MailboxName(""), patterns: [MailboxName("*")]))),
        ("a LIST \"\" %/%", .list(ListCommand(reference: MailboxName(""), patterns: [MailboxName("%/%")]))),
        ("a LSUB \"\" *", .lsub(reference: MailboxName(""), pattern: MailboxName("*"))),
        ("a STATUS INBOX (MESSAGES UNSEEN SIZE HIGHESTMODSEQ)", .status(MailboxName("INBOX"), [.messages, .unseen, .size, .highestModseq])),
        ("a APPEND Drafts (\\Draft $x) \"29-Nov-2026 00:00:00 +0000\" {5+}\r\nhello",
            .append(MailboxName("Drafts"), flags: ["\\Draft", "$x"], date: date, message: Array("hello".utf8))),
        ("a APPEND INBOX ~{3+}\r\na\u{0}b", .append(MailboxName("INBOX"), flags: [], date: nil, message: [0x61, 0, 0x62])),
        ("a IDLE", .idle),
        ("a GETQUOTAROOT INBOX", .getQuotaRoot(MailboxName("INBOX"))),
        ("a GETQUOTA \"\"", .getQuota("")),
        ("a UID EXPUNGE 3:5", .uidExpunge(.ranges([.init(.number(3), .number(5))]))),
        ("a FETCH 1:* (FLAGS)", .fetch(.ranges([.init(.number(1), .star)]), [.flags], FetchModifiers(), uid: false)),
        ("a FETCH 2 ALL", .fetch(.ranges([.init(.number(2), .number(2))]), [.flags, .internalDate, .rfc822Size, .envelope], FetchModifiers(), uid: false)),
        ("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)",
            .fetch(.ranges([.init(.number(1), .star)]), [.uid, .flags], FetchModifiers(changedSince: 12345, vanished: true), uid: true)),
        ("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject From)] BODY[1.2.MIME] BODY[]<0.100> BINARY[2] BINARY.SIZE[2] MODSEQ)",
            .fetch(.ranges([.init(.number(1), .number(1))]), [
                .bodySection(SectionSpec(text: .headerFields(["Subject", "From"])), partial: nil, peek: true),
                .bodySection(SectionSpec(part: [1, 2], text: .mime), partial: nil, peek: false),
                .bodySection(SectionSpec(), partial: 0...99, peek: false),
                .binary(part: [2], partial: nil, peek: false), .binarySize(part: [2]), .modseq,
            ], FetchModifiers(), uid: false)),
        ("a STORE 1:3 +FLAGS.SILENT (\\Seen \\Deleted)",
            .store(.ranges([.init(.number(1), .number(3))]), StoreFlags(mode: .add, silent: true, flags: ["\\Seen", "\\Deleted"]), unchangedSince: nil, uid: false)),
        ("a UID STORE 7 (UNCHANGEDSINCE 320162338) -FLAGS $Junk",
            .store(.ranges([.init(.number(7), .number(7))]), StoreFlags(mode: .remove, silent: false, flags: ["$Junk"]), unchangedSince: 320162338, uid: true)),
        ("a COPY 1,3 Archive", .copy(.ranges([.init(.number(1), .number(1)), .init(.number(3), .number(3))]), MailboxName("Archive"), uid: false)),
        ("a UID MOVE $ Trash", .move(.lastResult, MailboxName("Trash"), uid: true)),
        ("a SEARCH UNSEEN SUBJECT \"hello world\"", .search(SearchCommand(key: .and([.flag("\\Seen", set: false), .subject("hello world")])), uid: false)),
        ("a UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR FROM bob (TO carol NOT 1:5)",
            .search(SearchCommand(returnOptions: ["MIN", "COUNT"], charset: "UTF-8", key: .or(.from("bob"), .and([.to("carol"), .not(.sequence(.ranges([.init(.number(1), .number(5))])))]))), uid: true)),
        ("a SEARCH SINCE 29-Nov-2026 LARGER 100 MODSEQ 5 UID 1:*",
            .search(SearchCommand(key: .and([.since(date), .larger(100), .modseq(5), .uid(.ranges([.init(.number(1), .star)]))])), uid: false)),
        ("a SEARCH HEADER X-Mailer \"\" KEYWORD $Work BODY {3+}\r\nüb", .search(SearchCommand(key: .and([.header("X-Mailer", ""), .flag("$Work", set: true), .body("üb")])), uid: false)),
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
        ("", "tag"),
        ("+ NOOP", "tag"),
        ("a", "space"),
        ("a FROB", "Unknown command"),
        ("a LOGIN alice", "space"),
        ("a LOGIN \"alice pass", "unterminated"),
        ("a SELECT", "space"),
        ("a FETCH 0 FLAGS", "0 is not"),
        ("a FETCH 1 (FLAGS", "expected"),
        ("a FETCH 1 FOO", "unknown FETCH item"),
        ("a FETCH 1 BODY[1.MIMEX]", "unknown section"),
        ("a FETCH 1 BODY[MIME]", "unknown section"),
        ("a FETCH 1 BODY[]<5>", "expected"),
        ("a STORE 1 FLAGS (\\Recent)", "can be set"),
        ("a STORE 1 LABELS (x)", "FLAGS"),
        ("a SEARCH", "space"),
        ("a SEARCH FOO", "unknown search key"),
        ("a SEARCH OR SEEN", "space"),
        ("a SEARCH SINCE 31-Foo-2026", "month"),
        ("a SEARCH SINCE 31-Feb-2026", "invalid date"),
        ("a UID FROB 1", "UID FROB"),
        ("a NOOP extra", "unexpected text"),
        ("a APPEND INBOX {10+}\r\nshort", "literal shorter"),
        ("a SEARCH " + String(repeating: "NOT ", count: 40) + "ALL", "too deeply nested"),
        ("a SEARCH " + String(repeating: "(", count: 40) + "ALL" + String(repeating: ")", count: 40), "too deeply nested"),
        ("a FETCH 99999999999 FLAGS", "too large"),
        ("a UID FETCH 1 FLAGS (VANISHED)", "VANISHED"),
    ]

    @Test(arguments: malformed.indices)
    func refusesMalformed(_ i: Int) {
        let (text, message) = Self.malformed[i]
        #expect {
            try Self.parse(text)
        } throws: { error in
            guard let e = error as? IMAPParseError else { return false }
            return e.text.localizedCaseInsensitiveContains(message) || (message == "tag" && e.tag == nil)
        }
    }

    @Test func errorKeepsTheTag() throws {
        #expect {
            try Self.parse("x17 FETCH 1 (NOPE)")
        } throws: { ($0 as? IMAPParseError)?.tag == "x17" }
    }

    @Test func sequenceSets() throws {
        guard case .fetch(let set, _, _, _) = try Self.parse("a FETCH 5:2,9,*:8 FLAGS").command else { Issue.record(); return }
        #expect(set.resolve(largest: 10) == [2...5, 9...9, 8...10])
        #expect(set.contains(10, largest: 10))
        #expect(!set.contains(7, largest: 10))
        #expect(SequenceSet.compact([1, 2, 3, 5, 8, 9]) == "1:3,5,8:9")
    }
}

struct ModifiedUTF7Tests {
    static let table: [(String, String)] = [
        ("INBOX", "INBOX"), ("Entwürfe", "Entw&APw-rfe"), ("日本語", "&ZeVnLIqe-"), ("a&b", "a&-b"), ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("😀", "&2D3eAA-"),
    ]

    @Test(arguments: table.indices)
    func roundTrip(_ i: Int) {
        let (plain, encoded) = Self.table[i]
        #expect(ModifiedUTF7.encode(plain) == encoded)
        #expect(ModifiedUTF7.decode(encoded) == plain)
    }

    @Test(arguments: ["&", "&Jjo", "&AGE-", "a\u{7}b", "&-&ZeVnLIqe", "&*-"])
    func refusesInvalid(_ s: String) {
        #expect(ModifiedUTF7.decode(s) == nil)
    }
}

struct IMAPFramerTests {
    func events(_ chunks: [String], limits: IMAPLimits = IMAPLimits()) -> [IMAPFramer.Event] {
        var f = IMAPFramer(limits: limits)
        var out: [IMAPFramer.Event] = []
        for c in chunks {
            f.append(Array(c.utf8))
            while let e = f.next() { out.append(e) }
        }
        return out
    }

    @Test func linesAndPipelining() {
        #expect(events(["a NOOP\r\nb NO", "OP\r\n"]) == [.command(Array("a NOOP\r\n".utf8)), .command(Array("b NOOP\r\n".utf8))])
    }

    @Test func synchronizingLiteralAsksToContinue() {
        #expect(
            events(["a LOGIN {5}\r\n", "alice {3}\r\n", "pwd\r\n"]) == [
                .continuationNeeded, .continuationNeeded, .command(Array("a LOGIN {5}\r\nalice {3}\r\npwd\r\n".utf8)),
            ])
    }

    @Test func nonSynchronizingLiteralDoesNot() {
        #expect(events(["a LOGIN {5+}\r\nal", "ice pwd\r\n"]) == [.command(Array("a LOGIN {5+}\r\nalice pwd\r\n".utf8))])
    }

    @Test func literalBytesAreNotLines() {
        // A CRLF inside a literal does not end the command.
        #expect(events(["a APPEND INBOX {7+}\r\nx\r\ny\r\n\r\n"]) == [.command(Array("a APPEND INBOX {7+}\r\nx\r\ny\r\n\r\n".utf8))])
    }

    /// An APPEND literal above the streaming threshold is handed out as it arrives, never held
    /// whole; the rest of the command follows as a command of its own.
    @Test func largeAppendLiteralsStream() {
        var limits = IMAPLimits()
        limits.streamAppendAbove = 4
        #expect(events(["a APPEND INBOX (\\Seen) {11}\r\n", "hello", " worl", "d\r\nb NOOP\r\n"], limits: limits) == [
            .literalBegin(command: Array("a APPEND INBOX (\\Seen) {11}\r\n".utf8), size: 11, synchronizing: true),
            .literalData(Array("hello world".utf8)), .command(Array("\r\n".utf8)), .command(Array("b NOOP\r\n".utf8)),
        ])
        // Pieces of 256 KiB at least, whatever the reads bring, then the rest.
        let big = (0..<600_000).map { UInt8(truncatingIfNeeded: $0) }
        var f = IMAPFramer(limits: limits)
        var pieces: [[UInt8]] = []
        f.append(Array("a APPEND INBOX {600000}\r\n".utf8))
        _ = f.next()
        for start in stride(from: 0, to: big.count, by: 16_384) {
            f.append(big[start..<min(big.count, start + 16_384)])
            while let event = f.next() {
                if case .literalData(let piece) = event { pieces.append(piece) }
            }
        }
        #expect(pieces.map(\.count) == [262_144, 262_144, 75_712])
        #expect(Array(pieces.joined()) == big)
        // Non-synchronizing, and in one piece with what follows.
        #expect(events(["a APPEND INBOX {6+}\r\nabcdef\r\n"], limits: limits) == [
            .literalBegin(command: Array("a APPEND INBOX {6+}\r\n".utf8), size: 6, synchronizing: false),
            .literalData(Array("abcdef".utf8)), .command(Array("\r\n".utf8)),
        ])
        // Small literals, and literals of other commands, are framed whole as before.
        #expect(events(["a APPEND INBOX {3+}\r\nabc\r\n"], limits: limits) == [.command(Array("a APPEND INBOX {3+}\r\nabc\r\n".utf8))])
        #expect(events(["a LOGIN {5+}\r\nalice pwd\r\n"], limits: limits) == [.command(Array("a LOGIN {5+}\r\nalice pwd\r\n".utf8))])
    }

    @Test func aRefusedStreamedLiteralIsSkipped() {
        var limits = IMAPLimits()
        limits.streamAppendAbove = 4
        var f = IMAPFramer(limits: limits)
        f.append(Array("a APPEND Nowhere {10}\r\nb NOOP\r\n".utf8))
        #expect(f.next() == .literalBegin(command: Array("a APPEND Nowhere {10}\r\n".utf8), size: 10, synchronizing: true))
        // The server said NO instead of +: the client does not send the literal.
        f.skipLiteral()
        #expect(f.next() == .command(Array("b NOOP\r\n".utf8)))
    }

    @Test func tooLargeLiteralIsRefusedBeforeItIsSent() {
        var limits = IMAPLimits()
        limits.maxLiteralSize = 100
        limits.maxAppendSize = 1000
        #expect(events(["a LOGIN {101}\r\n", "b NOOP\r\n"], limits: limits) == [
            .literalTooLarge(tag: "a", size: 101, limit: 100), .command(Array("b NOOP\r\n".utf8)),
        ])
        // APPEND gets the larger limit.
        #expect(events(["a APPEND INBOX {500}\r\n"], limits: limits) == [.continuationNeeded])
        #expect(events(["a APPEND INBOX {5000+}\r\n"], limits: limits) == [.fatal("Literal too large (the limit is 1000 octets)")])
    }

    /// A connection idles for hours after its last command: what an upload grew is given back
    /// once it has been framed, whether it was framed whole or streamed.
    @Test func anEmptiedBufferGivesBackWhatAnUploadGrew() {
        let literal = [UInt8](repeating: 0x61, count: 200_000)
        let announce = Array("a APPEND INBOX {200000+}\r\n".utf8)
        var streaming = IMAPLimits()
        streaming.streamAppendAbove = 1000
        var f = IMAPFramer(limits: streaming)
        f.append(announce + literal + Array("\r\n".utf8))
        var octets = 0
        while let event = f.next() {
            if case .literalData(let piece) = event { octets += piece.count }
        }
        #expect(octets == literal.count)
        #expect(f.bufferCapacity <= IMAPFramer.keptCapacity)
        var whole = IMAPFramer(limits: IMAPLimits())
        whole.append(announce + literal + Array("\r\nb NOOP\r\n".utf8))
        #expect(whole.next() == .command(announce + literal + Array("\r\n".utf8)))
        #expect(whole.next() == .command(Array("b NOOP\r\n".utf8)))
        #expect(whole.bufferCapacity <= IMAPFramer.keptCapacity)
        // A connection at work keeps its buffer: the next short command needs no allocation.
        whole.append(Array("c NOOP\r\nd NO".utf8))
        let kept = whole.bufferCapacity
        #expect(whole.next() == .command(Array("c NOOP\r\n".utf8)))
        #expect(whole.bufferCapacity == kept)
    }

    @Test func overlongLineIsFatal() {
        var limits = IMAPLimits()
        limits.maxLineLength = 64
        #expect(events([String(repeating: "x", count: 100)], limits: limits).first.map { if case .fatal = $0 { true } else { false } } == true)
    }
}
