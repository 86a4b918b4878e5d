import AdminModels
import Foundation
import GRDB
import Logging
import Synchronization
import LoginKit
import TestSupport
import Testing

@testable import Delivery
@testable import Directory
@testable import IMAP
@testable import IMAPServer
@testable import MailCore
@testable import Storage

/// A store with alice and bob, and sessions driven command by command.
struct IMAPHarness {
    /// The store the delivery holds, as SQLite: tests read it beyond the delivery's protocols.
    let store: SQLiteStore
    let dir: DirectoryService
    let delivery: LocalDelivery
    let env: IMAPEnvironment

    init() throws {
        store = try SQLiteStore.inMemory()
        dir = try DirectoryService(store: store, passwordIterations: 4096)
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try dir.addDomain("example.org", actor: admin)
        for a in ["alice", "bob"] {
            _ = try dir.addAccount("\(a)@example.org", password: "Correct-Horse-42", actor: admin)
        }
        let root = Scratch.url("mailroom-imap")
            .path
        delivery = LocalDelivery(store: store, directory: dir, blobs: BlobStore(root: root))
        env = Self.environment(dir, delivery)
    }

    static func environment(_ dir: DirectoryService, _ delivery: LocalDelivery) -> IMAPEnvironment {
        IMAPEnvironment(
            hostname: "mx.test", directory: dir, delivery: delivery, tls: nil, limits: IMAPLimits(),
            plaintextAuthOnLoopback: true,
            authLimiter: AuthLimiter(maxFailures: 100, ban: 1), authFailureDelay: .zero, logger: Logger(label: "test"))
    }

    /// A new environment over the same store: nothing the last one cached.
    func freshEnvironment() -> IMAPEnvironment { Self.environment(dir, delivery) }

    func session(_ user: String? = "alice", in env: IMAPEnvironment? = nil) -> IMAPSession {
        let s = IMAPSession(env: env ?? self.env, clientIP: "127.0.0.1", tlsActive: false, loopback: true)
        if let user { _ = send(s, "l LOGIN \(user)@example.org Correct-Horse-42") }
        return s
    }

    /// Sends one command; returns everything the server wrote.
    @discardableResult
    func send(_ s: IMAPSession, _ command: String) -> String {
        var bytes: [UInt8] = []
        let out = ResponseWriter { bytes += $0 }
        _ = s.handle(Array((command + "\r\n").utf8), out: out)
        out.flush()
        return String(decoding: bytes, as: UTF8.self)
    }

    func append(_ s: IMAPSession, _ message: String, mailbox: String = "INBOX", flags: String = "") -> String {
        let data = Array(message.utf8)
        var bytes: [UInt8] = []
        let out = ResponseWriter { bytes += $0 }
        _ = s.handle(Array("ap APPEND \(mailbox) (\(flags)) {\(data.count)+}\r\n".utf8) + data + [13, 10], out: out)
        out.flush()
        return String(decoding: bytes, as: UTF8.self)
    }
}

@Suite struct IMAPSessionTests {
    @Test func loginNeedsTheRightPasswordAndAnActiveAccount() throws {
        let h = try IMAPHarness()
        let s = h.session(nil)
        #expect(h.send(s, "a LOGIN alice@example.org wrong").contains("a NO [AUTHENTICATIONFAILED]"))
        #expect(h.send(s, "b SELECT INBOX").contains("b BAD"))
        _ = try h.dir.updateAccount(
            "alice@example.org", state: "disabled", actor: AdminActor(name: "t", role: .serverAdmin))
        #expect(h.send(s, "c LOGIN alice@example.org Correct-Horse-42").contains("c NO [AUTHENTICATIONFAILED]"))
        #expect(h.send(s, "d LOGIN bob@example.org Correct-Horse-42").contains("d OK [CAPABILITY"))
    }

