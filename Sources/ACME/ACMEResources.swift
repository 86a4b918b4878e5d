import Foundation

/// The directory (RFC 8555 §7.1.1): where each operation lives.
public struct ACMEDirectory: Decodable, Sendable {
    public var newNonce: String
    public var newAccount: String
    public var newOrder: String
    public var meta: Meta?

    public struct Meta: Decodable, Sendable {
        public var termsOfService: String?
    }
}

/// A problem document (RFC 7807, RFC 8555 §6.7): `type` is `urn:ietf:params:acme:error:…`.
public struct ACMEProblem: Codable, Sendable, Hashable, CustomStringConvertible {
    public var type: String
    public var detail: String?
    public var status: Int?
    public var subproblems: [ACMEProblem]?

    public init(type: String, detail: String? = nil, status: Int? = nil) {
        self.type = type
        self.detail = detail
        self.status = status
    }

    /// The short name: `badNonce` for `urn:ietf:params:acme:error:badNonce`.
    public var shortType: String {
        type.hasPrefix("urn:ietf:params:acme:error:")
            ? String(type.dropFirst("urn:ietf:params:acme:error:".count)) : type
    }

    public var description: String {
        var text = shortType + (detail.map { ": \($0)" } ?? "")
        for sub in subproblems ?? [] { text += "; \(sub)" }
        return text
    }
}

/// An identifier; Mailroom only asks for `dns` names.
public struct ACMEIdentifier: Codable, Sendable, Hashable {
    public var type: String
    public var value: String

    public static func dns(_ name: String) -> ACMEIdentifier { ACMEIdentifier(type: "dns", value: name) }
}

/// An order (RFC 8555 §7.1.3). Status: pending → ready → processing → valid, or invalid.
public struct ACMEOrder: Decodable, Sendable {
    public var status: String
    public var identifiers: [ACMEIdentifier]
    public var authorizations: [String]
    public var finalize: String
    public var certificate: String?
    public var error: ACMEProblem?
}

/// An authorization (RFC 8555 §7.1.4) of one identifier, with the challenges that can prove it.
public struct ACMEAuthorization: Decodable, Sendable {
    public var status: String
    public var identifier: ACMEIdentifier
    public var challenges: [ACMEChallenge]
}

/// A challenge (RFC 8555 §7.1.5, §8): `http-01`, `tls-alpn-01`, `dns-01`.
public struct ACMEChallenge: Decodable, Sendable {
    public var type: String
    public var url: String
    public var status: String
    public var token: String?
    public var error: ACMEProblem?
}
