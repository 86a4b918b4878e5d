import Foundation
import Testing

@testable import IMAPServer

/// What RFC 3501/9051 and their extensions say in the places where Dovecot's compliance suite
/// (imaptest) found Mailroom wrong, each as the text of the RFC asks.
@Suite struct ComplianceTests {
    /// The untagged lines of a response. (Address lists have no space between entries:
    /// `"(" 1*address ")"`, RFC 3501 §9.)
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\r\n").map(String.init).filter { $0.hasPrefix("* ") }
    }

    // MARK: SELECT: [UNSEEN n] (RFC 3501 §6.3.1)

    @Test func selectNamesTheFirstUnseenMessageToIMAP4rev1Clients() throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(s, "Subject: 1\r\n\r\nx\r\n", flags: "\\Seen")
        h.append(s, "Subject: 2\r\n\r\nx\r\n", flags: "\\Seen \\Flagged")
        h.append(s, "Subject: 3\r\n\r\nx\r\n")
        h.append(s, "Subject: 4\r\n\r\nx\r\n")
        #expect(h.send(s, "a SELECT INBOX").contains("* OK [UNSEEN 3]"))
        h.send(s, "b STORE 3:4 +FLAGS (\\Seen)")
        #expect(!h.send(s, "c SELECT INBOX").contains("UNSEEN"))
        h.send(s, "d STORE 2 -FLAGS (\\Seen)")
        #expect(h.send(s, "e EXAMINE INBOX").contains("* OK [UNSEEN 2]"))
        // IMAP4rev2 dropped it (RFC 9051 §7.1).
        let rev2 = h.session()
        h.send(rev2, "f ENABLE IMAP4rev2")
        #expect(!h.send(rev2, "g SELECT INBOX").contains("UNSEEN"))
    }

    // MARK: ENVELOPE and SEARCH of address fields (RFC 5322 §3.4, RFC 3501 §7.4.2)

    static let addressCases: [(header: String, envelope: String)] = [
        ("user@domain (Real Name)", #"(("Real Name" NIL "user" "domain"))"#),
        ("Real Name <user@domain>", #"(("Real Name" NIL "user" "domain"))"#),
        (#""Real, Name" <user@domain>"#, #"(("Real, Name" NIL "user" "domain"))"#),
        ("<@route:user@domain>", #"((NIL "@route" "user" "domain"))"#),
        ("<user (comment) @ (comment) domain>", #"((NIL NIL "user" "domain"))"#),
        ("=?utf-8?q?J=C3=BCrgen?= <j@domain>", #"(("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "domain"))"#),
        (
            "group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;",
            #"((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL))"#
        ),
        ("empty:;", #"((NIL NIL "empty" NIL)(NIL NIL NIL NIL))"#),
        (
            #""Real Name" <user@domain>, group: g1@d1.org;"#,
            #"(("Real Name" NIL "user" "domain")(NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL NIL NIL))"#
        ),
    ]

    @Test(arguments: addressCases)
    func envelopeShowsEveryAddressForm(header: String, envelope: String) throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(s, "From: \(header)\r\nSubject: x\r\n\r\nbody\r\n")
        h.send(s, "a SELECT INBOX")
        let fetched = h.send(s, "b FETCH 1 ENVELOPE")
        // date, subject, from, sender, reply-to: sender and reply-to default to From.
        #expect(fetched.contains("NIL \"x\" \(envelope) \(envelope) \(envelope) NIL NIL NIL NIL NIL))"), "\(fetched)")
    }

    @Test func searchFindsAddressesAsTheEnvelopeShowsThem() throws {
        let h = try IMAPHarness()
        let s = h.session()
        for from in [
            "user-from@domain.org", "RealFrom <user-from@domain.org>", "<user-from (comment)@ (comment) domain.org>",
            "user-from@domain.org (RealFrom)", "user-from1@domain.org, user-from2@domain.org",
        ] {
            h.append(s, "From: \(from)\r\nTo: groupname: groupuser1@domain.org, groupuser2@domain.org;,\r\n  groupname2: groupuser3@domain.org;\r\n\r\nb\r\n")
        }
        h.send(s, "a SELECT INBOX")
        #expect(Self.lines(h.send(s, "b SEARCH FROM user-from@domain.org")) == ["* SEARCH 1 2 3 4"])
        #expect(Self.lines(h.send(s, "c SEARCH FROM realfrom")) == ["* SEARCH 2 4"])
        #expect(Self.lines(h.send(s, "d SEARCH FROM ealfro")) == ["* SEARCH 2 4"])
        #expect(Self.lines(h.send(s, "e SEARCH FROM user-from2")) == ["* SEARCH 5"])
        #expect(Self.lines(h.send(s, "f SEARCH TO groupname2")) == ["* SEARCH 1 2 3 4 5"])
        #expect(Self.lines(h.send(s, "g SEARCH TO groupuser3")) == ["* SEARCH 1 2 3 4 5"])
        #expect(Self.lines(h.send(s, "h SEARCH TO groupuser4")) == ["* SEARCH"])
    }

    // MARK: BINARY of quoted-printable (RFC 2045 §6.7 rule 3, RFC 3516)

    @Test func binaryDropsWhiteSpaceAtTheEndOfQuotedPrintableLines() throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(
            s,
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + "line one   \r\nline=20two \t\r\nsoft=  \r\nbreak=3D\r\n--b--\r\n")
        h.send(s, "a SELECT INBOX")
        let decoded = "line one\r\nline two\r\nsoftbreak="
        #expect(h.send(s, "b FETCH 1 BINARY.PEEK[1]").contains("BINARY[1] {\(decoded.utf8.count)}\r\n\(decoded))"))
        #expect(h.send(s, "c FETCH 1 BINARY.SIZE[1]").contains("BINARY.SIZE[1] \(decoded.utf8.count))"))
        // A partial range counts decoded octets.
        #expect(h.send(s, "d FETCH 1 BINARY.PEEK[1]<5.7>").contains("BINARY[1]<5> {7}\r\none\r\nli)"))
    }

    // MARK: COPY and MOVE into the selected mailbox (RFC 6851 §4.3, RFC 3501 §7.3.1)

    @Test func copyingOrMovingIntoTheSelectedMailboxAnnouncesTheNewMessages() throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(s, "Subject: 1\r\n\r\nx\r\n")
        h.append(s, "Subject: 2\r\n\r\nx\r\n")
        h.send(s, "a SELECT INBOX")
        #expect(Self.lines(h.send(s, "b COPY 1 INBOX")).contains("* 3 EXISTS"))
        let moved = Self.lines(h.send(s, "c MOVE 1 INBOX"))
        #expect(moved.contains("* 1 EXPUNGE"), "\(moved)")
        #expect(moved.contains("* 3 EXISTS"), "\(moved)")
        let uids = Self.lines(h.send(s, "d FETCH 1:* UID"))
        #expect(uids == ["* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 4)"])
    }

    // MARK: ESEARCH with CONDSTORE (RFC 7162 §3.1.5)

    @Test func esearchGivesTheModseqOfWhatItReturns() throws {
        let h = try IMAPHarness()
        let s = h.session()
        for i in 1...4 { h.append(s, "Subject: \(i)\r\n\r\nx\r\n") }
        h.send(s, "a SELECT INBOX (CONDSTORE)")
        var modseq: [Int: String] = [:]
        for n in [1, 3, 2, 4] {
            let r = h.send(s, "s\(n) STORE \(n) +FLAGS (\\Seen)")
            modseq[n] = r.firstMatch(of: /MODSEQ \((\d+)\)/).map { String($0.1) }
        }
        func esearch(_ command: String) -> String {
            let line = Self.lines(h.send(s, command)).first { $0.hasPrefix("* ESEARCH") } ?? ""
            return line.replacingOccurrences(of: #" \(TAG "[^"]*"\)"#, with: "", options: .regularExpression)
        }
        #expect(esearch("b SEARCH RETURN (MIN) 1:3 MODSEQ \"/flags/\\\\seen\" all 1") == "* ESEARCH MIN 1 MODSEQ \(modseq[1]!)")
        #expect(esearch("c SEARCH RETURN (MAX) 1:3 MODSEQ 1") == "* ESEARCH MAX 3 MODSEQ \(modseq[3]!)")
        #expect(esearch("d SEARCH RETURN () 1:3 MODSEQ 1") == "* ESEARCH ALL 1:3 MODSEQ \(modseq[2]!)")
        #expect(esearch("e SEARCH RETURN (MIN MAX) 2:3 MODSEQ 1") == "* ESEARCH MIN 2 MAX 3 MODSEQ \(modseq[2]!)")
        #expect(esearch("f SEARCH RETURN (ALL) 2:3 MODSEQ \(modseq[2]!)") == "* ESEARCH ALL 2 MODSEQ \(modseq[2]!)")
        #expect(esearch("g SEARCH RETURN (ALL) 2:3 MODSEQ \(modseq[4]!)") == "* ESEARCH")
        // SAVE beside MIN keeps only the minimum (RFC 5182 §2.4).
        h.send(s, "h SEARCH RETURN (SAVE MIN) 2:4")
        #expect(Self.lines(h.send(s, "i FETCH $ UID")) == ["* 2 FETCH (UID 2 MODSEQ (\(modseq[2]!)))"])
    }

    // MARK: LIST-EXTENDED (RFC 5258) and LSUB (RFC 3501 §6.3.9)

    /// test1, test2/test1 (subscribed), test2, test3, test4/test5, test7/test7 (subscribed),
    /// test8/test8 and test8/test9 (subscribed), test6 (subscribed, then deleted).
    static func hierarchy(_ h: IMAPHarness) -> IMAPSession {
        let s = h.session()
        for name in ["t/test1", "t/test2/test1", "t/test3", "t/test4/test5", "t/test6", "t/test7/test7", "t/test8/test8", "t/test8/test9"] {
            h.send(s, "c CREATE \(name)")
        }
        for name in ["t/test1", "t/test2/test1", "t/test6", "t/test7/test7", "t/test8/test8", "t/test8/test9"] { h.send(s, "s SUBSCRIBE \(name)") }
        h.send(s, "d DELETE t/test6")
        return s
    }

    @Test(arguments: [
        "a LIST (IMAPTEST) \"\" \"\"", "a LIST (RECURSIVEMATCH) \"\" \"\"", "a LIST (RECURSIVEMATCH REMOTE) \"\" \"\"",
        "a LIST \"\" \"\" RETURN (IMAPTEST)",
    ])
    func unknownOrIncompleteListOptionsAreBad(command: String) throws {
        let h = try IMAPHarness()
        #expect(h.send(h.session(), command).hasPrefix("a BAD"))
    }

    @Test func recursiveMatchNamesParentsWhoseChildrenAreSubscribed() throws {
        let h = try IMAPHarness()
        let s = Self.hierarchy(h)
        #expect(
            Self.lines(h.send(s, "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" t/test2% RETURN (CHILDREN)"))
                == [#"* LIST (\HasChildren) "/" t/test2 ("CHILDINFO" ("SUBSCRIBED"))"#])
        // A child the pattern matches itself is listed instead of its parent.
        #expect(Self.lines(h.send(s, "b LIST (SUBSCRIBED RECURSIVEMATCH) \"\" *test7")) == [#"* LIST (\HasNoChildren \Subscribed) "/" t/test7/test7"#])
        #expect(
            Self.lines(h.send(s, "c LIST (SUBSCRIBED RECURSIVEMATCH) \"\" *test8")) == [
                #"* LIST (\HasChildren) "/" t/test8 ("CHILDINFO" ("SUBSCRIBED"))"#, #"* LIST (\HasNoChildren \Subscribed) "/" t/test8/test8"#,
            ])
        // SUBSCRIBED lists subscribed names that no longer exist.
        let subscribed = Self.lines(h.send(s, "d LIST (SUBSCRIBED) \"\" t/*"))
        #expect(subscribed.contains(#"* LIST (\NonExistent \HasNoChildren \Subscribed) "/" t/test6"#), "\(subscribed)")
        #expect(subscribed.count == 6)
        // \Subscribed only when asked for.
        #expect(!h.send(s, "e LIST \"\" t/%").contains("\\Subscribed"))
        #expect(h.send(s, "f LIST \"\" t/% RETURN (SUBSCRIBED)").contains(#"* LIST (\HasNoChildren \Subscribed) "/" t/test1"#))
    }

    @Test func lsubShowsUnsubscribedParentsAsNoselect() throws {
        let h = try IMAPHarness()
        let s = Self.hierarchy(h)
        let lsub = Self.lines(h.send(s, "a LSUB \"\" t/%"))
        #expect(lsub.contains(#"* LSUB () "/" t/test1"#))
        #expect(lsub.contains(#"* LSUB (\Noselect) "/" t/test2"#))
        #expect(lsub.contains(#"* LSUB (\Noselect) "/" t/test8"#))
        #expect(!lsub.contains { $0.contains("t/test2/test1") })
        let all = Self.lines(h.send(s, "b LSUB \"\" t/*"))
        #expect(all.contains(#"* LSUB () "/" t/test2/test1"#))
        #expect(!all.contains { $0.hasSuffix(" t/test2") })
    }

    // MARK: Mailbox names (RFC 3501 §5.1.3)

    @Test func aNameThatIsNotModifiedUTF7NamesNoMailbox() throws {
        let h = try IMAPHarness()
        let s = h.session()
        #expect(h.send(s, "a SELECT &Jjo").hasPrefix("a NO"))
        #expect(h.send(s, "b STATUS foo&bar (MESSAGES)").hasPrefix("b NO"))
    }

    // MARK: FETCH of messages another session expunged (RFC 2180 §4.1, RFC 5530)

    @Test func aFetchOfMessagesExpungedElsewhereAnswersWhatTheSessionKnows() throws {
        let h = try IMAPHarness()
        let a = h.session(), b = h.session()
        for i in 1...3 { h.append(a, "Subject: \(i)\r\n\r\nx\r\n") }
        h.send(a, "a1 SELECT INBOX")
        h.send(b, "b1 SELECT INBOX")
        h.send(a, "a2 STORE 2:3 +FLAGS (\\Deleted)")
        h.send(a, "a3 EXPUNGE")
        // b has not been told: messages 2 and 3 are still there for it, and their UIDs known.
        let uids = h.send(b, "b2 FETCH 1:3 UID")
        #expect(Self.lines(uids) == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)"], "\(uids)")
        #expect(uids.hasSuffix("b2 OK FETCH completed\r\n"), "\(uids)")
        // Their flags and bytes are gone: what can be answered is, and the FETCH says the rest was expunged.
        for (tag, items) in [("b3", "FLAGS"), ("b4", "(UID BODY.PEEK[])"), ("b5", "RFC822.SIZE")] {
            let r = h.send(b, "\(tag) FETCH 1:3 \(items)")
            #expect(Self.lines(r).count == 1 && Self.lines(r)[0].hasPrefix("* 1 FETCH"), "\(r)")
            #expect(r.contains("\(tag) NO [EXPUNGEISSUED]"), "\(r)")
        }
        let noop = h.send(b, "b6 NOOP")
        #expect(Self.lines(noop).filter { $0.hasSuffix("EXPUNGE") } == ["* 3 EXPUNGE", "* 2 EXPUNGE"], "\(noop)")
        #expect(h.send(b, "b7 FETCH 1 UID").contains("b7 OK"))
    }

    // MARK: CONDSTORE enabled by a command (RFC 7162 §3.1)

    @Test(arguments: [
        "FETCH 1 (MODSEQ)", "SEARCH MODSEQ 1", "STORE 1 (UNCHANGEDSINCE 100) +FLAGS (\\Seen)", "SORT (DATE) UTF-8 MODSEQ 1",
    ])
    func aCommandThatEnablesCondstoreGivesTheHighestModseq(command: String) throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(s, "Subject: 1\r\n\r\nx\r\n")
        let select = h.send(s, "a SELECT INBOX")
        let highest = try #require(select.firstMatch(of: /HIGHESTMODSEQ (\d+)/)).1
        let first = h.send(s, "b \(command)")
        #expect(Self.lines(first).contains("* OK [HIGHESTMODSEQ \(highest)] Highest"), "\(first)")
        #expect(first.contains("b OK"), "\(first)")
        // Once only: CONDSTORE is on now.
        #expect(!h.send(s, "c \(command)").contains("HIGHESTMODSEQ"))
    }

    // MARK: SEARCH of an empty string (RFC 3501 §6.4.4)

    @Test func anEmptySubjectFindsTheMessagesThatHaveOne() throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(s, "Subject: hello beautiful world\r\n\r\nbody\r\n")
        h.append(s, "X-Extra: hello beautiful header\r\n\r\nbody\r\n")
        h.append(s, "Subject:\r\nFrom: a@example.com\r\n\r\nbody\r\n")
        h.send(s, "a SELECT INBOX")
        #expect(Self.lines(h.send(s, "b SEARCH SUBJECT \"\"")) == ["* SEARCH 1 3"])
        #expect(Self.lines(h.send(s, "c SEARCH NOT SUBJECT \"\"")) == ["* SEARCH 2"])
        #expect(Self.lines(h.send(s, "d SEARCH FROM \"\"")) == ["* SEARCH 3"])
        #expect(Self.lines(h.send(s, "e SEARCH BODY \"\"")) == ["* SEARCH 1 2 3"])
    }

    // MARK: Empty parts

    @Test func anEmptyPartIsAnEmptyLiteral() throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(s, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n--b\r\n\r\nsecond\r\n--b--\r\n")
        h.send(s, "a SELECT INBOX")
        let body = h.send(s, "b FETCH 1 (BODY.PEEK[1] BINARY.PEEK[1] BINARY.SIZE[1])")
        #expect(body.contains("* 1 FETCH (BODY[1] {0}\r\n BINARY[1] {0}\r\n BINARY.SIZE[1] 0)"), "\(body)")
    }
}