    @Test func withoutTLSOffLoopbackLoginIsDisabled() throws {
        let h = try IMAPHarness()
        let s = IMAPSession(env: h.env, clientIP: "192.0.2.1", tlsActive: false, loopback: false)
        #expect(h.send(s, "a CAPABILITY").contains("LOGINDISABLED"))
        #expect(h.send(s, "b LOGIN alice@example.org Correct-Horse-42").contains("b NO [PRIVACYREQUIRED]"))
        #expect(
            h.send(s, "c AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUub3JnAENvcnJlY3QtSG9yc2UtNDI=").contains(
                "c NO [PRIVACYREQUIRED]"))
    }

    @Test func newAccountsHaveTheStandardMailboxes() throws {
        let h = try IMAPHarness()
        let list = h.send(h.session(), "a LIST \"\" *")
        for (name, use) in [
            ("INBOX", ""), ("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"), ("Junk", "\\Junk"),
            ("Archive", "\\Archive"),
        ] {
            #expect(
                list.contains(use.isEmpty ? "\"/\" \(name)\r\n" : "\(use)) \"/\" \(name)\r\n"), "\(name) in \(list)")
        }
    }

    @Test func fetchingOnlyFlagsAnswersLikeTheGeneralPath() throws {
        let h = try IMAPHarness()
        let s = h.session()
        for i in 1...6 { h.append(s, "Subject: \(i)\r\n\r\nx\r\n") }
        h.send(h.session(), "z SELECT INBOX")  // another session takes \Recent (RecentFlagTests)
        h.send(s, "a SELECT INBOX")
        h.send(s, "b STORE 2 +FLAGS (\\Flagged $Important)")
        h.send(s, "c STORE 5 +FLAGS (\\Deleted)")
        h.send(s, "d EXPUNGE")
        // FLAGS alone (fast path) and FLAGS with BINARY.SIZE (general path: it reads the
        // message) agree line by line.
        func flagsOnly(_ text: String) -> [String] {
            text.split(separator: "\r\n").filter { $0.hasPrefix("* ") }.map { line in
                String(line.replacingOccurrences(of: #" BINARY.SIZE\[1\] \d+"#, with: "", options: .regularExpression))
            }
        }
        let fast = h.send(s, "e UID FETCH 1:* (UID FLAGS)")
        let general = h.send(s, "f UID FETCH 1:* (UID FLAGS BINARY.SIZE[1])")
        #expect(flagsOnly(fast).count == 5)
        #expect(flagsOnly(fast) == flagsOnly(general), "\(fast)\n\(general)")
        #expect(fast.contains("* 2 FETCH (UID 2 FLAGS (\\Flagged $Important))"))
        #expect(fast.contains("* 5 FETCH (UID 6 FLAGS ())"))
        // Sequence sets with overlaps and gaps, and MODSEQ with CHANGEDSINCE.
        let some = h.send(s, "g FETCH 4,1:2,2 (FLAGS)")
        #expect(
            flagsOnly(some) == [
                "* 1 FETCH (FLAGS ())", "* 2 FETCH (FLAGS (\\Flagged $Important))", "* 4 FETCH (FLAGS ())",
            ])
        let changed = h.send(s, "h UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)")
        #expect(changed.contains("FLAGS (\\Flagged $Important) MODSEQ ("), "\(changed)")
        let modseqs = h.send(s, "i FETCH 1:* (MODSEQ)")
        #expect(flagsOnly(modseqs).count == 5 && flagsOnly(modseqs).allSatisfy { $0.contains("MODSEQ (") })
    }

    @Test func storedItemsAnswerLikeTheGeneralPathAndWithoutAStoredEnvelopeToo() throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(
            s,
            "From: Ann <ann@example.net>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\nplain\r\n"
        )
        h.append(
            s,
            "Subject: two\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"
        )
        h.append(s, "Subject: three\r\n\r\nthird\r\n")
        h.send(s, "a SELECT INBOX")
        let items = "UID FLAGS ENVELOPE BODYSTRUCTURE BODY INTERNALDATE RFC822.SIZE"
        func lines(_ text: String) -> [String] {
            text.split(separator: "\r\n").filter { $0.hasPrefix("* ") }.map {
                String($0.replacingOccurrences(of: #" BINARY.SIZE\[1\] \d+"#, with: "", options: .regularExpression))
            }
        }
        let fast = h.send(s, "b FETCH 1:* (\(items))")
        let general = h.send(s, "c FETCH 1:* (\(items) BINARY.SIZE[1])")
        #expect(lines(fast).count == 3)
        #expect(lines(fast) == lines(general), "\(fast)\n\(general)")
        #expect(
            fast.contains(
                "ENVELOPE (\"Mon, 2 Mar 2026 10:00:00 +0100\" \"=?utf-8?q?caf=C3=A9?=\" ((\"Ann\" NIL \"ann\" \"example.net\"))"
            ), "\(fast)")
        #expect(fast.contains("BODYSTRUCTURE ((\"TEXT\" \"PLAIN\""), "the multipart one")

        // A message whose ENVELOPE and BODYSTRUCTURE were not kept (stored by an older
        // version) is answered from its bytes, in the same FETCH.
        try h.store.writer.write { db in
            try db.execute(
                sql:
                    "DELETE FROM blob_meta WHERE blob_id IN (SELECT b.rowid FROM blobs b JOIN messages m ON m.blob_hash = b.hash WHERE m.uid = 2)"
            )
        }
        let mixed = h.send(s, "d FETCH 1:* (\(items))")
        #expect(Set(lines(mixed)) == Set(lines(fast)), "\(mixed)")
    }

    @Test func textSearchFindsTheSameByLookupAndByScan() throws {
        let h = try IMAPHarness()
        let s = h.session()
        for i in 1...30 { h.append(s, "Subject: note \(i)\r\n\r\n\(i % 3 == 0 ? "budget meeting" : "lunch")\r\n") }
        h.append(s, "Subject: elsewhere\r\n\r\nbudget meeting\r\n", mailbox: "Archive")
        // APPEND leaves the words to the background indexer: the index is what is compared.
        try h.delivery.indexWaitingMessages()
        h.send(s, "a SELECT INBOX")
        let alice = try #require(h.dir.snapshot.account(try EmailAddress("alice@example.org"))?.id)
        let inbox = try #require(try h.env.store.mailbox(accountID: alice, name: "INBOX"))
        let looked = try h.env.store.textSearch(mailboxID: inbox.id, fields: [.body], needle: "meeting")
        let scanned = try h.env.store.textSearch(
            mailboxID: inbox.id, fields: [.body], needle: "meeting", lookupLimit: 0)
        #expect(looked == scanned)
        #expect(looked.count == 10)
        #expect(h.send(s, "b UID SEARCH BODY meeting").contains("* SEARCH 3 6 9 12 15 18 21 24 27 30\r\n"))
    }

    @Test func uidsIncreaseAndAreNeverReused() throws {
        let h = try IMAPHarness()
        let s = h.session()
        for i in 1...3 { #expect(h.append(s, "Subject: \(i)\r\n\r\nx\r\n").contains("[APPENDUID")) }
        h.send(s, "a SELECT INBOX")
        h.send(s, "b STORE 3 +FLAGS (\\Deleted)")
        #expect(h.send(s, "c EXPUNGE").contains("* 3 EXPUNGE"))
        #expect(h.append(s, "Subject: 4\r\n\r\nx\r\n").contains(" 4] APPEND"))
        let fetch = h.send(s, "d UID FETCH 1:* (UID)")
        #expect(
            fetch.contains("UID 1)") && fetch.contains("UID 2)") && fetch.contains("UID 4)")
                && !fetch.contains("UID 3)"))
    }

    @Test func otherSessionsHearOfChangesWhenAllowed() throws {
        let h = try IMAPHarness()
        let a = h.session(), b = h.session()
        h.append(a, "Subject: one\r\n\r\nx\r\n")
        h.send(a, "s1 SELECT INBOX")
        h.send(b, "s2 SELECT INBOX")
        h.append(b, "Subject: two\r\n\r\nx\r\n")
        h.send(b, "f STORE 1 +FLAGS (\\Deleted)")
        h.send(b, "g EXPUNGE")
        // No EXPUNGE during FETCH (RFC 9051 §7.5.1), but at NOOP.
        let fetch = h.send(a, "x FETCH 1 FLAGS")
        #expect(!fetch.contains(" EXPUNGE\r\n"), "\(fetch)")
        #expect(fetch.contains("x NO [EXPUNGEISSUED]"), "\(fetch)")
        let noop = h.send(a, "y NOOP")
        #expect(noop.contains("* 1 EXPUNGE"))
        #expect(noop.contains("* 1 EXISTS"))
    }

    @Test func copyAndMoveShareTheBlobAndAnswerWithCopyUID() throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.append(s, "Subject: keep\r\n\r\nbody\r\n")
        h.send(s, "a SELECT INBOX")
        #expect(h.send(s, "n COPY 1 Nowhere").contains("n NO [TRYCREATE]"))
        #expect(h.send(s, "b COPY 1 Archive").contains("[COPYUID "))
        let move = h.send(s, "c MOVE 1 Trash")
        #expect(move.contains("* OK [COPYUID ") && move.contains("* 1 EXPUNGE"))
        #expect(try h.store.referencedBlobs().count == 1)
        #expect(h.send(s, "e STATUS Trash (MESSAGES)").contains("(MESSAGES 1)"))
        // INBOX is empty after the MOVE: sequence number 1 no longer exists.
        #expect(h.send(s, "f COPY 1 Archive").contains("f BAD"))
    }

    @Test func appendRespectsTheQuota() throws {
        let h = try IMAPHarness()
        let s = h.session()
        _ = try h.dir.updateAccount("alice@example.org", quota: "2K", actor: AdminActor(name: "t", role: .serverAdmin))
        #expect(h.append(s, "Subject: small\r\n\r\nx\r\n").contains("OK [APPENDUID"))
        #expect(
            h.append(s, "Subject: big\r\n\r\n" + String(repeating: "x", count: 3000) + "\r\n").contains(
                "NO [OVERQUOTA]"))
        #expect(h.send(s, "q GETQUOTAROOT INBOX").contains("* QUOTA \"\" (STORAGE 1 2)"))
    }

    /// Names that try to leave the account: none reaches bob's mail, whatever the command.
    @Test(arguments: [
        "../bob", "~bob/INBOX", "#shared/x", "%", "*", "\"\"", "/INBOX", "INBOX/../../bob", "a//b",
        String(repeating: "x", count: 1100),
    ])
    func namesCannotEscapeTheAccount(_ name: String) throws {
        let h = try IMAPHarness()
        let bob = h.session("bob")
        h.append(bob, "Subject: secret\r\n\r\nbob's mail\r\n")
        let alice = h.session()
        let quoted = name.hasPrefix("\"") ? name : "\"\(name)\""
        for command in [
            "SELECT", "EXAMINE", "STATUS \(quoted) (MESSAGES)", "DELETE", "CREATE", "RENAME INBOX", "SUBSCRIBE",
        ] {
            let line = command.contains(" ") ? "t \(command)" : "t \(command) \(quoted)"
            let reply = h.send(alice, line)
            #expect(!reply.contains("t OK") || command == "SUBSCRIBE", "\(line) → \(reply)")
        }
        let appended = h.append(alice, "Subject: x\r\n\r\nx\r\n", mailbox: quoted)
        #expect(appended.contains("ap NO") || appended.contains("ap BAD"), "APPEND \(quoted) → \(appended)")
        #expect(!h.send(alice, "l LIST \"\" *").contains("bob"))
        #expect(h.send(bob, "s STATUS INBOX (MESSAGES)").contains("(MESSAGES 1)"))
    }

    @Test func tooManyBadCommandsEndTheSession() throws {
        let h = try IMAPHarness()
        let s = h.session(nil)
        var last = ""
        for i in 0..<h.env.limits.maxBadCommands { last = h.send(s, "t\(i) FROB") }
        #expect(last.contains("* BYE"))
    }

    @Test func fetchServesSectionsOfAMultipartMessage() throws {
        let h = try IMAPHarness()
        let s = h.session()
        let message = """
            From: Bob <bob@example.org>\r
            Subject: parts\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            first part\r
            --b1\r
            Content-Type: application/octet-stream\r
            Content-Transfer-Encoding: base64\r
            \r
            aGVsbG8gd29ybGQ=\r
            --b1--\r

            """
        h.append(s, message)
        h.send(s, "a SELECT INBOX")
        let r = h.send(
            s,
            "b FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[2] BINARY.SIZE[2] BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[]<0.4>)"
        )
        #expect(r.contains("BODY[1] {10}\r\nfirst part"))
        #expect(
            r.contains(
                "BODY[2.MIME] {77}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            ))
        #expect(r.contains("BINARY[2] {11}\r\nhello world"))
        #expect(r.contains("BINARY.SIZE[2] 11"))
        #expect(r.contains("BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: parts\r\n\r\n"))
        #expect(r.contains("BODY[]<0> {4}\r\nFrom"))
        #expect(!h.send(s, "c FETCH 1 FLAGS").contains("\\Seen"))
        #expect(h.send(s, "d FETCH 1 BODY[TEXT]").contains("FLAGS (\\Seen \\Recent)"))
    }

    @Test func idleSessionsAreToldOfDeliveries() async throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.send(s, "a SELECT INBOX")
        let woken = Mutex(false)
        s.onMailboxChange = { woken.withLock { $0 = true } }
        h.send(s, "b SELECT INBOX")
        _ = try await h.delivery.deliver(
            InboundMessage(
                sender: "x@elsewhere.test", recipients: ["alice@example.org"],
                data: Array("Subject: hi\r\n\r\nhello\r\n".utf8),
                receivedHeader: "Received: test\r\n", clientIP: nil, helo: nil, tls: nil, authenticatedUser: nil))
        #expect(woken.withLock { $0 })
        var bytes: [UInt8] = []
        let out = ResponseWriter { bytes += $0 }
        s.idleUpdate(out: out)
        out.flush()
        #expect(String(decoding: bytes, as: UTF8.self).contains("* 1 EXISTS"))
    }
}

