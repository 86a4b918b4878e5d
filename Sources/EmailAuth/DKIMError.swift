/// Why a DKIM key or signer setting was refused. Each message says what to do about it.
public enum DKIMError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The PEM text is not a private key of the expected kind.
    case invalidPrivateKey(algorithm: DKIMAlgorithm, reason: String)
    /// The RSA key is shorter than RFC 8301 allows for signing (1024 bits).
    case rsaKeyTooSmall(bits: Int)
    /// The signing domain is not a syntactically valid DNS name.
    case invalidDomain(String)
    /// The selector is not a syntactically valid DNS label sequence.
    case invalidSelector(String)

    public var description: String {
        switch self {
        case .invalidPrivateKey(let algorithm, let reason):
            "not a usable \(algorithm.rawValue) private key (\(reason)); expected a PEM \"BEGIN PRIVATE KEY\" block"
                + (algorithm == .rsa2048 ? " or \"BEGIN RSA PRIVATE KEY\" block" : "")
        case .rsaKeyTooSmall(let bits):
            "the RSA key has \(bits) bits; DKIM signing needs at least 1024 (RFC 8301), generate a new 2048-bit key"
        case .invalidDomain(let domain):
            "\"\(domain)\" is not a valid signing domain; use the ASCII (A-label) form, e.g. example.org"
        case .invalidSelector(let selector):
            "\"\(selector)\" is not a valid DKIM selector; use letters, digits, hyphens and dots, e.g. mail2026"
        }
    }
}
