import AdminModels
import Foundation
import TestSupport
import Testing

@testable import Delivery
@testable import Directory
@testable import MailCore
@testable import SMTP
@testable import SMTPServer
@testable import Storage

struct PolicyHarness {
    /// The store the delivery holds, as SQLite: tests read it beyond the delivery's protocols.
    let store: SQLiteStore
    let dir: DirectoryService
    let policy: DirectoryPolicy
    let delivery: LocalDelivery

    init() throws {
        store = try SQLiteStore.inMemory()
        dir = try DirectoryService(store: store, passwordIterations: 4096)
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try dir.addDomain("example.org", actor: admin)
        _ = try dir.addDomain("example.net", aliasOf: "example.org", actor: admin)
        _ = try dir.addDomain("bücher.example", actor: admin)
        for a in ["alice", "bob", "carol", "postmaster"] {
            _ = try dir.addAccount("\(a)@example.org", actor: admin)
        }
        _ = try dir.addAccount("dave@example.org", actor: admin)
        _ = try dir.updateAccount("dave@example.org", state: "disabled", actor: admin)
        _ = try dir.addAccount("full@example.org", quota: "1K", actor: admin)
        _ = try dir.addAlias("sales@example.org", targets: ["alice@example.org"], actor: admin)
        _ = try dir.createList("eng@example.org", members: ["alice@example.org", "bob@example.org"], actor: admin)
        _ = try dir.updateList("eng@example.org", postingPolicy: "members", actor: admin)
        _ = try dir.createList("staff@example.org", members: ["carol@example.org"], actor: admin)
        _ = try dir.updateList("staff@example.org", postingPolicy: "organisation", actor: admin)
        _ = try dir.createList("news@example.org", members: ["carol@example.org"], actor: admin)
        _ = try dir.updateList("news@example.org", postingPolicy: "senders", allowedSenders: ["boss@partner.test"], owners: ["bob@example.org"], actor: admin)
        let root = Scratch.url("mailroom-policy").path
        delivery = LocalDelivery(store: store, directory: dir, blobs: BlobStore(root: root))
        policy = DirectoryPolicy(directory: dir, delivery: delivery, hostname: "mx.example.org")
    }

    /// The reply code for `RCPT TO:<…>` from an unauthenticated MX client (250 when accepted).
    func rcpt(_ path: String, from sender: String = "someone@elsewhere.com", user: String? = nil, mode: SMTPSessionConfig.Mode = .mx) -> Int {
        let mailbox: SMTPMailbox?
        do {
            guard case .rcpt(let m) = try SMTPCommandParser.parse(Array("RCPT TO:\(path)".utf8)) else { return -1 }
            mailbox = m
        } catch { return error.reply.code }
        let from = try? SMTPCommandParser.parsePath("<\(sender)>")
        switch policy.checkRecipient(mailbox, sender: from, authenticatedUser: user, mode: mode) {
        case .accept: return 250
        case .reject(let r): return r.code
        }
    }
}

@Suite struct DirectoryPolicyTests {
    /// Relay tricks: none may be accepted from an unauthenticated client.
    static let relayTricks: [(String, Int)] = [
        ("<victim@gmail.com>", 554),
        ("<VICTIM@GMAIL.COM>", 554),
        ("<user%gmail.com@example.org>", 550),
        ("<user%gmail.com@EXAMPLE.ORG>", 550),
        ("<@example.org:victim@gmail.com>", 554),
        ("<@example.org,@mx.example.org:victim@gmail.com>", 554),
        ("<\"victim@gmail.com\"@example.org>", 550),
        ("<\"victim@gmail.com\"@example.net>", 550),
        ("<gmail.com!victim@example.org>", 550),
        ("<victim@gmail.com.>", 501),
        ("<victim@example.org.>", 501),
        ("<victim@example.org..>", 501),
        ("<victim@[127.0.0.1]>", 554),
        ("<victim@[IPv6:::1]>", 554),
        ("<alice@exаmple.org>", 554),  // Cyrillic а: a different domain
        ("<alice@example.org.gmail.com>", 554),
        ("<alice@sub.example.org>", 554),
        ("<victim@gmail.com@example.org>", 501),
        ("<" + String(repeating: "a", count: 64) + "@" + String(repeating: "b", count: 60) + ".gmail.com>", 554),
        ("<" + String(repeating: "a", count: 80) + "@example.org>", 501),
        ("<victim@gmail.com> NOTIFY=NEVER", 555),
        ("victim@gmail.com", 501),
        ("<victim@xn--gmal-nza.com>", 554),
        ("<postmaster@gmail.com>", 554),
    ]

