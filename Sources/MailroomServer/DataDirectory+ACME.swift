import ACME
import Crypto
import Foundation
import SwiftASN1
import X509

/// What ACME keeps in the data folder, every file mode 0600 and written atomically:
///
/// ```
/// acme/account-key.pem    the ACME account's key (P-256)
/// acme/cert.pem           the certificate chain, leaf first
/// acme/key.pem            its private key (P-256)
/// ```
extension DataDirectory {
    public var acmePath: String { path + "/acme" }
    public var acmeAccountKeyPath: String { acmePath + "/account-key.pem" }
    public var acmeCertPath: String { acmePath + "/cert.pem" }
    public var acmeKeyPath: String { acmePath + "/key.pem" }

    /// The ACME account key: read, or made and saved on first use.
    func acmeAccountKey() throws -> AccountKey {
        try createACMEFolder()
        if let pem = try? String(contentsOfFile: acmeAccountKeyPath, encoding: .utf8) {
            do { return try AccountKey(pem: pem) } catch {
                throw ServerError(
                    "\(acmeAccountKeyPath) is not a P-256 private key in PEM: restore it from a backup, or delete it to register a new account"
                )
            }
        }
        let key = AccountKey()
        try writePrivate(key.pem + "\n", to: acmeAccountKeyPath)
        return key
    }

    /// The stored ACME certificate, when both files are there and the key is the leaf's.
    func acmeCertificate() -> IssuedCertificate? {
        guard let chain = try? String(contentsOfFile: acmeCertPath, encoding: .utf8),
            let key = try? String(contentsOfFile: acmeKeyPath, encoding: .utf8)
        else { return nil }
        return try? IssuedCertificate(chainPEM: chain, keyPEM: key)
    }

    /// Saves a new certificate. The key goes first: a crash between the two renames leaves a
    /// key that does not match the old chain, which ``acmeCertificate()`` ignores (and a new one
    /// is obtained), never a chain served with the wrong key.
    func saveACMECertificate(_ cert: IssuedCertificate) throws {
        try createACMEFolder()
        try writePrivate(cert.keyPEM, to: acmeKeyPath)
        try writePrivate(cert.chainPEM, to: acmeCertPath)
    }

    private func createACMEFolder() throws {
        do {
            try FileManager.default.createDirectory(
                atPath: acmePath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ServerError("cannot create \(acmePath): \(error.localizedDescription)")
        }
    }
}

/// A certificate chain (PEM, leaf first) with its key, and what the leaf says.
public struct IssuedCertificate: Sendable {
    public let chainPEM: String
    public let keyPEM: String
    public let leaf: Certificate

    public init(chainPEM: String, keyPEM: String) throws {
        let docs = try PEMDocument.parseMultiple(pemString: chainPEM)
        guard let first = docs.first else { throw ServerError("the certificate chain holds no certificate") }
        let leaf = try Certificate(pemDocument: first)
        let key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        guard key.publicKey == leaf.publicKey else { throw ServerError("the private key is not the certificate's") }
        self.chainPEM = chainPEM
        self.keyPEM = keyPEM
        self.leaf = leaf
    }

    /// The DNS names of the subjectAltName extension.
    public var names: [String] {
        guard let sans = try? leaf.extensions.subjectAlternativeNames else { return [] }
        return sans.compactMap { if case .dnsName(let n) = $0 { n } else { nil } }
    }

    public var notAfter: Date { leaf.notValidAfter }
    public var notBefore: Date { leaf.notValidBefore }
    public var issuer: String { leaf.issuer.description }
    public var subject: String { leaf.subject.description }
}
