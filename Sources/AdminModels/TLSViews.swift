import Foundation

/// `GET /api/v1/tls`: the certificates the TLS listeners serve.
public struct TLSStatusView: Codable, Sendable, Hashable {
    public var certificates: [TLSCertificateView]

    public init(certificates: [TLSCertificateView]) { self.certificates = certificates }
}

public struct TLSCertificateView: Codable, Sendable, Hashable {
    /// `acme` (obtained and renewed by Mailroom), `file` (tls.cert_file) or `self-signed`.
    public var source: String
    /// Which listeners serve it.
    public var listeners: [String]
    public var names: [String]
    public var subject: String
    public var issuer: String
    public var notBefore: Date
    public var notAfter: Date
    /// ACME only: when the next renewal (or retry) is due.
    public var nextRenewal: Date?
    /// ACME only: the last successful issuance.
    public var lastRenewal: Date?
    /// ACME only: why the last attempt failed, and when (cleared by a success).
    public var lastError: String?
    public var lastErrorAt: Date?
    /// ACME only: the names asked for, when they differ from those on the certificate.
    public var wantedNames: [String]?

    public init(
        source: String, listeners: [String], names: [String], subject: String, issuer: String, notBefore: Date,
        notAfter: Date,
        nextRenewal: Date? = nil, lastRenewal: Date? = nil, lastError: String? = nil, lastErrorAt: Date? = nil,
        wantedNames: [String]? = nil
    ) {
        self.source = source
        self.listeners = listeners
        self.names = names
        self.subject = subject
        self.issuer = issuer
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.nextRenewal = nextRenewal
        self.lastRenewal = lastRenewal
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.wantedNames = wantedNames
    }
}
