/// Why a lookup gave no answer. Only ``nameNotFound`` is permanent: a temporary DNS failure
/// makes the queue defer the message, never bounce it.
public enum DNSLookupFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// NXDOMAIN (RFC 1035 rcode 3), or a name that cannot exist (bad syntax): permanent.
    case nameNotFound(String)
    /// SERVFAIL, REFUSED and other error rcodes, or a CNAME chain too long: temporary.
    case serverFailure(String)
    /// No answer from any server after all attempts: temporary.
    case timeout(String)
    /// An answer that could not be parsed or did not match the question: temporary.
    case malformed(String)

    /// A metrics label: `nxdomain`, `servfail`, `timeout` or `malformed`.
    public var outcome: String {
        switch self {
        case .nameNotFound: return "nxdomain"
        case .serverFailure: return "servfail"
        case .timeout: return "timeout"
        case .malformed: return "malformed"
        }
    }

    public var isTemporary: Bool {
        switch self {
        case .nameNotFound: return false
        case .serverFailure, .timeout, .malformed: return true
        }
    }

    public var description: String {
        switch self {
        case .nameNotFound(let s): return "name not found: \(s)"
        case .serverFailure(let s): return "DNS server failure: \(s)"
        case .timeout(let s): return "DNS timeout: \(s)"
        case .malformed(let s): return "malformed DNS answer: \(s)"
        }
    }
}
