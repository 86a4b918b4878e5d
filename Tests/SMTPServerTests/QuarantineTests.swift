import Delivery
import Directory
import Foundation
import LoginKit
import MailCore
import Storage
import AdminModels
import SMTP
import Testing

@testable import SMTPServer

/// Messages held by the score, then listed, read, released once, deleted, expired.
@Suite struct QuarantineTests {
    static let admin = AdminActor(name: "root", role: .serverAdmin)

    static func setup() throws -> InboundChecksTests.Setup {
        var settings = InboundSettings()
        // Every message here scores 2: no reverse DNS (the table has no PTR), and no Date field.
        settings.thresholds = SpamThresholds(junk: nil, quarantine: 1, reject: nil)
        return try InboundChecksTests.Setup(settings)
    }

    @Test func aHeldMessageIsReleasedExactlyOnce() async throws {
        let s = try Self.setup()
        let d = s.harness.delivery
        #expect(await s.send(from: "ann@relaxed.test", InboundChecksTests.message(from: "ann@relaxed.test", subject: "Invoice")).code == 250)
        #expect(try s.inbox().isEmpty)
        let held = try d.quarantined(actor: Self.admin)
        #expect(held.count == 1)
        let entry = try #require(held.first)
        #expect(entry.sender == "ann@relaxed.test" && entry.recipients == ["alice@example.org"] && entry.subject == "Invoice")
        #expect(entry.reason == "score 2")  // RDNS_NONE 1.5, NO_DATE 0.5
        #expect(entry.checks?.contains("RDNS_NONE 1.5") == true)
        let shown = try d.quarantinedMessage(id: entry.id, actor: Self.admin)
        #expect(shown.message.hasPrefix("Authentication-Results: mx.example.org;"))
        #expect(shown.message.contains("Subject: Invoice\r\n"))
        #expect(try s.trace().contains { $0.event == .quarantined && $0.detail == "held in quarantine: score 2" })

        let released = try await d.releaseFromQuarantine(id: entry.id, actor: Self.admin)
        #expect(released.recipients == 1)
        let inbox = try s.inbox()
        #expect(inbox.count == 1)
        #expect(inbox.first?.contains("Subject: Invoice\r\n") == true)
        #expect(inbox.first?.contains("Received: from client.partner.test") == true)
        // Exactly once: the second release finds nothing.
        await #expect(throws: AdminError.self) { try await d.releaseFromQuarantine(id: entry.id, actor: Self.admin) }
        #expect(try s.inbox().count == 1)
        #expect(try d.quarantined(actor: Self.admin).isEmpty)
        let audit = try s.harness.dir.store.auditEntries(since: nil, target: nil, domains: nil, limit: 10).map(\.action)
        #expect(audit.contains("quarantine.release"))
    }

    @Test func deleteAndExpire() async throws {
        let s = try Self.setup()
        let d = s.harness.delivery
        for n in 0..<3 {
            #expect(await s.send(from: "ann@relaxed.test", InboundChecksTests.message(from: "ann@relaxed.test", subject: "m\(n)")).code == 250)
        }
        let held = try d.quarantined(actor: Self.admin)
        #expect(held.count == 3)
        #expect(try d.deleteFromQuarantine(id: held[0].id, actor: Self.admin).action == "deleted")
        #expect(try d.quarantined(actor: Self.admin).count == 2)
        #expect(try d.expireQuarantine(keep: 3600) == 0)
        #expect(try d.expireQuarantine(keep: -1) == 2)
        #expect(try d.quarantined(actor: Self.admin).isEmpty)
        #expect(try s.inbox().isEmpty)
        // The bytes go with the next sweep.
        #expect(try d.sweepBlobs().unreferenced == 3)
    }

    /// A domain admin sees, reads and releases only what came for its domains.
    @Test func domainAdminsSeeOnlyTheirDomains() async throws {
        let s = try Self.setup()
        let d = s.harness.delivery
        _ = try s.harness.dir.addDomain("other.test", actor: Self.admin)
        #expect(await s.send(from: "ann@relaxed.test", InboundChecksTests.message(from: "ann@relaxed.test")).code == 250)
        let id = try #require(try d.quarantined(actor: Self.admin).first?.id)
        let outsider = AdminActor(name: "other-admin", role: .domainAdmin, domains: [try DomainName("other.test")])
        let insider = AdminActor(name: "org-admin", role: .domainAdmin, domains: [try DomainName("example.org")])
        #expect(try d.quarantined(actor: outsider).isEmpty)
        #expect(throws: AdminError.self) { try d.quarantinedMessage(id: id, actor: outsider) }
        await #expect(throws: AdminError.self) { try await d.releaseFromQuarantine(id: id, actor: outsider) }
        #expect(throws: AdminError.self) { try d.deleteFromQuarantine(id: id, actor: outsider) }
        #expect(try d.quarantined(actor: insider).count == 1)
        #expect(try await d.releaseFromQuarantine(id: id, actor: insider).action == "released")
    }
}
