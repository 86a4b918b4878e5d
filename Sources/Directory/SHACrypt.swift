import Crypto

/// SHA-crypt, the `$5$` (SHA-256) and `$6$` (SHA-512) password hashes of glibc's crypt(3), as
/// Ulrich Drepper specified them ("Unix crypt using SHA-256 and SHA-512", 2008). Dovecot stores
/// them as `{SHA256-CRYPT}` and `{SHA512-CRYPT}`.
enum SHACrypt {
    enum Variant: Sendable {
        case sha256, sha512

        var id: String { self == .sha256 ? "5" : "6" }

        func digest(_ bytes: [UInt8]) -> [UInt8] {
            switch self {
            case .sha256: Array(SHA256.hash(data: bytes))
            case .sha512: Array(SHA512.hash(data: bytes))
            }
        }

        /// The order in which the final digest's bytes are taken, three at a time, into the
        /// 4-character groups of the output (the spec's steps 22 e and f).
        var permutation: [(Int, Int, Int)] {
            switch self {
            case .sha256:
                [
                    (0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14), (15, 25, 5), (6, 16, 26),
                    (27, 7, 17), (18, 28, 8), (9, 19, 29),
                ]
            case .sha512:
                [
                    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
                    (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
                    (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41),
                ]
            }
        }
    }

    static let defaultRounds = 5000
    /// The spec allows up to 999,999,999; a stored hash that asks for more than this would make
    /// every login a denial of service, so import refuses it.
    static let maxRounds = 10_000_000

    /// A parsed `$5$[rounds=N$]salt$hash` / `$6$...`.
    struct Parsed: Sendable, Hashable {
        var rounds: Int
        var explicitRounds: Bool
        var salt: [UInt8]
        var hash: String
    }

    static func parse(_ text: String, _ v: Variant) throws(PasswordSchemeError) -> Parsed {
        var parts = text.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 4, parts[0].isEmpty, parts[1] == v.id else {
            throw PasswordSchemeError("is not in the form $\(v.id)$salt$hash")
        }
        parts.removeFirst(2)
        var rounds = defaultRounds
        var explicit = false
        if parts[0].hasPrefix("rounds=") {
            guard let r = Int(parts[0].dropFirst(7)), r > 0 else {
                throw PasswordSchemeError("has a bad rounds= value")
            }
            guard r <= maxRounds else {
                throw PasswordSchemeError("asks for \(r) rounds, more than the \(maxRounds) allowed")
            }
            rounds = max(r, 1000)
            explicit = true
            parts.removeFirst()
        }
        guard parts.count == 2 else { throw PasswordSchemeError("is not in the form $\(v.id)$salt$hash") }
        let expectedLength = v == .sha256 ? 43 : 86
        guard parts[1].utf8.count == expectedLength, parts[1].utf8.allSatisfy({ cryptAlphabet.contains($0) }) else {
            throw PasswordSchemeError("has a hash part that is not \(expectedLength) characters of crypt base64")
        }
        // Salts longer than 16 characters are cut to 16 (spec, "salt").
        return Parsed(rounds: rounds, explicitRounds: explicit, salt: Array(parts[0].utf8.prefix(16)), hash: parts[1])
    }

    /// The encoded hash part for `password` under the parsed salt and rounds.
    static func hash(_ password: [UInt8], salt: [UInt8], rounds: Int, _ v: Variant) -> String {
        let p = password
        let s = salt
        let b = v.digest(p + s + p)
        var a = p + s
        a += repeated(b, toLength: p.count)
        var n = p.count
        while n > 0 {
            a += (n & 1) == 1 ? b : p
            n >>= 1
        }
        let aDigest = v.digest(a)
        let dp = v.digest(Array([[UInt8]](repeating: p, count: p.count).joined()))
        let pSeq = repeated(dp, toLength: p.count)
        let ds = v.digest(Array([[UInt8]](repeating: s, count: 16 + Int(aDigest[0])).joined()))
        let sSeq = repeated(ds, toLength: s.count)
        var c = aDigest
        for i in 0..<rounds {
            var input: [UInt8] = []
            input.reserveCapacity(c.count * 2 + pSeq.count * 2 + sSeq.count)
            input += (i & 1) == 1 ? pSeq : c
            if i % 3 != 0 { input += sSeq }
            if i % 7 != 0 { input += pSeq }
            input += (i & 1) == 1 ? c : pSeq
            c = v.digest(input)
        }
        var out: [UInt8] = []
        for (x, y, z) in v.permutation { out += encode24(c[x], c[y], c[z], 4) }
        if v == .sha256 { out += encode24(0, c[31], c[30], 3) } else { out += encode24(0, 0, c[63], 2) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func repeated(_ bytes: [UInt8], toLength n: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n)
        while out.count < n { out += bytes.prefix(n - out.count) }
        return out
    }

    static let cryptAlphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `n` characters of crypt base64 from three bytes, least significant six bits first.
    private static func encode24(_ b2: UInt8, _ b1: UInt8, _ b0: UInt8, _ n: Int) -> [UInt8] {
        var w = UInt32(b2) << 16 | UInt32(b1) << 8 | UInt32(b0)
        var out: [UInt8] = []
        for _ in 0..<n {
            out.append(cryptAlphabet[Int(w & 0x3f)])
            w >>= 6
        }
        return out
    }
}
