import Foundation

/// A mailbox as written in an SMTP path: the local part (unquoted) and the domain or address
/// literal exactly as given. Whether the domain is ours is for the server to decide.
///
/// ```
/// Mailbox        = Local-part "@" ( Domain / address-literal )
/// ```
public struct SMTPMailbox: Hashable, Sendable, CustomStringConvertible {
    public var localPart: String
    /// A domain name, or an address literal in brackets (`[192.0.2.1]`).
    public var domain: String
    public var isQuoted: Bool

    public var isAddressLiteral: Bool { domain.hasPrefix("[") }

    public var description: String {
        let local = isQuoted ? "\"" + localPart.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" : localPart
        return "\(local)@\(domain)"
    }
}

/// `MAIL FROM` parameters (RFC 5321 §4.1.1.11, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3030
/// BINARYMIME, RFC 6531 SMTPUTF8, RFC 4954 AUTH).
public struct MailParameters: Hashable, Sendable {
    public enum Body: String, Hashable, Sendable { case sevenBit = "7BIT", eightBitMIME = "8BITMIME", binaryMIME = "BINARYMIME" }
    public var size: Int?
    public var body: Body?
    public var smtpUTF8 = false
    /// `AUTH=<mailbox>` as given (we do not trust it from clients).
    public var auth: String?

    public init(size: Int? = nil, body: Body? = nil, smtpUTF8: Bool = false, auth: String? = nil) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
        self.auth = auth
    }
}

/// A parsed SMTP command (RFC 5321 §4.1, RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 3030 BDAT).
///
/// ```
/// C: EHLO client.example.net
/// C: MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME
/// C: RCPT TO:<bob@example.org>
/// C: DATA
/// ```
public enum SMTPCommand: Hashable, Sendable {
    case helo(String)
    case ehlo(String)
    /// nil for the null reverse-path `<>` (bounces).
    case mail(SMTPMailbox?, MailParameters)
    /// `RCPT TO:<Postmaster>` (no domain) is `.rcpt(nil)`: it must always be accepted.
    case rcpt(SMTPMailbox?)
    case data
    case bdat(size: Int, last: Bool)
    case rset
    case noop
    case quit
    case vrfy(String)
    case expn(String)
    case help
    case starttls
    case auth(mechanism: String, initialResponse: String?)
}
