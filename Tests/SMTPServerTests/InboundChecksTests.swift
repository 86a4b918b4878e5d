import Delivery
import Directory
import AdminModels
import EmailAuth
import Outbound
import Filtering
import Foundation
import Logging
import LoginKit
import MailCore
import Storage
import TestSupport
import Testing

@testable import SMTP
@testable import SMTPServer

/// SPF, DKIM and DMARC on mail arriving on the MX, through the real delivery path (a message
/// goes from `SMTPEnvironment.deliver` into the store) with DNS answered from a table.
@Suite struct InboundChecksTests {
    static let partnerKey = DKIMKey.generate(.ed25519)
    static let ourKey = DKIMKey.generate(.ed25519)
    static let listKey = DKIMKey.generate(.ed25519)
    static let client = "192.0.2.1"

    static let dns = FakeAuthDNS([
        "partner.test": [.txt("v=spf1 ip4:192.0.2.1 -all")],
        "sel._domainkey.partner.test": [.txt(partnerKey.dnsRecord)],
        "_dmarc.partner.test": [.txt("v=DMARC1; p=reject")],
        "bank.test": [.txt("v=spf1 ip4:198.51.100.0/24 -all")],
        "_dmarc.bank.test": [.txt("v=DMARC1; p=reject")],
        "shop.test": [.txt("v=spf1 -all")],
        "_dmarc.shop.test": [.txt("v=DMARC1; p=quarantine")],
        "relaxed.test": [.txt("v=spf1 ?all")],
        "sel._domainkey.example.org": [.txt(ourKey.dnsRecord)],
        "9.113.0.203.bl.test": [.a("127.0.0.2")],
        "arc._domainkey.lists.partner.test": [.txt(listKey.dnsRecord)],
        "77.2.0.192.in-addr.arpa": [.ptr("mail.relaxed.test")],
        "mail.relaxed.test": [.a("192.0.2.77")],
    ])

    struct Setup {
        let harness: PolicyHarness
        var env: SMTPEnvironment

        init(_ settings: InboundSettings = InboundSettings(), trusted: [IPNetwork] = []) throws {
            harness = try PolicyHarness()
            env = SMTPEnvironment(
                hostname: "mx.example.org", directory: harness.dir, delivery: harness.delivery, tls: nil, limits: SMTPLimits(),
                plaintextAuthOnLoopback: false, authLimiter: AuthLimiter(maxFailures: 10, ban: 1), authFailureDelay: .zero,
                logger: Logger(label: "test"))
            env.trustedNetworks = trusted
            env.checkInbound(settings, dns: InboundChecksTests.dns)
        }

        /// Sends one message as the MX receives it: reverse DNS started at the connection, SPF at
        /// MAIL FROM, the rest at the end of DATA. `reverseDNS` stands for the connection's check.
        func send(
            from sender: String, _ message: String, to recipient: String = "alice@example.org", also: [String] = [], ip: String = client, user: String? = nil,
            reverseDNS: Task<ReverseDNS.Result, Never>? = nil
        ) async -> SMTPReply {
            let mailbox = sender.isEmpty ? nil : try? SMTPCommandParser.parsePath("<\(sender)>")
            var connection = ConnectionInfo(clientIP: ip, tls: nil)
            connection.reverseDNS = reverseDNS ?? env.startReverseCheck(ip: ip)
            let check = env.startSenderCheck(mailbox, helo: "client.partner.test", connection: connection, authenticated: user != nil)
            let envelope = SMTPEnvelope(
                sender: mailbox, recipients: ([recipient] + also).map { SMTPRecipient(address: $0, isLocal: true) }, parameters: MailParameters(),
                helo: "client.partner.test", esmtp: true, tls: false, authenticatedUser: user, chunked: false)
            return await env.deliver(envelope, Array(message.utf8), connection: connection, senderCheck: check)
        }

        func account(_ address: String) throws -> Int64 {
            try #require(harness.dir.snapshot.account(try EmailAddress(address))?.id)
        }

