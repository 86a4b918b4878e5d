import AdminModels
import Foundation
import Testing

@testable import Delivery
@testable import Directory
@testable import MailCore
@testable import Storage

/// The admin operations on accounts' scripts: checks, roles, audit, vacation, dry run.
@Suite struct SieveAdminTests {
    let admin = AdminActor(name: "t", role: .serverAdmin)

    @Test func aScriptThatDoesNotCompileIsRefusedWithItsPosition() throws {
        let h = try PolicyHarness()
        #expect {
            _ = try h.delivery.putSieveScript(
                "alice@example.org", name: "r", script: "keep;\nfilein \"x\";", actor: admin)
        } throws: { e in
            (e as? AdminError)?.code == "invalid_script" && "\(e)".contains("2:1")
        }
        #expect(try h.delivery.sieveScripts("alice@example.org", actor: admin).isEmpty)
    }

    @Test func oneActiveScriptAndTheAuditSaysWhoChangedIt() throws {
        let h = try PolicyHarness()
        _ = try h.delivery.putSieveScript(
            "alice@example.org", name: "a", script: "keep;", activate: true, actor: admin)
        _ = try h.delivery.putSieveScript("alice@example.org", name: "b", script: "discard;", actor: admin)
        #expect(
            try h.delivery.sieveScripts("alice@example.org", actor: admin).map { "\($0.name):\($0.active)" } == [
                "a:true", "b:false",
            ])
        _ = try h.delivery.activateSieveScript("alice@example.org", name: "b", actor: admin)
        #expect(
            try h.delivery.sieveScripts("alice@example.org", actor: admin).map { "\($0.name):\($0.active)" } == [
                "a:false", "b:true",
            ])
        _ = try h.delivery.deactivateSieve("alice@example.org", actor: admin)
        #expect(try h.delivery.sieveScripts("alice@example.org", actor: admin).allSatisfy { !$0.active })
        _ = try h.delivery.deleteSieveScript("alice@example.org", name: "a", actor: admin)
        #expect(throws: AdminError.self) {
            try h.delivery.deleteSieveScript("alice@example.org", name: "a", actor: admin)
        }
        let actions = try h.dir.store.auditEntries(since: nil, target: nil, domains: nil, limit: 50).map(\.action)
        for a in ["sieve.put+activate", "sieve.put", "sieve.activate", "sieve.deactivate", "sieve.delete"] {
            #expect(actions.contains(a), "\(a) in \(actions)")
        }
    }

    @Test func aDomainAdminManagesOnlyTheirDomainsAccounts() throws {
        let h = try PolicyHarness()
        let ours = AdminActor(name: "d", role: .domainAdmin, domains: [try DomainName("example.org")])
        let other = AdminActor(name: "o", role: .domainAdmin, domains: [try DomainName("bücher.example")])
        _ = try h.delivery.putSieveScript("alice@example.org", name: "r", script: "keep;", actor: ours)
        #expect(throws: AdminError.self) { try h.delivery.sieveScripts("alice@example.org", actor: other) }
        #expect(throws: AdminError.self) {
            try h.delivery.putSieveScript("alice@example.org", name: "x", script: "discard;", actor: other)
        }
        #expect(throws: AdminError.self) {
            try h.delivery.testRules("alice@example.org", message: "\r\n", actor: other)
        }
    }

    @Test func vacationWrapsTheActiveScriptAndClearPutsItBack() throws {
        let h = try PolicyHarness()
        _ = try h.delivery.putSieveScript(
            "alice@example.org", name: "rules", script: "keep;", activate: true, actor: admin)
        let v = try h.delivery.setVacation(
            "alice@example.org", subject: "Away \"now\"", message: "Back on\nMonday.", days: 3,
            actor: admin)
        #expect(
            v.active && v.subject == "Away \"now\"" && v.message == "Back on\nMonday." && v.days == 3
                && v.includes == "rules")
        // Set again: still includes "rules", not itself.
        let again = try h.delivery.setVacation(
            "alice@example.org", subject: "Away", message: "x", actor: admin)
        #expect(again.includes == "rules" && again.days == 7)
        _ = try h.delivery.clearVacation("alice@example.org", actor: admin)
        #expect(
            try h.delivery.sieveScripts("alice@example.org", actor: admin).map { "\($0.name):\($0.active)" } == [
                "rules:true"
            ])
        #expect(throws: AdminError.self) {
            try h.delivery.setVacation(
                "alice@example.org", subject: "s", message: "m", days: 0, actor: admin)
        }
    }

    @Test func vacationDatesBoundTheRepliesByTheEnginesClock() throws {
        let h = try PolicyHarness()
        _ = try h.delivery.putSieveScript(
            "alice@example.org", name: "rules", script: "keep;", activate: true, actor: admin)
        let v = try h.delivery.setVacation(
            "alice@example.org", subject: "Away", message: "Back in January.", from: "2026-12-20", until: "2027-01-05",
            actor: admin)
        #expect(v.from == "2026-12-20" && v.until == "2027-01-05" && v.subject == "Away" && v.includes == "rules", "\(v)")
        #expect(v.script?.contains("currentdate :value \"ge\" \"date\" \"2026-12-20\"") == true, "\(v.script ?? "")")
        #expect(try h.delivery.vacation("alice@example.org", actor: admin) == v)

        // The interpreter's currentdate reads the delivery's clock: replies only on those days (UTC).
        let id = try #require(h.dir.snapshot.account(try EmailAddress("alice@example.org"))?.id)
        let data = Array("From: bob@elsewhere.test\r\nTo: alice@example.org\r\nSubject: hi\r\n\r\nhi\r\n".utf8)
        let m = InboundMessage(
            sender: "bob@elsewhere.test", recipients: ["alice@example.org"], data: data, receivedHeader: "", clientIP: nil,
            helo: nil, tls: nil, authenticatedUser: nil)
        func replies(at iso: String) throws -> Bool {
            let now = try #require(ISO8601DateFormatter().date(from: iso))
            let d = try #require(
                h.delivery.sieveDecision(
                    accountID: id, accountAddress: "alice@example.org", envelopeTo: "alice@example.org", message: m, data: data,
                    headerPrefix: [], junkUse: nil, now: now, dryRun: true))
            return d.notes.contains { $0.hasPrefix("vacation reply sent to bob@elsewhere.test") }
        }
        #expect(try !replies(at: "2026-12-19T23:59:59Z"))
        #expect(try replies(at: "2026-12-20T00:00:00Z"))
        #expect(try replies(at: "2027-01-05T23:59:59Z"))
        #expect(try !replies(at: "2027-01-06T00:00:00Z"))

        // One bound alone; dates that are not dates, or the wrong way round, are refused.
        let open = try h.delivery.setVacation(
            "alice@example.org", subject: "Away", message: "Gone.", until: "2027-02-01", actor: admin)
        #expect(open.from == nil && open.until == "2027-02-01" && open.includes == "rules")
        #expect(try replies(at: "2020-01-01T12:00:00Z") && !(try replies(at: "2027-02-02T00:00:00Z")))
        for (from, until) in [("2026-13-01", nil), (nil, "24.12.2026"), ("2027-01-02", "2027-01-01")] as [(String?, String?)] {
            #expect(throws: AdminError.self) {
                try h.delivery.setVacation("alice@example.org", subject: "s", message: "m", from: from, until: until, actor: admin)
            }
        }
    }

    @Test func theDryRunSaysWhatWouldHappenAndChangesNothing() throws {
        let h = try PolicyHarness()
        let message =
            "From: Bob <bob@elsewhere.test>\nTo: alice@example.org\nSubject: project news\nMessage-ID: <n1@x>\n\nhi\n"
        #expect(try h.delivery.testRules("alice@example.org", message: message, actor: admin).script == nil)
        let script = """
            require ["fileinto", "mailbox", "vacation", "imap4flags"];
            vacation "away";
            if header :contains "subject" "project" { fileinto :create :flags "\\\\Flagged" "Projects"; redirect "carol@partner.test"; }
            """
        _ = try h.delivery.putSieveScript(
            "alice@example.org", name: "r", script: script, activate: true, actor: admin)
        let r = try h.delivery.testRules("alice@example.org", message: message, actor: admin)
        #expect(r.script == "r")
        #expect(
            r.actions == [
                "vacation to bob@elsewhere.test", "fileinto :create :flags \\Flagged \"Projects\"",
                "redirect carol@partner.test",
            ])
        #expect(r.outcome.contains("stored in Projects (created if missing) with flags \\Flagged"))
        #expect(r.outcome.contains("vacation reply sent to bob@elsewhere.test"))
        #expect(r.outcome.contains("redirected to carol@partner.test by the account's rules"))
        // Nothing was stored, queued, created or remembered.
        let id = try #require(h.dir.snapshot.account(try EmailAddress("alice@example.org"))?.id)
        #expect(try h.store.mailbox(accountID: id, name: "Projects") == nil)
        #expect(try h.store.queueEntries(QueueSelection()).isEmpty)
        #expect(
            try h.store.lastVacationReply(
                accountID: id, handle: "away<default-subject><default-from><NO-MIME>", sender: "bob@elsewhere.test")
                == nil)
        // --from overrides the envelope sender: a bounce gets no reply.
        let bounce = try h.delivery.testRules("alice@example.org", message: message, from: "", actor: admin)
        #expect(bounce.outcome.contains("vacation reply not sent: the sender is empty (a bounce)"))
    }
}
