/// Every limit the SMTP server enforces, in one place. docs/smtp.md documents them.
public struct SMTPLimits: Hashable, Sendable {
    /// Command line including CRLF (RFC 5321 §4.5.3.1.4).
    public var commandLineOctets = 512
    /// Text line of a message including CRLF (RFC 5321 §4.5.3.1.6).
    public var textLineOctets = 1000
    /// Largest message accepted, in octets (advertised as SIZE).
    public var maxMessageSize = 50 * 1024 * 1024
    /// Recipients per message (RFC 5321 §4.5.3.1.8 asks for at least 100).
    public var maxRecipients = 1000
    /// Failed commands before the session is closed with 421.
    public var maxErrors = 10
    /// A SASL line (initial response or continuation) can be longer than a command.
    public var authLineOctets = 12_288
    /// Idle time allowed between commands, and inside DATA (RFC 5321 §4.5.3.2).
    public var commandTimeoutSeconds = 300
    public var dataTimeoutSeconds = 600
    /// More Received headers than this means a loop (RFC 5321 §6.3).
    public var maxReceivedHeaders = 50
    /// Connections at once, in total and from one client address.
    public var maxConnections = 1000
    public var maxConnectionsPerIP = 20
    /// Failed logins from one address before it is refused for `authBanSeconds`.
    public var maxAuthFailures = 5
    public var authBanSeconds = 900

    public init() {}
}