        /// The stored copies in alice's INBOX, as the client reads them.
        func inbox() throws -> [String] {
            try harness.store.inboxMessages(accountID: try account("alice@example.org")).map {
                String(decoding: $0.headerPrefix + (try harness.delivery.readBlob($0.blobHash)), as: UTF8.self)
            }
        }

        func junkCount() throws -> Int64 {
            try #require(try harness.store.mailbox(accountID: try account("alice@example.org"), name: "Junk")).uidNext - 1
        }

        func trace() throws -> [DeliveryEvent] {
            harness.delivery.flushRefusals()
            return try harness.store.traceEvents(messageID: nil, sender: nil, recipient: nil, since: nil, limit: 100)
        }
    }

    static func message(from: String, subject: String = "Hello", extra: String = "") -> String {
        "\(extra)From: Sender <\(from)>\r\nTo: alice@example.org\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID())@test>\r\n\r\nHi Alice.\r\n"
    }

    static func signed(_ message: String, domain: String, key: DKIMKey) -> String {
        DKIMSigner(domain: domain, selector: "sel", key: key).signature(for: Array(message.utf8)) + message
    }

    @Test func aSignedMessageFromAnAlignedSenderPassesAndSaysSo() async throws {
        let s = try Setup()
        let reply = await s.send(from: "ann@partner.test", Self.signed(Self.message(from: "ann@partner.test"), domain: "partner.test", key: Self.partnerKey))
        #expect(reply.code == 250)
        let stored = try #require(try s.inbox().first)
        #expect(stored.contains("Authentication-Results: mx.example.org;\r\n\tspf=pass"))
        #expect(stored.contains("smtp.mailfrom=ann@partner.test;\r\n\tdkim=pass (signature verified ed25519-sha256, Ed25519 key) header.d=partner.test header.s=sel"))
        #expect(stored.contains("\tdmarc=pass (p=reject) header.from=partner.test\r\n"))
        // Our results sit above our Received field.
        #expect(stored.range(of: "Authentication-Results:")!.lowerBound < stored.range(of: "Received:")!.lowerBound)
        // Metrics count each method's result and the decision.
        let stats = s.env.stats
        #expect(stats.value(MetricCatalog.inboundResults, ["method": "dmarc", "result": "pass"]) == 1)
        #expect(stats.value(MetricCatalog.inboundResults, ["method": "spf", "result": "pass"]) == 1)
        #expect(stats.exposition().contains("mailroom_inbound_decisions_total{decision=\"deliver\"} 1\n"))
        #expect(!stats.exposition().contains("decision=\"refuse\""))
        let checked = try s.trace().first { $0.event == .checked }
        #expect(checked?.detail?.contains("DMARC pass for partner.test (DKIM signature of partner.test aligns with From partner.test)") == true)
    }

    /// A client a DNS blocklist names is refused before the greeting; the refusal has no
    /// sender or recipient, so the administrator finds it by the client's address.
    @Test func aBlocklistRefusalIsFoundByTheClientsAddress() async throws {
        var settings = InboundSettings()
        settings.dnsbl = ["bl.test"]
        let s = try Setup(settings)
        let reply = try #require(await s.env.connectionRefusal(ip: "203.0.113.9"))
        #expect(reply.code == 554)
        #expect(await s.env.connectionRefusal(ip: "203.0.113.10") == nil)
        s.harness.delivery.flushRefusals()
        let admin = AdminActor.system
        let stories = try s.harness.dir.trace(messageID: nil, sender: nil, recipient: nil, client: "203.0.113.9", since: nil, limit: 10, actor: admin)
        #expect(stories.count == 1)
        #expect(stories.first?.events.first?.detail == "connection refused: listed by bl.test", "\(stories)")
        #expect(try s.harness.dir.trace(messageID: nil, sender: nil, recipient: nil, client: "203.0.113.10", since: nil, limit: 10, actor: admin).isEmpty)
    }

