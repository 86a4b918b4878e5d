/// bcrypt (Provos and Mazières, "A Future-Adaptable Password Scheme", 1999): EksBlowfish keyed
/// by the password and salt, then "OrpheanBeholderScryDoubt" encrypted 64 times. Dovecot stores
/// it as `{BLF-CRYPT}$2y$05$<22 salt characters><31 hash characters>`.
enum Bcrypt {
    static let minCost = 4
    /// 2^31 key schedules would never finish; costs above 16 (≈ 5 s each) are refused at import
    /// rather than left to stall every login.
    static let maxCost = 16

    struct Parsed: Sendable, Hashable {
        var version: String
        var cost: Int
        var salt: [UInt8]
        var hash: String
    }

    static func parse(_ text: String) throws(PasswordSchemeError) -> Parsed {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0].isEmpty, ["2a", "2b", "2y"].contains(parts[1]) else {
            throw PasswordSchemeError("is not in the form $2y$cost$salthash (versions 2a, 2b and 2y)")
        }
        guard parts[2].utf8.count == 2, let cost = Int(parts[2]) else {
            throw PasswordSchemeError("has a bad cost \"\(parts[2])\"")
        }
        guard (minCost...maxCost).contains(cost) else {
            throw PasswordSchemeError("has cost \(cost); costs \(minCost) to \(maxCost) are accepted")
        }
        let rest = Array(parts[3].utf8)
        guard rest.count == 53, rest.allSatisfy({ alphabet.contains($0) }) else {
            throw PasswordSchemeError("does not have 53 characters of bcrypt base64 after the cost")
        }
        let salt = decode(Array(rest[0..<22]), count: 16)
        return Parsed(version: parts[1], cost: cost, salt: salt, hash: String(decoding: rest[22...], as: UTF8.self))
    }

    /// The 31-character encoded hash of `password` under `salt` and `cost`.
    static func hash(_ password: [UInt8], salt: [UInt8], cost: Int) -> String {
        precondition(salt.count == 16 && (minCost...maxCost).contains(cost))
        // The key is the password with its terminating NUL, at most 72 bytes.
        let key = Array((password + [0]).prefix(72))
        var state = blowfishPiWords
        var ctext: [UInt32] = [0x4f72_7068, 0x6561_6e42, 0x6568_6f6c, 0x6465_7253, 0x6372_7944, 0x6f75_6274]
        state.withUnsafeMutableBufferPointer { st in
            expand(st, key: key, salt: salt)
            for _ in 0..<(1 << cost) {
                expand(st, key: key, salt: nil)
                expand(st, key: salt, salt: nil)
            }
            for _ in 0..<64 {
                for j in stride(from: 0, to: 6, by: 2) {
                    (ctext[j], ctext[j + 1]) = encrypt(st, ctext[j], ctext[j + 1])
                }
            }
        }
        var bytes: [UInt8] = []
        for w in ctext { bytes += [UInt8(w >> 24), UInt8(w >> 16 & 0xff), UInt8(w >> 8 & 0xff), UInt8(w & 0xff)] }
        return String(decoding: encode(Array(bytes.prefix(23))), as: UTF8.self)
    }

    /// Blowfish's key schedule, salted as EksBlowfish does (with `salt` nil it is the
    /// original schedule).
    private static func expand(_ st: UnsafeMutableBufferPointer<UInt32>, key: [UInt8], salt: [UInt8]?) {
        var keyPos = 0
        for i in 0..<18 { st[i] ^= streamWord(key, &keyPos) }
        var saltPos = 0
        var l: UInt32 = 0
        var r: UInt32 = 0
        for i in stride(from: 0, to: 18 + 1024, by: 2) {
            if let salt {
                l ^= streamWord(salt, &saltPos)
                r ^= streamWord(salt, &saltPos)
            }
            (l, r) = encrypt(st, l, r)
            st[i] = l
            st[i + 1] = r
        }
    }

    /// The next four bytes of `data` as a big-endian word, wrapping round at its end.
    private static func streamWord(_ data: [UInt8], _ pos: inout Int) -> UInt32 {
        var w: UInt32 = 0
        for _ in 0..<4 {
            w = w << 8 | UInt32(data[pos])
            pos = (pos + 1) % data.count
        }
        return w
    }

    @inline(__always)
    private static func f(_ st: UnsafeMutableBufferPointer<UInt32>, _ x: UInt32) -> UInt32 {
        let a = st[18 + Int(x >> 24)]
        let b = st[18 + 256 + Int(x >> 16 & 0xff)]
        let c = st[18 + 512 + Int(x >> 8 & 0xff)]
        let d = st[18 + 768 + Int(x & 0xff)]
        return ((a &+ b) ^ c) &+ d
    }

    private static func encrypt(_ st: UnsafeMutableBufferPointer<UInt32>, _ left: UInt32, _ right: UInt32) -> (
        UInt32, UInt32
    ) {
        var l = left ^ st[0]
        var r = right
        for i in stride(from: 1, through: 15, by: 2) {
            r ^= f(st, l) ^ st[i]
            l ^= f(st, r) ^ st[i + 1]
        }
        r ^= st[17]
        return (r, l)
    }

    static let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// bcrypt's base64: its own alphabet, most significant bits first, no padding.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i])
            let b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[(b0 & 3) << 4 | b1 >> 4])
            if i + 1 < bytes.count { out.append(alphabet[(b1 & 0xf) << 2 | b2 >> 6]) }
            if i + 2 < bytes.count { out.append(alphabet[b2 & 0x3f]) }
            i += 3
        }
        return out
    }

    static func decode(_ chars: [UInt8], count: Int) -> [UInt8] {
        var bits: UInt32 = 0
        var nbits = 0
        var out: [UInt8] = []
        for c in chars {
            bits = bits << 6 | UInt32(alphabet.firstIndex(of: c) ?? 0)
            nbits += 6
            if nbits >= 8 {
                nbits -= 8
                out.append(UInt8(bits >> UInt32(nbits) & 0xff))
            }
        }
        return Array(out.prefix(count))
    }
}
