/// Every limit the IMAP server enforces, in one place. docs/imap.md documents them.
public struct IMAPLimits: Hashable, Sendable {
    /// A command line, not counting literals (Dovecot's default is 64 KiB too).
    public var maxLineLength = 64 * 1024
    /// A literal in any command but APPEND (names, search strings, SASL data).
    public var maxLiteralSize = 64 * 1024
    /// A message given to APPEND (advertised as APPENDLIMIT).
    public var maxAppendSize = 50 * 1024 * 1024
    /// An APPEND literal larger than this goes to a file as it arrives instead of being held
    /// in memory (the same size above which a message is stored as a file, not inline).
    public var streamAppendAbove = 256 * 1024
    /// Parentheses, NOT and OR nested in one SEARCH.
    public var maxSearchDepth = 32
    /// Commands answered BAD before the session ends with BYE.
    public var maxBadCommands = 10
    /// RFC 9051 §5.4: at least 30 minutes of inactivity before an autologout.
    public var idleTimeoutSeconds = 30 * 60
    /// Before login, a client has less time.
    public var loginTimeoutSeconds = 60
    /// Connections at once: in total, from one address, and logged in as one user.
    public var maxConnections = 5000
    public var maxConnectionsPerIP = 50
    public var maxConnectionsPerUser = 20
    /// A mailbox name, in octets of UTF-8.
    public var maxMailboxNameLength = 1000
    /// Levels of a mailbox name (parts between "/").
    public var maxMailboxDepth = 32

    public init() {}
}
