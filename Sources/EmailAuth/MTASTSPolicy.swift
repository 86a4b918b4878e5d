import Crypto
import MailCore

/// An MTA-STS policy as this server publishes it at
/// `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` (RFC 8461 §3.2), and the `id` its
/// `_mta-sts.DOMAIN` TXT record carries (§3.1).
///
///     version: STSv1
///     mode: testing
///     mx: mail.example.org
///     max_age: 604800
///
/// The id is derived from the text, so it changes exactly when the policy does: senders
/// refetch a policy only when they see a new id, and the record `mailroom dns records` prints
/// and the policy the web listener serves cannot disagree.
public struct MTASTSPolicy: Sendable, Hashable {
    public var mode: MTASTSMode
    /// The MX host names senders may deliver to (`mx:` lines).
    public var mx: [String]
    /// How long senders may cache the policy, in seconds (at most 31557600, §3.2).
    public var maxAge: Int

    public static let defaultMaxAge = 604_800
    public static let maxMaxAge = 31_557_600

    public init(mode: MTASTSMode, mx: [String], maxAge: Int) {
        self.mode = mode
        self.mx = mx
        self.maxAge = maxAge
    }

    /// The policy file: one `key: value` field per line, CRLF-terminated (§3.2 allows LF or
    /// CRLF; its examples use CRLF). The `mx` fields are kept in `none` mode too: the RFC
    /// requires them only in the other modes, and allows them in all.
    public var text: String {
        (["version: STSv1", "mode: \(mode.rawValue)"] + mx.map { "mx: \($0.lowercased())" } + ["max_age: \(maxAge)"])
            .map { $0 + "\r\n" }.joined()
    }

    /// `id`: 1 to 32 alphanumeric characters (§3.1); here the first 20 hex digits of the
    /// text's SHA-256.
    public var id: String {
        SHA256.hash(data: Array(text.utf8)).prefix(10).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The `_mta-sts.DOMAIN` TXT record's text.
    public var record: String { "v=STSv1; id=\(id)" }
}
