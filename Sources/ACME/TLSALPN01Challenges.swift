import Crypto
import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// The TLS-ALPN-01 answers being offered (RFC 8737): host name → the TLS context that presents
/// that name's challenge certificate with ALPN `acme-tls/1`. The client fills it before telling
/// the CA to validate; the web listener hands a connection to it when the ClientHello offers
/// `acme-tls/1` alone with that name as SNI.
///
/// ```
/// C: ClientHello  SNI mail.example.org, ALPN ["acme-tls/1"]
/// S: ServerHello  ALPN "acme-tls/1", Certificate: self-signed, SAN mail.example.org,
///    critical id-pe-acmeIdentifier = SHA-256(key authorization)
/// C: (closes once the handshake is done; no application data)
/// ```
public final class TLSALPN01Challenges: Sendable {
    private let table = Mutex<[String: NIOSSLContext]>([:])

    public init() {}

    /// Offers the challenge certificate for `name` (replacing any earlier one).
    public func publish(name: String, keyAuthorization: String) throws {
        let (certificate, key) = try Self.certificate(name: name, keyAuthorization: keyAuthorization)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)))
        configuration.applicationProtocols = ["acme-tls/1"]
        // The connection is closed right after the handshake; a validator that does not answer
        // our close_notify should not hold it open for NIOSSL's default 5 s.
        configuration.shutdownTimeout = .milliseconds(300)
        let context = try NIOSSLContext(configuration: configuration)
        table.withLock { $0[name.lowercased()] = context }
    }

    public func withdraw(name: String) { _ = table.withLock { $0.removeValue(forKey: name.lowercased()) } }

    /// The context for a ClientHello whose SNI is `serverName`, when a challenge for it is pending.
    public func context(for serverName: String) -> NIOSSLContext? { table.withLock { $0[serverName.lowercased()] } }

    /// id-pe-acmeIdentifier (RFC 8737 §6.1): `1.3.6.1.5.5.7.1.31`.
    public static let acmeIdentifierOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]

    /// The challenge certificate for `name` (RFC 8737 §3): self-signed, `name` as its only
    /// subjectAltName, and the critical acmeIdentifier extension whose value is the DER of
    /// `Authorization ::= OCTET STRING (SIZE (32))`, the SHA-256 of the key authorization.
    public static func certificate(name: String, keyAuthorization: String) throws -> (
        Certificate, P256.Signing.PrivateKey
    ) {
        let key = P256.Signing.PrivateKey()
        var value = DER.Serializer()
        try value.serialize(ASN1OctetString(contentBytes: ArraySlice(SHA256.hash(data: Array(keyAuthorization.utf8)))))
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames([.dnsName(name)])
            Certificate.Extension(oid: acmeIdentifierOID, critical: true, value: ArraySlice(value.serializedBytes))
        }
        let subject = try DistinguishedName { CommonName(name) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(7 * 86400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(key))
        return (certificate, key)
    }
}
