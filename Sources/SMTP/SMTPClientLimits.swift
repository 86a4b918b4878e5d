/// Every limit the outbound SMTP client enforces on what a server sends, in one place.
/// A server that exceeds one gets a `SMTPClientError.protocolError` and the connection is
/// closed; memory use per connection stays bounded whatever the peer does.
public struct SMTPClientLimits: Hashable, Sendable {
    /// One reply line including CRLF. RFC 5321 §4.5.3.1.5 says 512; real servers send longer
    /// text now and then, so we allow more.
    public var replyLineOctets = 4096
    /// Lines in one (multi-line) reply. An EHLO reply has a few dozen at most.
    public var replyLines = 200
    /// Recipients in one transaction (RFC 5321 §4.5.3.1.8: servers must take at least 100;
    /// more than they take are refused with 452 per recipient, which we report).
    public var recipients = 1000

    public init() {}
}
