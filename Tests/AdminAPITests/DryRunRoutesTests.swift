import AdminModels
import Foundation
import Hummingbird
import Synchronization
import HummingbirdTesting
import Testing

@testable import AdminAPI
@testable import Delivery
@testable import Directory
@testable import MailCore
@testable import Storage

/// `POST /api/v1/trace/dry-run`: the request reaches the dry run as the CLI sent it, the answer
/// says whether the client would get 250, and a domain admin tries only mail to their domains.
@Suite struct DryRunRoutesTests {
    /// Records what it was asked, and answers as the SMTP side would.
    final class FakeSource: DryRunSource {
        let asked = Mutex<[DryRunTransaction]>([])
        let steps: [DryRunStep]
        init(_ steps: [DryRunStep]) { self.steps = steps }
        func dryRun(_ transaction: DryRunTransaction) async -> [DryRunStep] {
            asked.withLock { $0.append(transaction) }
            return steps
        }
    }

    func app(_ source: FakeSource) throws -> (Application<RouterResponder<AdminContext>>, Harness) {
        let h = try Harness()
        return (Application(router: buildAdminRouter(directory: h.dir, metrics: AdminMetrics(), dryRun: source)), h)
    }

    @Test func theRequestReachesTheDryRunAndTheAnswerSaysWhetherItIsAccepted() async throws {
        let source = FakeSource([
            DryRunStep("rcpt", recipient: "alice@example.org", detail: "accepted (ours)"),
            DryRunStep("stored", recipient: "alice@example.org", detail: "INBOX"),
        ])
        let (app, h) = try app(source)
        try await app.test(.router) { client in
            let (status, body) = try await h.request(
                client, .post, "/api/v1/trace/dry-run", token: h.serverToken,
                body:
                    #"{"from":"bob@elsewhere.test","to":["alice@example.org"],"client":"192.0.2.1","helo":"mx.elsewhere.test","message":"Subject: x\r\n\r\nx\r\n"}"#
            )
            #expect(status == 200, "\(body)")
            let view = try AdminJSON.decoder().decode(TraceDryRunView.self, from: Data(body.utf8))
            #expect(view.accepted && view.steps.map(\.step) == ["rcpt", "stored"])
            // Unknown fields are refused, as for every request.
            let (bad, _) = try await h.request(
                client, .post, "/api/v1/trace/dry-run", token: h.serverToken,
                body: #"{"from":"","to":["alice@example.org"],"ip":"x"}"#)
            #expect(bad == 400)
        }
        let asked = source.asked.withLock { $0 }
        #expect(
            asked == [
                DryRunTransaction(
                    sender: "bob@elsewhere.test", recipients: ["alice@example.org"], message: "Subject: x\r\n\r\nx\r\n",
                    clientIP: "192.0.2.1", helo: "mx.elsewhere.test")
            ])
    }

    @Test func aRefusalIsNotAccepted() async throws {
        let (app, h) = try app(
            FakeSource([
                DryRunStep("rcpt", recipient: "alice@example.org", detail: "accepted (ours)"),
                DryRunStep("rejected", detail: "refused at the end of DATA", reply: "550 5.7.1 DMARC"),
            ]))
        try await app.test(.router) { client in
            let (_, body) = try await h.request(
                client, .post, "/api/v1/trace/dry-run", token: h.serverToken,
                body: #"{"from":"x@bank.test","to":["alice@example.org"]}"#)
            #expect(try AdminJSON.decoder().decode(TraceDryRunView.self, from: Data(body.utf8)).accepted == false)
        }
    }

    @Test func aDomainAdminTriesOnlyMailToTheirDomains() async throws {
        let source = FakeSource([])
        let (app, h) = try app(source)
        try await app.test(.router) { client in
            let (other, _) = try await h.request(
                client, .post, "/api/v1/trace/dry-run", token: h.otherDomainToken,
                body: #"{"from":"x@elsewhere.test","to":["alice@example.org"]}"#)
            #expect(other == 403)
            let (remote, _) = try await h.request(
                client, .post, "/api/v1/trace/dry-run", token: h.otherDomainToken,
                body: #"{"from":"bob@other.org","to":["someone@gmail.test"]}"#)
            #expect(remote == 403)
            let (own, body) = try await h.request(
                client, .post, "/api/v1/trace/dry-run", token: h.otherDomainToken,
                body: #"{"from":"x@elsewhere.test","to":["bob@other.org"]}"#)
            #expect(own == 200, "\(body)")
            let (none, _) = try await h.request(
                client, .post, "/api/v1/trace/dry-run", token: h.serverToken,
                body: #"{"from":"x@elsewhere.test","to":[]}"#)
            #expect(none == 400)
        }
        #expect(source.asked.withLock { $0 }.map(\.recipients) == [["bob@other.org"]])
    }
}
