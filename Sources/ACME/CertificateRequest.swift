import Crypto
import Foundation
import SwiftASN1
import X509

/// A new certificate's key (P-256) and its CSR (PKCS #10) naming every name in the
/// subjectAltName extension, the first also as the common name.
public struct CertificateRequest: Sendable {
    public let key: P256.Signing.PrivateKey
    public let names: [String]

    public init(names: [String], key: P256.Signing.PrivateKey = .init()) {
        precondition(!names.isEmpty, "a certificate request needs a name")
        self.names = names
        self.key = key
    }

    /// The CSR in DER, as `finalize` wants it (base64url of this).
    public func der() throws -> [UInt8] {
        let extensions = try Certificate.Extensions { SubjectAlternativeNames(names.map { .dnsName($0) }) }
        let attributes = try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))])
        let csr = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName(names[0]) }, privateKey: .init(key),
            attributes: attributes, signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        return serializer.serializedBytes
    }

    public var keyPEM: String { key.pemRepresentation }
}
