import Testing

@testable import IMAPServer
import LoginKit

/// What each state allows, and what a session holds from one state to the next.
@Suite struct IMAPSessionStateTests {
    @Test func commandsAnswerBADOutsideTheirState() throws {
        let h = try IMAPHarness()
        let s = h.session(nil)
        #expect(h.send(s, "a SELECT INBOX") == "a BAD Log in first\r\n")
        #expect(h.send(s, "b FETCH 1 FLAGS") == "b BAD Select a mailbox first\r\n")
        #expect(h.send(s, "c CLOSE") == "c BAD Select a mailbox first\r\n")
        #expect(h.send(s, "d LOGIN alice@example.org Correct-Horse-42").hasPrefix("d OK [CAPABILITY "))
        #expect(h.send(s, "e LOGIN alice@example.org Correct-Horse-42") == "e BAD Already logged in\r\n")
        #expect(h.send(s, "f CHECK") == "f BAD Select a mailbox first\r\n")
        #expect(h.send(s, "g SEARCH CHARSET KOI8-R ALL") == "g BAD Select a mailbox first\r\n")
        #expect(h.send(s, "h SELECT INBOX").hasSuffix("h OK [READ-WRITE] SELECT completed\r\n"))
        #expect(h.send(s, "i UNSELECT") == "i OK UNSELECT completed\r\n")
        #expect(h.send(s, "j FETCH 1 FLAGS") == "j BAD Select a mailbox first\r\n")
    }

    @Test func theSelectedMailboxFollowsRenameAndLeavesOnDelete() throws {
        let h = try IMAPHarness()
        let s = h.session()
        h.send(s, "a CREATE Work")
        _ = h.append(s, "Subject: x\r\n\r\nbody\r\n", mailbox: "Work")
        #expect(h.send(s, "b SELECT Work").contains("* 1 EXISTS\r\n"))
        #expect(h.send(s, "c RENAME Work Done").hasSuffix("c OK RENAME completed\r\n"))
        #expect(s.selected?.name == "Done")
        #expect(h.send(s, "d FETCH 1 UID").contains("* 1 FETCH (UID "))
        #expect(h.send(s, "e DELETE Done").hasSuffix("e OK DELETE completed\r\n"))
        #expect(s.selected == nil)
        #expect(h.send(s, "f FETCH 1 UID") == "f BAD Select a mailbox first\r\n")
    }

    @Test func afterLogoutTheConnectionSlotIsHeldUntilTheConnectionCloses() throws {
        let h = try IMAPHarness()
        var env = h.env
        env.userConnections = ConnectionLimiter(maxTotal: .max, maxPerIP: 1)
        func session() -> IMAPSession { IMAPSession(env: env, clientIP: "127.0.0.1", tlsActive: false, loopback: true) }
        let login = "l LOGIN alice@example.org Correct-Horse-42"
        let first = session()
        #expect(h.send(first, login).hasPrefix("l OK"))
        h.send(first, "s SELECT INBOX")
        #expect(h.send(first, "o LOGOUT") == "* BYE Logging out\r\no OK LOGOUT completed\r\n")
        #expect(first.selected == nil && first.account != nil)
        #expect(h.send(session(), login).hasPrefix("l NO [LIMIT]"))
        // What the connection does when it closes.
        first.deselect()
        first.releaseUser()
        #expect(h.send(session(), login).hasPrefix("l OK"))
    }
}
