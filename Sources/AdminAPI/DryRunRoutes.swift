import AdminModels
import Delivery
import Directory
import Hummingbird

/// What answers `mailroom trace --dry-run`: the SMTP listener's decisions, delivery's and the
/// queue's routes, run without delivering (the server wires `SMTPEnvironment.dryRun` to it).
public protocol DryRunSource: Sendable {
    func dryRun(_ transaction: DryRunTransaction) async -> [DryRunStep]
}

/// `POST /api/v1/trace/dry-run`.
func addDryRunRoutes(_ api: APIGroup, _ dir: DirectoryService, _ source: any DryRunSource) {
    api.on(API.postTraceDryRun) { req, ctx in
        let body = try await JSONBody.decode(TraceDryRun.self, from: req, context: ctx)
        return try await runAsync(ctx) { actor in
            try await blocking { try dir.authorizeDryRun(recipients: body.to, actor: actor) }
            let steps = await source.dryRun(
                DryRunTransaction(
                    sender: body.from, recipients: body.to, message: body.message, clientIP: body.client,
                    helo: body.helo,
                    authenticatedUser: body.authUser))
            return TraceDryRunView(
                accepted: steps.contains { $0.step == "rcpt" }
                    && !steps.contains { ($0.step == "rejected" && $0.recipient == nil) || $0.step == "error" },
                steps: steps.map {
                    DryRunStepView(step: $0.step, recipient: $0.recipient, detail: $0.detail, reply: $0.reply)
                })
        }
    }
}
