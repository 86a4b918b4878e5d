import AdminModels
import Delivery
import Directory
@testable import SMTP
import MailCore
import Storage
@testable import SMTPServer
import Foundation
import Testing

struct SRSTests {
    static let srs = SRS(secret: Array("a secret of thirty-two bytes!!!!".utf8))
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func forwardAndBack() throws {
        let srs0 = try #require(Self.srs.forward("Ann.Smith@partner.test", via: "example.org", now: Self.now))
        #expect(srs0.hasPrefix("SRS0=") && srs0.hasSuffix("=partner.test=Ann.Smith@example.org"), "\(srs0)")
        let local = String(srs0.split(separator: "@")[0])
        #expect(Self.srs.reverse(local, now: Self.now) == "Ann.Smith@partner.test")
        #expect(Self.srs.reverse(local.uppercased(), now: Self.now) == "ANN.SMITH@PARTNER.TEST", "case does not break the hash")
        #expect(Self.srs.reverse(local, now: Self.now.addingTimeInterval(21 * 86400)) != nil)
        #expect(Self.srs.reverse(local, now: Self.now.addingTimeInterval(23 * 86400)) == nil, "too old")
        #expect(Self.srs.forward("", via: "example.org") == nil, "bounces are not rewritten")
    }

    @Test(arguments: [
        "SRS0=abcd=xx=partner.test=ann", "SRS0=====", "SRS0=", "SRS1=abcd=hop==x", "SRS0=abcd=xx=partner.test", "ann", "",
    ])
    func forgedOrMalformedIsRefused(_ local: String) {
        #expect(Self.srs.reverse(local, now: Self.now) == nil)
    }

    @Test func anotherForwardersAddressBecomesSRS1AndGoesBackToIt() throws {
        let other = SRS(secret: Array("another forwarder's own secret!!".utf8))
        let first = try #require(other.forward("ann@partner.test", via: "hop.test", now: Self.now))
        let second = try #require(Self.srs.forward(first, via: "example.org", now: Self.now))
        #expect(second.hasPrefix("SRS1=") && second.hasSuffix("@example.org"), "\(second)")
        let back = try #require(Self.srs.reverse(String(second.split(separator: "@")[0]), now: Self.now))
        #expect(back == first, "a bounce goes back to the first hop, which decodes its own")
        // Forwarded once more: still SRS1 with the first hop, no longer.
        let third = try #require(Self.srs.forward(second, via: "example.net", now: Self.now))
        #expect(third.count <= second.count + 2 && third.contains("=hop.test=="), "\(third)")
        #expect(Self.srs.reverse(String(third.split(separator: "@")[0]), now: Self.now) == first)
    }
}

/// SRS through delivery and the SMTP policy: a forwarded copy leaves with an SRS sender in the
/// forwarding domain, our own users' mail does not, and bounces to SRS addresses are taken
/// (and sent on to the original sender) only when we made them.
struct SRSForwardingTests {
    @Test func forwardedCopiesLeaveWithAnSRSSenderAndTheirBouncesComeBack() async throws {
        let h = try PolicyHarness()
        h.delivery.srs = SRSTests.srs
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try h.dir.addAlias("fwd@example.org", targets: ["friend@partner.test"], actor: admin)
        func message(from sender: String) -> InboundMessage {
            InboundMessage(
                sender: sender, recipients: ["fwd@example.org"], data: Array("Subject: hi\r\n\r\nhello\r\n".utf8),
                receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "test", tls: nil, authenticatedUser: nil)
        }
        _ = try await h.delivery.deliver(message(from: "ann@elsewhere.com"))
        _ = try await h.delivery.deliver(message(from: "alice@example.org"))
        let queued = try h.store.queuedRecipients().map(\.sender)
        #expect(queued.count == 2)
        let srs = try #require(queued.first { $0.hasPrefix("SRS0=") }, "\(queued)")
        #expect(srs.hasSuffix("=elsewhere.com=ann@example.org"), "\(srs)")
        #expect(queued.contains("alice@example.org"), "our own user's address stays: \(queued)")

        // The bounce to that address is taken and goes to ann; a forged one is refused.
        #expect(h.rcpt("<\(srs)>", from: "") == 250)
        let bounce = try #require(try SMTPCommandParser.parsePath("<\(srs)>"))
        guard case .accept(let r) = h.policy.checkRecipient(bounce, sender: nil, authenticatedUser: nil, mode: .mx) else {
            Issue.record("refused")
            return
        }
        #expect(r.address == "ann@elsewhere.com" && !r.isLocal)
        let forged = srs.replacingOccurrences(of: "=ann@", with: "=bob@")
        #expect(h.rcpt("<\(forged)>", from: "") == 550)
        #expect(h.rcpt("<SRS0=abcd=aa=elsewhere.com=ann@example.org>", from: "") == 550)
    }

    /// `account forward`: a Sieve script the administrator sets, with or without a copy kept;
    /// forwarded copies leave with an SRS sender; --off puts the earlier script back.
    @Test func accountForwardIsASieveScriptWithOrWithoutACopy() async throws {
        let h = try PolicyHarness()
        h.delivery.srs = SRSTests.srs
        let admin = AdminActor(name: "t", role: .serverAdmin)
        let alice = try #require(h.dir.snapshot.account(try EmailAddress("alice@example.org"))?.id)
        func send() async throws {
            _ = try await h.delivery.deliver(
                InboundMessage(
                    sender: "ann@elsewhere.com", recipients: ["alice@example.org"], data: Array("Subject: hi\r\n\r\nhello\r\n".utf8),
                    receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "test", tls: nil, authenticatedUser: nil))
        }
        _ = try h.delivery.putSieveScript(
            "alice@example.org", name: "mine", script: "require \"fileinto\"; keep;", activate: true, actor: admin)

        let kept = try h.delivery.setForward("alice@example.org", to: ["alice@partner.test"], keepCopy: true, actor: admin)
        #expect(kept.active && kept.keepCopy && kept.to == ["alice@partner.test"] && kept.includes == "mine", "\(kept)")
        try await send()
        #expect(try h.store.inboxMessages(accountID: alice).count == 1)
        let queued = try h.store.queuedRecipients()
        #expect(queued.count == 1 && queued[0].recipient == "alice@partner.test" && queued[0].sender.hasPrefix("SRS0="), "\(queued)")

        let moved = try h.delivery.setForward("alice@example.org", to: ["alice@partner.test"], actor: admin)
        #expect(!moved.keepCopy && moved.includes == nil)
        try await send()
        #expect(try h.store.inboxMessages(accountID: alice).count == 1, "nothing stays without a copy")
        #expect(try h.store.queuedRecipients().count == 2)

        #expect(try h.delivery.clearForward("alice@example.org", actor: admin).active == false)
        #expect(try h.delivery.sieveScripts("alice@example.org", actor: admin).contains { $0.name == "mine" && $0.active })
        try await send()
        #expect(try h.store.inboxMessages(accountID: alice).count == 2)
        #expect(throws: AdminError.self) {
            try h.delivery.setForward("alice@example.org", to: ["alice@example.org"], actor: admin)
        }
    }
}
