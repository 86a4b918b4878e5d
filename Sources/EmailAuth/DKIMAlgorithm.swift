/// The key types Mailroom signs with.
///
/// RSA keys sign `a=rsa-sha256` (RFC 6376 §3.3.1, RFC 8301); Ed25519 keys sign
/// `a=ed25519-sha256` (RFC 8463 §3). Receivers that do not know Ed25519 ignore such a
/// signature, so domains usually publish one key of each kind and sign twice.
public enum DKIMAlgorithm: String, Sendable, CaseIterable {
    case rsa2048 = "rsa-2048"
    case ed25519

    /// The `a=` tag value of a signature made with this kind of key.
    public var signatureAlgorithm: String {
        switch self {
        case .rsa2048: "rsa-sha256"
        case .ed25519: "ed25519-sha256"
        }
    }

    /// The `k=` tag value of the key record in DNS (RFC 6376 §3.6.1, RFC 8463 §4).
    public var keyType: String {
        switch self {
        case .rsa2048: "rsa"
        case .ed25519: "ed25519"
        }
    }
}
