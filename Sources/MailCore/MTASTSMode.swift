/// What an MTA-STS policy (RFC 8461 §5) asks of senders that fetched it: `enforce` — deliver
/// only over authenticated TLS to a listed MX; `testing` — deliver anyway, but report failures
/// (TLS-RPT); `none` — no policy (how a published policy is withdrawn, §8.3).
public enum MTASTSMode: String, Codable, Hashable, Sendable, CaseIterable {
    case none, testing, enforce
}
