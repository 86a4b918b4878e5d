import Foundation

/// `POST /api/v1/trace/dry-run`: a message to try as if a client sent it, without delivering
/// it. `message` is RFC 5322 text (a minimal one naming the envelope when absent); `client`
/// and `helo` say where it comes from (no SPF, reverse DNS or blocklist without `client`);
/// `auth_user` tries it as that user's submission instead of mail to the MX.
public struct TraceDryRun: StrictRequest {
    public var from: String
    public var to: [String]
    public var message: String?
    public var client: String?
    public var helo: String?
    public var authUser: String?

    public init(
        from: String, to: [String], message: String? = nil, client: String? = nil, helo: String? = nil,
        authUser: String? = nil
    ) {
        self.from = from
        self.to = to
        self.message = message
        self.client = client
        self.helo = helo
        self.authUser = authUser
    }
}

/// One decision of a dry run, in the order the server would take them: `connect`, `sender`,
/// `rcpt`, then the events a real delivery records (`checked`, `expanded`, `held`, `stored`,
/// `filtered`, `queued`, `rejected`, `quarantined`) and each remote copy's `route`.
public struct DryRunStepView: Codable, Sendable, Hashable {
    public var step: String
    public var recipient: String?
    public var detail: String?
    /// The SMTP reply the client would get, for a refusal.
    public var reply: String?

    public init(step: String, recipient: String? = nil, detail: String? = nil, reply: String? = nil) {
        self.step = step
        self.recipient = recipient
        self.detail = detail
        self.reply = reply
    }
}

/// What the server would do with the message. Nothing was delivered, stored, queued or sent.
public struct TraceDryRunView: Codable, Sendable, Hashable {
    /// Whether the client would get `250` at the end of DATA.
    public var accepted: Bool
    public var steps: [DryRunStepView]

    public init(accepted: Bool, steps: [DryRunStepView]) {
        self.accepted = accepted
        self.steps = steps
    }
}