/// \Recent (RFC 3501 §2.3.2): a new message is recent in exactly one session, the first to
/// SELECT the mailbox (or to learn of the message while it has it selected); EXAMINE looks
/// without taking; IMAP4rev2 clients never see it.
@Suite struct RecentFlagTests {
    @Test func theFirstSessionToSelectGetsTheNewMessagesAsRecent() throws {
        let h = try IMAPHarness()
        let a = h.session()
        for n in 1...2 { _ = h.append(a, "Subject: r\(n)\r\n\r\nbody\r\n") }
        #expect(h.send(a, "s STATUS INBOX (RECENT)").contains("* STATUS INBOX (RECENT 2)"))

        let examiner = h.session()
        let examined = h.send(examiner, "e EXAMINE INBOX")
        #expect(examined.contains("* 2 RECENT"), "\(examined)")
        #expect(h.send(examiner, "f FETCH 1 FLAGS").contains("FLAGS (\\Recent)"))
        #expect(h.send(a, "s STATUS INBOX (RECENT)").contains("(RECENT 2)"), "EXAMINE does not take them")

        let first = h.session()
        #expect(h.send(first, "s SELECT INBOX").contains("* 2 RECENT"))
        let flags = h.send(first, "f UID FETCH 1:* (FLAGS)")
        #expect(
            flags.contains("* 1 FETCH (UID 1 FLAGS (\\Recent))")
                && flags.contains("* 2 FETCH (UID 2 FLAGS (\\Recent))"), "\(flags)")
        #expect(
            h.send(first, "g FETCH 1 (FLAGS RFC822.SIZE)").contains("FLAGS (\\Recent)"), "the general FETCH path too")
        #expect(h.send(first, "r SEARCH RECENT").contains("* SEARCH 1 2\r\n"))
        #expect(h.send(first, "t STORE 1 +FLAGS (\\Seen)").contains("FLAGS (\\Seen \\Recent)"))
        #expect(h.send(first, "n SEARCH NEW").contains("* SEARCH 2\r\n"))
        #expect(h.send(first, "o SEARCH OLD").contains("* SEARCH\r\n"))
        #expect(h.send(a, "s STATUS INBOX (RECENT)").contains("(RECENT 0)"))

        let second = h.session()
        #expect(h.send(second, "s SELECT INBOX").contains("* 0 RECENT"))
        #expect(h.send(second, "f FETCH 2 FLAGS").contains("FLAGS ()"))
        #expect(h.send(second, "o SEARCH OLD").contains("* SEARCH 1 2\r\n"))

        // A message that arrives while both have the mailbox open goes to whichever hears first.
        _ = h.append(a, "Subject: r3\r\n\r\nbody\r\n")
        let heard = h.send(first, "n NOOP")
        #expect(heard.contains("* 3 EXISTS\r\n* 3 RECENT\r\n"), "\(heard)")
        let late = h.send(second, "n NOOP")
        #expect(late.contains("* 3 EXISTS\r\n* 0 RECENT\r\n"), "\(late)")
        #expect(h.send(second, "r SEARCH RECENT").contains("* SEARCH\r\n"))
    }

    @Test func imap4rev2ClientsNeverSeeRecent() throws {
        let h = try IMAPHarness()
        let a = h.session()
        _ = h.append(a, "Subject: r\r\n\r\nbody\r\n")
        let s = h.session()
        _ = h.send(s, "e ENABLE IMAP4rev2")
        let selected = h.send(s, "s SELECT INBOX")
        #expect(!selected.contains("RECENT"), "\(selected)")
        #expect(h.send(s, "f FETCH 1 FLAGS").contains("FLAGS ()"))
        #expect(
            h.send(a, "s STATUS INBOX (RECENT)").contains("(RECENT 0)"),
            "taken all the same: a rev1 client after it must not see it")
    }
}
