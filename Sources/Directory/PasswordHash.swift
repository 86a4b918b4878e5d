import Crypto
import CryptoExtras
import Foundation

/// A password stored as SCRAM-SHA-256 keys (RFC 5802, RFC 7677), in the text form PostgreSQL
/// uses: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64).
///
/// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations) is never stored; from the two
/// keys a server can both check a plain password (AUTH PLAIN, LOGIN) and run SCRAM without ever
/// holding anything that logs in by itself.
public struct PasswordHash: Hashable, Sendable, CustomStringConvertible {
    public let iterations: Int
    public let salt: [UInt8]
    public let storedKey: [UInt8]
    public let serverKey: [UInt8]

    /// OWASP's 2023 figure for PBKDF2-HMAC-SHA-256, and the lowest swift-crypto allows unchecked.
    public static let defaultIterations = 210_000
    public static let scheme = "SCRAM-SHA-256"

    public init(iterations: Int, salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// Hashes `password` with a fresh random 16-byte salt.
    public static func make(password: String, iterations: Int = defaultIterations) throws -> PasswordHash {
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = rng.next() }
        return try make(password: password, salt: salt, iterations: iterations)
    }

    public static func make(password: String, salt: [UInt8], iterations: Int) throws -> PasswordHash {
        let salted = try saltedPassword(password, salt: salt, iterations: iterations)
        let clientKey = HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: salted)
        let serverKey = HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: salted)
        return PasswordHash(
            iterations: iterations, salt: salt, storedKey: Array(SHA256.hash(data: Array(clientKey))),
            serverKey: Array(serverKey))
    }

    /// SaltedPassword := Hi(Normalize(password), salt, i) (RFC 5802 §3).
    public static func saltedPassword(_ password: String, salt: [UInt8], iterations: Int) throws -> SymmetricKey {
        // SASLprep is approximated by NFKC normalisation, which covers the mappings real
        // passwords meet (RFC 4013 §2.2).
        let normalized = password.precomposedStringWithCompatibilityMapping
        return try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(normalized.utf8), salt: salt, using: .sha256, outputByteCount: 32,
            unsafeUncheckedRounds: iterations)
    }

    /// Checks a plain password in constant time with respect to the stored key.
    public func verify(_ password: String) -> Bool {
        guard let candidate = try? PasswordHash.make(password: password, salt: salt, iterations: iterations) else {
            return false
        }
        var diff: UInt8 = 0
        for (a, b) in zip(candidate.storedKey, storedKey) { diff |= a ^ b }
        return diff == 0 && candidate.storedKey.count == storedKey.count
    }

    public var description: String {
        "\(Self.scheme)$\(iterations):\(Data(salt).base64EncodedString())$"
            + "\(Data(storedKey).base64EncodedString()):\(Data(serverKey).base64EncodedString())"
    }

    /// Parses the text form; nil when it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.scheme else { return nil }
        let iterSalt = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        let keys = parts[2].split(separator: ":", omittingEmptySubsequences: false)
        guard iterSalt.count == 2, keys.count == 2, let iterations = Int(iterSalt[0]), iterations >= 4096,
            iterations <= 10_000_000,
            let salt = Data(base64Encoded: String(iterSalt[1])), salt.count >= 8,
            let stored = Data(base64Encoded: String(keys[0])), stored.count == 32,
            let server = Data(base64Encoded: String(keys[1])), server.count == 32
        else { return nil }
        self.init(iterations: iterations, salt: Array(salt), storedKey: Array(stored), serverKey: Array(server))
    }
}

/// What makes a password acceptable.
public enum PasswordPolicy {
    public static let minimumLength = 10
    public static let maximumLength = 1024

    /// nil when acceptable, else what is wrong.
    public static func problem(with password: String) -> String? {
        if password.count < minimumLength {
            return "the password is too short: use at least \(minimumLength) characters (or --generate-password)"
        }
        if password.utf8.count > maximumLength { return "the password is longer than \(maximumLength) bytes" }
        if password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "the password contains control characters"
        }
        return nil
    }

    /// A random password of 20 characters from an alphabet without look-alikes (about 112 bits).
    public static func generate() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }
}
