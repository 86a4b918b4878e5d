import Crypto
import Foundation

/// Base64 with the URL alphabet and no padding (RFC 7515 §2), as every JWS part is written.
enum Base64URL {
    static func encode<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The ACME account key (P-256, ES256) and how it signs requests: RFC 8555 §6.2 flattened JWS.
///
/// ```
/// {"protected": b64({"alg":"ES256","nonce":…,"url":…,"jwk"|"kid":…}), "payload": b64(json), "signature": b64(r‖s)}
/// ```
public struct AccountKey: Sendable {
    public let privateKey: P256.Signing.PrivateKey

    public init(_ privateKey: P256.Signing.PrivateKey = .init()) { self.privateKey = privateKey }

    public init(pem: String) throws { self.privateKey = try P256.Signing.PrivateKey(pemRepresentation: pem) }

    public var pem: String { privateKey.pemRepresentation }

    /// The public key as a JWK (RFC 7518 §6.2.1), members in the lexicographic order RFC 7638
    /// requires for the thumbprint: `{"crv":"P-256","kty":"EC","x":…,"y":…}`.
    public var jwkJSON: String {
        let point = privateKey.publicKey.x963Representation  // 0x04 ‖ x ‖ y
        let x = Base64URL.encode(point.dropFirst().prefix(32))
        let y = Base64URL.encode(point.dropFirst(33))
        return #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
    }

    /// RFC 7638 thumbprint: base64url(SHA-256(canonical JWK)).
    public var thumbprint: String { Base64URL.encode(SHA256.hash(data: Data(jwkJSON.utf8))) }

    /// The HTTP-01 key authorization for `token` (RFC 8555 §8.1): `token "." thumbprint`.
    public func keyAuthorization(token: String) -> String { token + "." + thumbprint }

    /// Who signs: the bare key (newAccount) or the account URL (every later request).
    public enum Signer: Sendable {
        case jwk
        case kid(String)
    }

    /// A flattened JWS over `payload` (nil = POST-as-GET, an empty payload) for `url`.
    public func sign(payload: Data?, url: String, nonce: String, signer: Signer) throws -> Data {
        func quoted(_ s: String) throws -> String { String(decoding: try JSONEncoder().encode(s), as: UTF8.self) }
        var header = #"{"alg":"ES256","nonce":\#(try quoted(nonce)),"url":\#(try quoted(url)),"#
        switch signer {
        case .jwk: header += #""jwk":\#(jwkJSON)}"#
        case .kid(let kid): header += #""kid":\#(try quoted(kid))}"#
        }
        let protected = Base64URL.encode(Data(header.utf8))
        let body = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try privateKey.signature(for: Data((protected + "." + body).utf8))
        let jws =
            #"{"protected":"\#(protected)","payload":"\#(body)","signature":"\#(Base64URL.encode(signature.rawRepresentation))"}"#
        return Data(jws.utf8)
    }
}
