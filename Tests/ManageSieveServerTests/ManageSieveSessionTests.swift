import AdminModels
import Foundation
import Logging
import LoginKit
import ManageSieve
import TestSupport
import Testing

@testable import Delivery
@testable import Directory
@testable import ManageSieveServer
@testable import Storage
import MailCore

/// A store with alice, and ManageSieve sessions driven command by command.
struct ManageSieveHarness {
    let dir: DirectoryService
    let store: SQLiteStore
    var env: ManageSieveEnvironment

    init(limiter: AuthLimiter = AuthLimiter(maxFailures: 100, ban: 1)) throws {
        store = try SQLiteStore.inMemory()
        dir = try DirectoryService(store: store, passwordIterations: 4096)
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try dir.addDomain("example.org", actor: admin)
        _ = try dir.addAccount("alice@example.org", password: "Correct-Horse-42", actor: admin)
        let root = Scratch.url("mailroom-ms")
            .path
        let delivery = LocalDelivery(store: store, directory: dir, blobs: BlobStore(root: root))
        env = ManageSieveEnvironment(
            hostname: "mx.test", directory: dir, delivery: delivery, tlsBox: nil, plaintextAuthOnLoopback: true,
            authLimiter: limiter, authFailureDelay: .milliseconds(250), logger: Logger(label: "test"))
    }

    func session(loopback: Bool = true, login: Bool = true) -> ManageSieveSession {
        let s = ManageSieveSession(env: env, clientIP: loopback ? "127.0.0.1" : "192.0.2.7", loopback: loopback)
        if login { _ = send(s, Self.plain("Correct-Horse-42")) }
        return s
    }

    static func plain(_ password: String) -> String {
        "AUTHENTICATE \"PLAIN\" \"\(Data("\0alice@example.org\0\(password)".utf8).base64EncodedString())\""
    }

    /// Sends one command; returns what the server wrote and what the connection does next.
    @discardableResult
    func send(_ s: ManageSieveSession, _ command: String) -> (text: String, next: ManageSieveSession.Next) {
        var framer = ManageSieveFramer(limits: env.limits)
        framer.append(Array((command + "\r\n").utf8))
        guard let frame = try? framer.next() else { return ("unframed", .read) }
        var out: [UInt8] = []
        let next = s.handle(frame, out: &out)
        return (String(decoding: out, as: UTF8.self), next)
    }
}

@Suite struct ManageSieveSessionTests {
    @Test func aWrongPasswordWaitsAndIsJournalled() throws {
        let h = try ManageSieveHarness()
        let s = h.session(login: false)
        let r = h.send(s, ManageSieveHarness.plain("wrong"))
        #expect(r.text == "NO \"Authentication failed\"\r\n")
        #expect(r.next == .delayed(.milliseconds(250)))
        #expect(h.send(s, "LISTSCRIPTS").text.hasPrefix("NO \"AUTHENTICATE first\""))
        #expect(h.send(s, ManageSieveHarness.plain("Correct-Horse-42")).text == "OK \"Logged in\"\r\n")
        let account = try #require(h.dir.snapshot.account(try EmailAddress("alice@example.org")))
        let history = try h.store.loginHistory(accountID: account.id)
        #expect(history.successes.map(\.protocol) == ["managesieve"], "\(history)")
        #expect(history.failures.map(\.protocol) == ["managesieve"], "\(history)")
    }

    @Test func aBannedAddressIsRefusedEvenWithTheRightPassword() throws {
        let h = try ManageSieveHarness(limiter: AuthLimiter(maxFailures: 2, ban: 600))
        let s = h.session(login: false)
        _ = h.send(s, ManageSieveHarness.plain("wrong"))
        _ = h.send(s, ManageSieveHarness.plain("wrong"))
        let r = h.send(s, ManageSieveHarness.plain("Correct-Horse-42"))
        #expect(r.text.hasPrefix("NO (TRYLATER)"), "\(r.text)")
        #expect(!s.isAuthenticated)
    }

    @Test func withoutTLSOnlyLoopbackMayLogIn() throws {
        let h = try ManageSieveHarness()
        let s = h.session(loopback: false, login: false)
        #expect(String(decoding: s.capabilities(), as: UTF8.self).contains("\"SASL\" \"\"\r\n"))
        #expect(h.send(s, ManageSieveHarness.plain("Correct-Horse-42")).text.hasPrefix("NO (ENCRYPT-NEEDED)"))
        #expect(!s.isAuthenticated)
    }

    @Test func scriptsPerAccountAreLimited() throws {
        var h = try ManageSieveHarness()
        h.env.limits.maxScripts = 2
        let s = h.session()
        #expect(h.send(s, "PUTSCRIPT \"a\" \"keep;\"").text == "OK \"Putscript completed\"\r\n")
        #expect(h.send(s, "PUTSCRIPT \"b\" \"keep;\"").text.hasPrefix("OK"))
        #expect(h.send(s, "HAVESPACE \"c\" 10").text.hasPrefix("NO (QUOTA/MAXSCRIPTS)"))
        #expect(h.send(s, "PUTSCRIPT \"c\" \"keep;\"").text.hasPrefix("NO (QUOTA/MAXSCRIPTS)"))
        // Replacing one is not another script.
        #expect(h.send(s, "PUTSCRIPT \"b\" \"stop;\"").text.hasPrefix("OK"))
        #expect(h.send(s, "HAVESPACE \"b\" 2000000").text.hasPrefix("NO (QUOTA/MAXSIZE)"))
    }

    @Test func changesAreAuditedAsTheUser() throws {
        let h = try ManageSieveHarness()
        let s = h.session()
        #expect(h.send(s, "PUTSCRIPT \"a\" \"keep;\"").text.hasPrefix("OK"))
        #expect(h.send(s, "SETACTIVE \"a\"").text.hasPrefix("OK"))
        #expect(h.send(s, "DELETESCRIPT \"a\"").text.hasPrefix("NO (ACTIVE)"))
        #expect(h.send(s, "SETACTIVE \"\"").text.hasPrefix("OK"))
        #expect(h.send(s, "SETACTIVE \"nope\"").text.hasPrefix("NO (NONEXISTENT)"))
        #expect(h.send(s, "DELETESCRIPT \"a\"").text.hasPrefix("OK"))
        let audit = try h.store.auditEntries(since: nil, target: nil, domains: nil, limit: 10)
        #expect(Set(audit.map(\.actor)) == ["t", "managesieve:alice@example.org"], "\(audit)")
        #expect(audit.filter { $0.actor.hasPrefix("managesieve:") }.count == 4, "\(audit.map(\.action))")
    }

    @Test func tooManyErrorsEndTheConnection() throws {
        var h = try ManageSieveHarness()
        h.env.limits.maxErrors = 3
        let s = h.session(login: false)
        for _ in 0..<3 { #expect(h.send(s, "FROB").next == .read) }
        let r = h.send(s, "FROB")
        #expect(r.next == .close)
        #expect(r.text.hasPrefix("BYE"))
    }

    @Test func unauthenticateEndsTheLogin() throws {
        let h = try ManageSieveHarness()
        let s = h.session()
        #expect(h.send(s, "UNAUTHENTICATE").text.hasPrefix("OK"))
        #expect(h.send(s, "LISTSCRIPTS").text.hasPrefix("NO"))
        #expect(h.send(s, "NOOP \"x\"").text == "OK (TAG \"x\") \"Done\"\r\n")
    }
}