    /// A p=reject domain's message through a mailing list fails DMARC here (the list's server
    /// is not in its SPF); the list sealed an ARC set. Trusted, the seal lets it in; not
    /// trusted, the policy applies.
    @Test func aTrustedArcSealerOverridesADmarcFailure() async throws {
        let original = Array(Self.message(from: "ceo@bank.test").utf8)
        let chain = await ARCVerifier(dns: Self.dns).verify(DKIMMessage(original))
        let sealer = ARCSealer(domain: "lists.partner.test", selector: "arc", key: Self.listKey)
        let sealed = String(decoding: Array(sealer.seal(original, results: "lists.partner.test; dmarc=pass", chain: chain).utf8) + original, as: UTF8.self)

        let untrusted = try Setup()
        #expect(await untrusted.send(from: "ceo@bank.test", sealed).code == 550)

        var settings = InboundSettings()
        settings.arcTrustedSealers = ["lists.partner.test"]
        let trusted = try Setup(settings)
        #expect(await trusted.send(from: "ceo@bank.test", sealed).code == 250)
        let events = try trusted.trace().map { $0.detail ?? "" }
        let stored = try #require(try trusted.inbox().first, "\(events)")
        #expect(stored.contains("arc=pass"), "\(stored)")
        #expect(stored.contains("dmarc=fail (p=reject dis=none, overridden by arc)"), "\(stored)")
        let story = try trusted.trace().first { $0.event == .checked }?.detail ?? ""
        #expect(story.contains("DMARC policy not applied: the ARC chain passes and its newest seal is from lists.partner.test"), "\(story)")
        // A broken chain from the same sealer does not count.
        let broken = sealed.replacingOccurrences(of: "Hi Alice.", with: "Hi Alice!")
        #expect(await trusted.send(from: "ceo@bank.test", broken).code == 550)
    }

