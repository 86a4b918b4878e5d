import Synchronization

/// The HTTP-01 answers being offered (RFC 8555 §8.3): token → key authorization. The client
/// fills it before telling the CA to validate; the `acme_http` listener serves
/// `/.well-known/acme-challenge/<token>` from it.
public final class HTTP01Tokens: Sendable {
    private let table = Mutex<[String: String]>([:])

    public init() {}

    public func publish(token: String, keyAuthorization: String) { table.withLock { $0[token] = keyAuthorization } }

    public func withdraw(token: String) { _ = table.withLock { $0.removeValue(forKey: token) } }

    public func keyAuthorization(for token: String) -> String? { table.withLock { $0[token] } }

    /// The path the CA fetches, or nil when `path` is not under `/.well-known/acme-challenge/`.
    public static func token(inPath path: String) -> String? {
        let prefix = "/.well-known/acme-challenge/"
        guard path.hasPrefix(prefix) else { return nil }
        let token = path.dropFirst(prefix.count)
        // Tokens are base64url (RFC 8555 §8.1): anything else is not ours.
        guard !token.isEmpty, token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            return nil
        }
        return String(token)
    }
}
