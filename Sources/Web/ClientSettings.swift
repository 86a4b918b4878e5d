/// How mail clients reach this server: the host name and the ports its IMAP and submission
/// listeners are bound to, each with its TLS mode. Built from the running listeners, so the
/// settings handed to clients are the ones that work.
public struct ClientSettings: Sendable, Hashable {
    public enum Security: String, Sendable, Hashable {
        /// TLS from the first byte (IMAPS 993, submissions 465; RFC 8314).
        case implicitTLS
        /// Clear text upgraded with STARTTLS (IMAP 143, submission 587).
        case startTLS
    }

    public struct Endpoint: Sendable, Hashable {
        public var port: Int
        public var security: Security
        public init(port: Int, security: Security) {
            self.port = port
            self.security = security
        }
    }

    public var hostname: String
    /// IMAP endpoints, the preferred (implicit TLS, RFC 8314 §3) first.
    public var imap: [Endpoint]
    /// Submission endpoints, the preferred first.
    public var submission: [Endpoint]

    /// `imaps`/`submissions` are the implicit-TLS listeners' ports, `imap`/`submission` the
    /// STARTTLS ones'.
    public init(hostname: String, imaps: [Int], imap: [Int], submissions: [Int], submission: [Int]) {
        self.hostname = hostname
        self.imap =
            imaps.map { Endpoint(port: $0, security: .implicitTLS) }
            + imap.map { Endpoint(port: $0, security: .startTLS) }
        self.submission =
            submissions.map { Endpoint(port: $0, security: .implicitTLS) }
            + submission.map { Endpoint(port: $0, security: .startTLS) }
    }
}
