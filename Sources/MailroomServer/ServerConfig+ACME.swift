import Foundation
import MailCore
import TOMLKit

/// `[acme]`: certificates from an ACME CA (RFC 8555) for every TLS listener.
public struct ACMESettings: Sendable {
    public static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

    /// `directory_url`: the CA's directory.
    public var directoryURL = ACMESettings.letsEncrypt
    /// `email`: the account's contact, where the CA writes about expiry and policy.
    public var email: String?
    /// `ca_file`: PEM roots to trust for the ACME server itself (a private CA); nil = the system's.
    public var caFile: String?
    /// `names`: the names on the certificate; nil = `hostname`, and with a web listener also
    /// `mta-sts.` and `autoconfig.` of each domain served.
    public var names: [String]?
    /// Renew this long before the certificate expires.
    public var renewBefore: TimeInterval = 30 * 86400
    /// After a failure, wait `firstRetry`, doubling each time up to `maxRetry`.
    public var firstRetry: TimeInterval = 300
    public var maxRetry: TimeInterval = 6 * 3600
    /// How long one order may wait for the CA (validation, issuance).
    public var pollTimeout: Duration = .seconds(120)
    /// `challenge`: how the CA checks that the names are ours.
    public var challenge: Challenge = .http01

    /// The ACME challenge types Mailroom answers.
    public enum Challenge: String, Sendable, CaseIterable {
        /// HTTP-01 (RFC 8555 §8.3): the CA fetches a token over HTTP on port 80 from
        /// `[listeners] acme_http`.
        case http01 = "http-01"
        /// TLS-ALPN-01 (RFC 8737): the CA opens TLS to port 443 with ALPN `acme-tls/1`, answered
        /// by `[listeners] web`; for servers whose port 80 is closed.
        case tlsALPN01 = "tls-alpn-01"
    }

    public init() {}

    /// The names to ask for, the first being the certificate's common name: `names` when
    /// given; else `hostname`, then `mta-sts.` and `autoconfig.` of each of `webDomains` (the
    /// domains whose MTA-STS policy and client settings the web listener serves; none without
    /// one), which senders and mail clients reach by those names over HTTPS.
    public func names(hostname: String, webDomains: [String] = []) -> [String] {
        if let names { return names }
        var all = [hostname.lowercased()]
        for domain in webDomains {
            for name in ["mta-sts.\(domain)", "autoconfig.\(domain)"] where !all.contains(name) { all.append(name) }
        }
        return all
    }

    /// The wait after `failures` failures in a row: 5 min, 10, 20… up to 6 h.
    public func backoff(failures: Int) -> TimeInterval {
        min(maxRetry, firstRetry * pow(2, Double(max(0, failures - 1))))
    }
}

extension ServerConfig {
    /// `[acme]`.
    static func parseACME(_ table: TOMLTable, _ reader: ConfigReader, _ config: inout ServerConfig) throws {
        guard let v = table["acme"] else { return }
        let t = try reader.table(v, "acme")
        try reader.checkKeys(t, allowed: ["directory_url", "email", "ca_file", "names", "challenge"], path: "acme")
        var acme = ACMESettings()
        if let v = t["directory_url"] {
            let url = try reader.string(v, "acme.directory_url")
            guard let u = URL(string: url), u.scheme == "https" || u.scheme == "http", u.host?.isEmpty == false else {
                throw reader.error(
                    "acme.directory_url", "must be the CA's directory URL, like \"\(ACMESettings.letsEncrypt)\"")
            }
            acme.directoryURL = url
        }
        if let v = t["email"] {
            let email = try reader.string(v, "acme.email")
            guard (try? EmailAddress(email)) != nil else {
                throw reader.error(
                    "acme.email",
                    "\"\(email)\" is not an address; write where the CA may warn you, like \"postmaster@example.org\"")
            }
            acme.email = email
        }
        if let v = t["ca_file"] {
            let path = try reader.string(v, "acme.ca_file")
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw reader.error(
                    "acme.ca_file",
                    "cannot read \(path): give a PEM file of the CA certificates that sign the ACME server's")
            }
            acme.caFile = path
        }
        if let v = t["names"] {
            let names = try reader.strings(v, "acme.names", example: "[\"mail.example.org\"]")
            guard !names.isEmpty else {
                throw reader.error("acme.names", "must name at least one host, or be left out (then it is hostname)")
            }
            acme.names = try names.map { name in
                guard (try? DomainName(name)) != nil, name.contains("."), !name.hasPrefix("*") else {
                    throw reader.error(
                        "acme.names",
                        "\"\(name)\" is not a host name a CA can validate by HTTP-01 or TLS-ALPN-01, like \"mail.example.org\""
                    )
                }
                return name.lowercased()
            }
        }
        if let v = t["challenge"] {
            let name = try reader.string(v, "acme.challenge")
            guard let challenge = ACMESettings.Challenge(rawValue: name.lowercased()) else {
                throw reader.error(
                    "acme.challenge",
                    "\"\(name)\" is not a challenge Mailroom answers: \"http-01\" (port 80, [listeners] acme_http) or \"tls-alpn-01\" (port 443, [listeners] web)"
                )
            }
            acme.challenge = challenge
        }
        config.acme = acme
    }

    /// `[acme]` with the rest of the config.
    func validateACME() throws {
        guard acme != nil else { return }
        if tlsCertFile != nil {
            throw ConfigError(
                file: nil, line: nil,
                message:
                    "[acme] and tls.cert_file both give the TLS certificate: remove tls.cert_file/key_file to let ACME manage it, or remove [acme]"
            )
        }
        switch acme?.challenge ?? .http01 {
        case .http01 where listeners.acmeHTTP.isEmpty:
            throw ConfigError(
                file: nil, line: nil,
                message:
                    "[acme] needs listeners.acme_http (like [\"0.0.0.0:80\"]): the CA proves the names by HTTP-01 on port 80 (or set acme.challenge = \"tls-alpn-01\" with listeners.web on port 443)"
            )
        case .tlsALPN01 where listeners.web.isEmpty:
            throw ConfigError(
                file: nil, line: nil,
                message:
                    "acme.challenge = \"tls-alpn-01\" needs listeners.web (like [\"0.0.0.0:443\"]): the CA proves the names by TLS on port 443"
            )
        default: break
        }
    }
}