    @Test(arguments: relayTricks)
    func relayTricksAreRefused(path: String, code: Int) throws {
        let h = try PolicyHarness()
        #expect(h.rcpt(path) == code)
    }

    static let local: [(String, Int)] = [
        ("<alice@example.org>", 250), ("<ALICE@Example.Org>", 250), ("<alice+tag@example.org>", 250),
        ("<alice@example.net>", 250), ("<sales@example.org>", 250), ("<nobody@example.org>", 550),
        ("<dave@example.org>", 550), ("<Postmaster>", 250), ("<postmaster@example.org>", 250),
        ("<\"alice\"@example.org>", 250),
    ]

    @Test(arguments: local)
    func localRecipients(path: String, code: Int) throws {
        let h = try PolicyHarness()
        #expect(h.rcpt(path) == code)
    }

    @Test func disabledAndUnknownUseTheirCodes() throws {
        let h = try PolicyHarness()
        let dave = h.policy.checkRecipient(SMTPMailbox(localPart: "dave", domain: "example.org", isQuoted: false), sender: nil, authenticatedUser: nil, mode: .mx)
        #expect(dave == .reject(SMTPReply(550, "5.2.1", "mailbox dave@example.org is disabled")))
        guard case .reject(let r) = h.policy.checkRecipient(SMTPMailbox(localPart: "ghost", domain: "example.org", isQuoted: false), sender: nil, authenticatedUser: nil, mode: .mx)
        else { Issue.record("accepted"); return }
        #expect(r.enhanced == "5.1.1")
    }

    @Test func listPostingPolicies() throws {
        let h = try PolicyHarness()
        #expect(h.rcpt("<eng@example.org>", from: "stranger@elsewhere.com") == 550)
        #expect(h.rcpt("<eng@example.org>", from: "bob@example.org") == 250)
        #expect(h.rcpt("<eng@example.org>", from: "Bob@Example.NET") == 250)
        #expect(h.rcpt("<staff@example.org>", from: "stranger@elsewhere.com") == 550)
        #expect(h.rcpt("<staff@example.org>", from: "alice@example.org") == 250)
        #expect(h.rcpt("<news@example.org>", from: "alice@example.org") == 550)
        #expect(h.rcpt("<news@example.org>", from: "boss@partner.test") == 250)
    }

    @Test func authenticatedUsersMayRelay() throws {
        let h = try PolicyHarness()
        #expect(h.rcpt("<friend@partner.test>", user: "alice@example.org", mode: .submission) == 250)
        #expect(h.rcpt("<nobody@example.org>", user: "alice@example.org", mode: .submission) == 550)
    }

    @Test func trustedNetworksMayRelayWithoutAuthButStillNotToUnknownLocalUsers() throws {
        let h = try PolicyHarness()
        func rcpt(_ address: String, trusted: Bool) -> Int {
            let m = try? SMTPCommandParser.parsePath("<\(address)>")
            switch h.policy.checkRecipient(m, sender: nil, authenticatedUser: nil, mode: .mx, trustedClient: trusted) {
            case .accept: return 250
            case .reject(let r): return r.code
            }
        }
        #expect(rcpt("friend@partner.test", trusted: true) == 250)
        #expect(rcpt("friend@partner.test", trusted: false) == 554)
        #expect(rcpt("nobody@example.org", trusted: true) == 550)
        #expect(rcpt("alice@example.org", trusted: true) == 250)
    }

    @Test func sendersAuthenticatedUsersMayUse() throws {
        let h = try PolicyHarness()
        func may(_ user: String, _ sender: String?) -> Bool {
            h.policy.checkSender(sender.flatMap { try? SMTPCommandParser.parsePath("<\($0)>") }, authenticatedUser: user) == nil
        }
        #expect(may("alice@example.org", "alice@example.org"))
        #expect(may("alice@example.org", "Alice@example.net"))
        #expect(may("alice@example.org", "alice+news@example.org"))
        #expect(may("alice@example.org", "sales@example.org"))  // alias pointing to her
        #expect(!may("bob@example.org", "sales@example.org"))
        #expect(may("bob@example.org", "news@example.org"))  // list owner
        #expect(!may("alice@example.org", "news@example.org"))
        #expect(!may("alice@example.org", "bob@example.org"))
        #expect(!may("alice@example.org", "alice@gmail.com"))
        #expect(!may("alice@example.org", nil))
    }
}