    /// The client's reverse DNS is looked up from the moment it connects to the MX, and the
    /// message's score counts what that lookup found; clients in trusted networks get none.
    @Test func reverseDNSIsCheckedFromTheConnection() async throws {
        let s = try Setup(trusted: [try #require(IPNetwork("198.51.100.0/24"))])
        let named = "192.0.2.77"
        #expect(await s.env.startReverseCheck(ip: named)?.value == .confirmed("mail.relaxed.test"))
        #expect(await s.env.startReverseCheck(ip: Self.client)?.value == ReverseDNS.Result.none)
        #expect(s.env.startReverseCheck(ip: "198.51.100.7") == nil)

        // What the connection's check found is what counts, not a lookup made after the message.
        let message = Self.message(from: "ann@relaxed.test")
        #expect(await s.send(from: "ann@relaxed.test", message, ip: named).code == 250)
        #expect(await s.send(from: "ann@relaxed.test", message, ip: named, reverseDNS: Task { ReverseDNS.Result.none }).code == 250)
        let stories = try s.trace().filter { $0.event == .checked }.map { $0.detail ?? "" }
        #expect(stories.count == 2)
        #expect(stories.first?.contains("RDNS_NONE") == false, "\(stories)")
        #expect(stories.last?.contains("RDNS_NONE 1.5") == true, "\(stories)")
    }

    @Test func dmarcRejectRefusesAtTheEndOfData() async throws {
        let s = try Setup()
        let reply = await s.send(from: "ceo@bank.test", Self.message(from: "ceo@bank.test"))
        #expect(reply.code == 550)
        #expect(reply.enhanced == "5.7.1")
        #expect(reply.lines.joined().hasPrefix("bank.test publishes a DMARC policy of reject and this message fails it"))
        #expect(try s.inbox().isEmpty)
        let refused = try s.trace().first { $0.event == .rejected }
        #expect(refused?.detail?.contains("SPF fail for bank.test") == true)
        #expect(refused?.reply?.hasPrefix("550 5.7.1") == true)
        #expect(s.env.stats.value(MetricCatalog.inboundDecisions, ["decision": "refuse"]) == 1)
        #expect(s.env.stats.value(MetricCatalog.inboundDecisions, ["decision": "deliver"]) == 0)
    }

    @Test func dmarcRejectGoesToJunkWhenRejectionIsOff() async throws {
        var settings = InboundSettings()
        settings.dmarcReject = false
        let s = try Setup(settings)
        #expect(await s.send(from: "ceo@bank.test", Self.message(from: "ceo@bank.test")).code == 250)
        #expect(try s.inbox().isEmpty)
        #expect(try s.junkCount() == 1)
    }

    @Test func dmarcQuarantineFilesInJunk() async throws {
        let s = try Setup()
        #expect(await s.send(from: "offers@shop.test", Self.message(from: "offers@shop.test")).code == 250)
        #expect(try s.inbox().isEmpty)
        #expect(try s.junkCount() == 1)
        let stored = try s.trace().first { $0.event == .stored }
        #expect(stored?.detail == "Junk (DMARC policy quarantine of shop.test)")
    }

    /// The spoof the issue was filed for: our own domain from an unauthenticated client.
    @Test func ourOwnDomainCannotBeSpoofedFromOutside() async throws {
        let s = try Setup()
        let forged = await s.send(from: "ben@example.org", Self.message(from: "ben@example.org"))
        #expect(forged.code == 550)
        #expect(forged.enhanced == "5.7.1")
        #expect(forged.lines.joined() == "example.org is a domain of this server, and this message from outside passes neither SPF nor DKIM for it (own-domain protection)")
        // The From field alone is enough to be refused, whatever MAIL FROM says.
        #expect(await s.send(from: "ann@relaxed.test", Self.message(from: "ceo@example.org")).code == 550)
        // Signed with our key (mail we sent, coming back through a forwarder): accepted.
        let signed = Self.signed(Self.message(from: "ben@example.org"), domain: "example.org", key: Self.ourKey)
        #expect(await s.send(from: "ben@example.org", signed).code == 250)
        // From a trusted network, or authenticated: accepted.
        let trusted = try Setup(trusted: [try #require(IPNetwork("192.0.2.0/24"))])
        #expect(await trusted.send(from: "ben@example.org", Self.message(from: "ben@example.org")).code == 250)
        #expect(await s.send(from: "ben@example.org", Self.message(from: "ben@example.org"), user: "ben@example.org").code == 250)
        #expect(try s.inbox().count == 2)
    }

    @Test func forgedResultsWithOurNameAreRemoved() async throws {
        let s = try Setup()
        let forged = "Authentication-Results: mx.example.org; dmarc=pass header.from=bank.test\r\n"
        #expect(await s.send(from: "ann@relaxed.test", Self.message(from: "ann@relaxed.test", extra: forged)).code == 250)
        let stored = try #require(try s.inbox().first)
        #expect(!stored.contains("dmarc=pass header.from=bank.test"))
        #expect(stored.contains("\tspf=neutral"))
        #expect(stored.contains("\tdkim=none;"))
        #expect(stored.contains("\tdmarc=none header.from=relaxed.test"))
    }

    @Test func severalFromDomainsAreRefused() async throws {
        let s = try Setup()
        let two = Self.message(from: "ann@relaxed.test", extra: "From: ceo@bank.test\r\n")
        let reply = await s.send(from: "ann@relaxed.test", two)
        #expect(reply.code == 550)
        #expect(reply.lines.joined().contains("one From field"))
    }

    @Test func authenticatedMailIsNotChecked() async throws {
        let s = try Setup()
        #expect(await s.send(from: "ceo@bank.test", Self.message(from: "ceo@bank.test"), user: "alice@example.org").code == 250)
        #expect(try s.inbox().first.map { !$0.contains("Authentication-Results") } == true)
    }

    /// Mail from outside forwarded by an alias to another domain is ARC-sealed by the alias's
    /// domain, so that the next server can trust what we checked (RFC 8617).
    @Test func forwardedMailIsSealed() async throws {
        let s = try Setup()
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try s.harness.dir.addAlias("fwd@example.org", targets: ["bob@far.test"], actor: admin)
        let keyring = try DKIMKeyring(store: s.harness.store, directory: s.harness.dir)
        _ = try keyring.generate(domain: "example.org", algorithm: "ed25519", selector: "arc", actor: admin)
        s.harness.delivery.signer = keyring
        let message = Self.signed(Self.message(from: "ann@partner.test"), domain: "partner.test", key: Self.partnerKey)
        #expect(await s.send(from: "ann@partner.test", message, to: "fwd@example.org").code == 250)
        let queued = try #require(try s.harness.store.queueEntries(QueueSelection(recipient: "bob@far.test")).first)
        let bytes = try s.harness.delivery.readBlob(queued.blobHash)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("ARC-Seal: i=1; a=ed25519-sha256; t="), "\(text.prefix(600))")
        #expect(text.contains("ARC-Authentication-Results: i=1; mx.example.org;\r\n\tspf=pass"))
        // The next server verifies our seal with the key we publish.
        let key = try #require(try s.harness.store.dkimKeys().first { $0.selector == "arc" })
        let record = try DKIMKey(algorithm: .ed25519, privateKeyPEM: key.privateKeyPEM).dnsRecord
        let next = FakeAuthDNS(["arc._domainkey.example.org": [.txt(record)]])
        let chain = await ARCVerifier(dns: next).verify(DKIMMessage(bytes))
        #expect(chain.result == .pass, "\(chain.reason)")
        #expect(chain.sealers == ["example.org"])
    }

    /// A list with members elsewhere rewrites From for a poster whose domain publishes
    /// p=reject (as Mailman 3), so the copies pass DMARC at the members' servers.
    @Test func listsRewriteFromForStrictDMARCPosters() async throws {
        let s = try Setup()
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try s.harness.dir.createList("open@example.org", name: "Open", members: ["alice@example.org", "bob@far.test"], actor: admin)
        let message = Self.signed(Self.message(from: "ann@partner.test"), domain: "partner.test", key: Self.partnerKey)
        #expect(await s.send(from: "ann@partner.test", message, to: "open@example.org").code == 250)
        let queued = try #require(try s.harness.store.queueEntries(QueueSelection(recipient: "bob@far.test")).first)
        let sent = String(decoding: try s.harness.delivery.readBlob(queued.blobHash), as: UTF8.self)
        #expect(sent.contains("From: \"Sender via Open\" <open@example.org>\r\n"), "\(sent)")
        #expect(sent.contains("Reply-To: Sender <ann@partner.test>\r\n"))
        #expect(!sent.contains("From: Sender <ann@partner.test>"))

        // never: left alone; a relaxed.test poster (no DMARC record) under auto: left alone too.
        _ = try s.harness.dir.updateList("open@example.org", dmarcRewrite: "never", actor: admin)
        #expect(await s.send(from: "ann@partner.test", message, to: "open@example.org").code == 250)
        _ = try s.harness.dir.updateList("open@example.org", dmarcRewrite: "auto", actor: admin)
        #expect(await s.send(from: "ann@relaxed.test", Self.message(from: "ann@relaxed.test"), to: "open@example.org").code == 250)
        let copies = try s.harness.store.queueEntries(QueueSelection(recipient: "bob@far.test")).map {
            String(decoding: try s.harness.delivery.readBlob($0.blobHash), as: UTF8.self)
        }
        #expect(copies.count == 3)
        #expect(copies.filter { $0.contains("via Open") }.count == 1)
        #expect(throws: AdminError.self) { try s.harness.dir.updateList("open@example.org", dmarcRewrite: "sometimes", actor: admin) }
    }

    @Test func checksCanBeTurnedOff() async throws {
        var settings = InboundSettings()
        settings.spf = false
        settings.dkim = false
        settings.dmarc = false
        settings.protectOwnDomains = false
        let s = try Setup(settings)
        #expect(await s.send(from: "ceo@bank.test", Self.message(from: "ceo@bank.test")).code == 250)
        #expect(await s.send(from: "ben@example.org", Self.message(from: "ben@example.org")).code == 250)
        #expect(try s.inbox().first?.contains("Authentication-Results: mx.example.org; none\r\n") == true)
    }
}
