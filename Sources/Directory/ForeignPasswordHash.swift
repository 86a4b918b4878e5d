import Crypto
import CryptoExtras
import Foundation
import LoginKit

/// Why a password hash from another system cannot be used.
public struct PasswordSchemeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A password hash brought over from Dovecot or Postfix (`{SCHEME}hash`), kept as it came until
/// the user's first login replaces it with our own `PasswordHash`.
///
/// Supported: `{SHA512-CRYPT}`, `{SHA256-CRYPT}`, `{BLF-CRYPT}`, `{ARGON2ID}`, `{ARGON2I}`, `{SSHA512}`, `{SSHA256}`,
/// `{PBKDF2}` (Dovecot's `$1$salt$rounds$hex`, PBKDF2-HMAC-SHA1) and `{PLAIN}` (also spelt
/// `{CLEAR}`, `{CLEARTEXT}`).
public struct ForeignPasswordHash: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, CaseIterable, Sendable {
        case sha512Crypt = "SHA512-CRYPT"
        case sha256Crypt = "SHA256-CRYPT"
        case blfCrypt = "BLF-CRYPT"
        case argon2id = "ARGON2ID"
        case argon2i = "ARGON2I"
        case ssha512 = "SSHA512"
        case ssha256 = "SSHA256"
        case pbkdf2 = "PBKDF2"
        case plain = "PLAIN"
    }

    enum Form: Hashable, Sendable {
        case shaCrypt(SHACrypt.Variant, SHACrypt.Parsed)
        case bcrypt(Bcrypt.Parsed)
        case argon2(Argon2.Parsed)
        case ssha(digest: [UInt8], salt: [UInt8])
        case pbkdf2(salt: [UInt8], rounds: Int, hash: [UInt8])
        case plain([UInt8])
    }

    public let scheme: Scheme
    /// The text as stored, `{SCHEME}` included.
    public let text: String
    let form: Form

    /// Dovecot's PBKDF2 default is 5,000 rounds; anything above this would stall logins.
    static let maxPBKDF2Rounds = 5_000_000

    /// Parses `{SCHEME}hash`; throws a message naming what is wrong.
    public init(_ text: String) throws(PasswordSchemeError) {
        guard text.hasPrefix("{"), let close = text.firstIndex(of: "}") else {
            throw PasswordSchemeError(
                "does not start with {SCHEME}, as Dovecot writes it (for example {SHA512-CRYPT}$6$...)")
        }
        let name = text[text.index(after: text.startIndex)..<close].uppercased()
        let body = String(text[text.index(after: close)...])
        let scheme: Scheme
        switch name {
        case "CLEAR", "CLEARTEXT": scheme = .plain
        case "CRYPT":
            // Dovecot's {CRYPT} is libc's crypt(3): the string's own $id$ says the algorithm.
            if body.hasPrefix("$6$") {
                scheme = .sha512Crypt
            } else if body.hasPrefix("$5$") {
                scheme = .sha256Crypt
            } else if ["$2y$", "$2b$", "$2a$"].contains(where: body.hasPrefix) {
                scheme = .blfCrypt
            } else {
                throw PasswordSchemeError(
                    "uses {CRYPT} with a kind of crypt string Mailroom cannot check (only $6$, $5$ and $2y$ are; "
                        + "not DES, MD5 $1$ or yescrypt $y$) — have the user set a new password instead")
            }
        default:
            guard let s = Scheme(rawValue: name) else {
                throw PasswordSchemeError(
                    "uses the scheme {\(name)}, which Mailroom cannot check; supported: "
                        + Scheme.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ")
                        + " — have the user set a new password instead")
            }
            scheme = s
        }
        self.scheme = scheme
        self.text = text
        switch scheme {
        case .sha512Crypt: form = .shaCrypt(.sha512, try SHACrypt.parse(body, .sha512))
        case .sha256Crypt: form = .shaCrypt(.sha256, try SHACrypt.parse(body, .sha256))
        case .blfCrypt: form = .bcrypt(try Bcrypt.parse(body))
        case .argon2id: form = .argon2(try Argon2.parse(body, .id))
        case .argon2i: form = .argon2(try Argon2.parse(body, .i))
        case .ssha512, .ssha256:
            let size = scheme == .ssha512 ? 64 : 32
            guard let raw = Data(base64Encoded: body), raw.count > size else {
                throw PasswordSchemeError("is not base64 of a \(size)-byte digest followed by its salt")
            }
            form = .ssha(digest: Array(raw.prefix(size)), salt: Array(raw.dropFirst(size)))
        case .pbkdf2:
            let parts = body.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 5, parts[0].isEmpty, parts[1] == "1", !parts[2].isEmpty, let rounds = Int(parts[3]),
                rounds > 0, let hash = Self.hex(parts[4]), hash.count == 20
            else { throw PasswordSchemeError("is not in Dovecot's form $1$salt$rounds$hex (PBKDF2-SHA1)") }
            guard rounds <= Self.maxPBKDF2Rounds else {
                throw PasswordSchemeError("asks for \(rounds) rounds, more than the \(Self.maxPBKDF2Rounds) allowed")
            }
            form = .pbkdf2(salt: Array(parts[2].utf8), rounds: rounds, hash: hash)
        case .plain:
            guard !body.isEmpty else { throw PasswordSchemeError("is an empty password") }
            form = .plain(Array(body.utf8))
        }
    }

    public var description: String { text }

    /// Whether `password` is the one this hash was made from (compared in constant time).
    public func verify(_ password: String) -> Bool {
        let p = Array(password.utf8)
        switch form {
        case .shaCrypt(let v, let parsed):
            let computed = SHACrypt.hash(p, salt: parsed.salt, rounds: parsed.rounds, v)
            return constantTimeEqual(Array(computed.utf8), Array(parsed.hash.utf8))
        case .bcrypt(let parsed):
            let computed = Bcrypt.hash(p, salt: parsed.salt, cost: parsed.cost)
            return constantTimeEqual(Array(computed.utf8), Array(parsed.hash.utf8))
        case .argon2(let a):
            let computed = Argon2.hash(
                password: p, salt: a.salt, memoryKiB: a.memoryKiB, passes: a.passes, lanes: a.lanes,
                tagLength: a.hash.count, a.variant)
            return constantTimeEqual(computed, a.hash)
        case .ssha(let digest, let salt):
            let computed: [UInt8] =
                scheme == .ssha512 ? Array(SHA512.hash(data: p + salt)) : Array(SHA256.hash(data: p + salt))
            return constantTimeEqual(computed, digest)
        case .pbkdf2(let salt, let rounds, let hash):
            guard
                let key = try? KDF.Insecure.PBKDF2.deriveKey(
                    from: p, salt: salt, using: .insecureSHA1, outputByteCount: 20, unsafeUncheckedRounds: rounds)
            else { return false }
            return constantTimeEqual(key.withUnsafeBytes { Array($0) }, hash)
        case .plain(let stored):
            // Equal lengths are compared byte for byte in full; a different length says only
            // that the length differs.
            return constantTimeEqual(p, stored)
        }
    }

    private static func hex(_ s: Substring) -> [UInt8]? {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(decoding: chars[i...i + 1], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }
}

/// What an account's `password_hash` column holds: our own SCRAM-SHA-256 keys, or a hash
/// imported from another system that the next successful login replaces.
public enum StoredPassword: Hashable, Sendable {
    case native(PasswordHash)
    case foreign(ForeignPasswordHash)

    /// nil when the text is neither form.
    public init?(_ text: String) {
        if let h = PasswordHash(text) {
            self = .native(h)
        } else if let f = try? ForeignPasswordHash(text) {
            self = .foreign(f)
        } else {
            return nil
        }
    }

    /// Checks `text` as a hash to store, saying what is wrong with it when it is neither form.
    public static func validate(_ text: String) throws(PasswordSchemeError) {
        if PasswordHash(text) != nil { return }
        if text.hasPrefix(PasswordHash.scheme) {
            throw PasswordSchemeError("is not a well-formed SCRAM-SHA-256 hash as `account export` writes")
        }
        _ = try ForeignPasswordHash(text)
    }

    public func verify(_ password: String) -> Bool {
        switch self {
        case .native(let h): h.verify(password)
        case .foreign(let f): f.verify(password)
        }
    }
}
