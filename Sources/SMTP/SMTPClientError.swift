/// Why an outbound connection or transaction failed. `isPermanent` tells the queue whether
/// to bounce or to try again later.
public enum SMTPClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// TCP connect failed (refused, unreachable, connect timeout).
    case connectFailed(String)
    /// No reply (or the data write did not finish) in time; `stage` names the step.
    case timeout(stage: String)
    /// The policy requires TLS but the server does not offer STARTTLS, or AUTH was asked for
    /// on a plaintext connection to a non-loopback peer.
    case tlsUnavailable
    /// The TLS handshake failed.
    case tlsFailed(String)
    /// The server refused the greeting, EHLO, HELO, STARTTLS (with TLS required), AUTH
    /// (not offered), or RSET.
    case rejected(stage: String, SMTPReply)
    /// The server broke the protocol: a malformed or overlong reply, an unexpected reply.
    case protocolError(String)
    /// The connection closed or failed while `stage` was in progress.
    case connectionLost(stage: String)
    /// The message needs SMTPUTF8 (RFC 6531) and the server does not offer it.
    case smtputf8Unsupported
    /// The message is larger than the server's SIZE (RFC 1870) limit.
    case messageTooBig(limit: Int)
    /// AUTH was answered with this reply.
    case authFailed(SMTPReply)
    /// The envelope cannot be sent (no recipients, a line break or angle bracket in an
    /// address). Our caller's bug, reported rather than sent.
    case invalidEnvelope(String)

    /// True when retrying cannot help, so the message should bounce: a 5xx to the greeting,
    /// EHLO/HELO or AUTH, a missing SMTPUTF8, a message over the SIZE limit, an invalid
    /// envelope. Everything else defers.
    public var isPermanent: Bool {
        switch self {
        case .rejected(let stage, let reply):
            reply.code >= 500 && ["greeting", "EHLO", "HELO", "AUTH"].contains(stage)
        case .authFailed(let reply): reply.code >= 500
        case .smtputf8Unsupported, .messageTooBig, .invalidEnvelope: true
        case .connectFailed, .timeout, .tlsUnavailable, .tlsFailed, .protocolError, .connectionLost: false
        }
    }

    public var description: String {
        switch self {
        case .connectFailed(let why): "could not connect: \(why)"
        case .timeout(let stage): "timed out waiting for the server at \(stage)"
        case .tlsUnavailable: "TLS is required but not available (the server does not offer STARTTLS)"
        case .tlsFailed(let why): "TLS handshake failed: \(why)"
        case .rejected(let stage, let reply): "server refused \(stage): \(reply)"
        case .protocolError(let why): "SMTP protocol error: \(why)"
        case .connectionLost(let stage): "connection lost during \(stage)"
        case .smtputf8Unsupported: "message needs SMTPUTF8, which the server does not offer"
        case .messageTooBig(let limit): "message is larger than the server's limit of \(limit) octets"
        case .authFailed(let reply): "authentication failed: \(reply)"
        case .invalidEnvelope(let why): "invalid envelope: \(why)"
        }
    }
}
