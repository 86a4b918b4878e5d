import Foundation

/// Argon2 version 1.3 (RFC 9106), as Dovecot stores it through libsodium:
/// `{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>` (base64 without padding).
enum Argon2 {
    enum Variant: Int, Sendable {
        case d = 0, i = 1, id = 2
        var name: String { self == .d ? "argon2d" : self == .i ? "argon2i" : "argon2id" }
    }

    /// Every login with such a hash fills this much memory: more than 256 MiB (libsodium's
    /// "sensitive" level is 1 GiB, its "moderate" 256 MiB) is refused at import.
    static let maxMemoryKiB = 262_144
    static let maxPasses = 16
    static let maxLanes = 16

    struct Parsed: Sendable, Hashable {
        var variant: Variant
        var memoryKiB: Int
        var passes: Int
        var lanes: Int
        var salt: [UInt8]
        var hash: [UInt8]
    }

    static func parse(_ text: String, _ variant: Variant) throws(PasswordSchemeError) -> Parsed {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == variant.name, parts[2] == "v=19" else {
            throw PasswordSchemeError("is not in the form $\(variant.name)$v=19$m=M,t=T,p=P$salt$hash")
        }
        var params: [String: Int] = [:]
        for kv in parts[3].split(separator: ",") {
            let pair = kv.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let n = Int(pair[1]) else {
                throw PasswordSchemeError("has bad parameters \"\(parts[3])\"")
            }
            params[String(pair[0])] = n
        }
        guard params.count == 3, let m = params["m"], let t = params["t"], let p = params["p"] else {
            throw PasswordSchemeError("has bad parameters \"\(parts[3])\": expected m=…,t=…,p=…")
        }
        guard (1...maxLanes).contains(p), (1...maxPasses).contains(t), m >= 8 * p, m <= maxMemoryKiB else {
            throw PasswordSchemeError(
                "has m=\(m),t=\(t),p=\(p); accepted are up to m=\(maxMemoryKiB), t=\(maxPasses), p=\(maxLanes) with m at least 8p"
            )
        }
        guard let salt = unpadded(parts[4]), salt.count >= 8, let hash = unpadded(parts[5]), hash.count >= 4 else {
            throw PasswordSchemeError("has a salt or hash that is not unpadded base64 of the right length")
        }
        return Parsed(variant: variant, memoryKiB: m, passes: t, lanes: p, salt: salt, hash: hash)
    }

    private static func unpadded(_ s: String) -> [UInt8]? {
        guard !s.contains("=") else { return nil }
        let padded = s + String(repeating: "=", count: (4 - s.utf8.count % 4) % 4)
        return Data(base64Encoded: padded).map(Array.init)
    }

    /// The tag of `tagLength` bytes (RFC 9106 §3.2).
    static func hash(
        password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associated: [UInt8] = [], memoryKiB: Int, passes: Int,
        lanes: Int, tagLength: Int, _ variant: Variant
    ) -> [UInt8] {
        var h0Input: [UInt8] = []
        for n in [lanes, tagLength, memoryKiB, passes, 0x13, variant.rawValue] { h0Input += le32(n) }
        for field in [password, salt, secret, associated] { h0Input += le32(field.count) + field }
        let h0 = Blake2b.hash(h0Input)

        let segmentLength = memoryKiB / (4 * lanes)
        let laneLength = segmentLength * 4
        let blockCount = laneLength * lanes
        var memory = [UInt64](repeating: 0, count: blockCount * 128)
        memory.withUnsafeMutableBufferPointer { mem in
            for l in 0..<lanes {
                for j in 0..<2 {
                    let block = variableHash(h0 + le32(j) + le32(l), length: 1024)
                    for w in 0..<128 { mem[(l * laneLength + j) * 128 + w] = word(block, w) }
                }
            }
            var address = [UInt64](repeating: 0, count: 128)
            var input = [UInt64](repeating: 0, count: 128)
            let zero = [UInt64](repeating: 0, count: 128)
            var scratch = [UInt64](repeating: 0, count: 256)
            for pass in 0..<passes {
                for slice in 0..<4 {
                    for lane in 0..<lanes {
                        let independent = variant == .i || (variant == .id && pass == 0 && slice < 2)
                        if independent {
                            for k in input.indices { input[k] = 0 }
                            input[0] = UInt64(pass)
                            input[1] = UInt64(lane)
                            input[2] = UInt64(slice)
                            input[3] = UInt64(blockCount)
                            input[4] = UInt64(passes)
                            input[5] = UInt64(variant.rawValue)
                        }
                        func nextAddresses() {
                            input[6] &+= 1
                            address = compress(zero, input, &scratch)
                            address = compress(zero, address, &scratch)
                        }
                        var start = 0
                        if pass == 0 && slice == 0 {
                            start = 2  // the first two blocks are made from H0
                            if independent { nextAddresses() }
                        }
                        var current = lane * laneLength + slice * segmentLength + start
                        var previous = current % laneLength == 0 ? current + laneLength - 1 : current - 1
                        for index in start..<segmentLength {
                            if current % laneLength == 1 { previous = current - 1 }
                            let pseudoRandom: UInt64
                            if independent {
                                if index % 128 == 0 { nextAddresses() }
                                pseudoRandom = address[index % 128]
                            } else {
                                pseudoRandom = mem[previous * 128]
                            }
                            let refLane = pass == 0 && slice == 0 ? lane : Int((pseudoRandom >> 32) % UInt64(lanes))
                            let refIndex = referenceIndex(
                                pass: pass, slice: slice, index: index, sameLane: refLane == lane,
                                j1: pseudoRandom & 0xffff_ffff, segmentLength: segmentLength, laneLength: laneLength)
                            fill(
                                mem, previous: previous, reference: refLane * laneLength + refIndex, into: current,
                                xor: pass > 0)
                            current += 1
                            previous += 1
                        }
                    }
                }
            }
        }
        var final = [UInt64](repeating: 0, count: 128)
        for l in 0..<lanes {
            let last = (l * laneLength + laneLength - 1) * 128
            for w in 0..<128 { final[w] ^= memory[last + w] }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        for w in final { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * UInt64(i)))) } }
        return variableHash(bytes, length: tagLength)
    }

    /// The block a new block mixes in, within the area the spec allows (RFC 9106 §3.4.1.2).
    private static func referenceIndex(
        pass: Int, slice: Int, index: Int, sameLane: Bool, j1: UInt64, segmentLength: Int, laneLength: Int
    ) -> Int {
        let area: Int
        if pass == 0 {
            if slice == 0 {
                area = index - 1
            } else {
                area = slice * segmentLength + (sameLane ? index - 1 : (index == 0 ? -1 : 0))
            }
        } else {
            area = laneLength - segmentLength + (sameLane ? index - 1 : (index == 0 ? -1 : 0))
        }
        // Swift's >> binds tighter than *, hence the parentheses.
        var x = (j1 &* j1) >> 32
        x = (UInt64(area) &* x) >> 32
        let relative = area - 1 - Int(x)
        let start = pass == 0 || slice == 3 ? 0 : (slice + 1) * segmentLength
        return (start + relative) % laneLength
    }

    /// memory[into] (^)= G(memory[previous], memory[reference]).
    private static func fill(
        _ mem: UnsafeMutableBufferPointer<UInt64>, previous: Int, reference: Int, into: Int, xor: Bool
    ) {
        // Stack scratch: this runs once per block, 196,608 times for Dovecot's ARGON2ID defaults.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 256) { scratch in
            let r = UnsafeMutableBufferPointer(rebasing: scratch[0..<128])
            let keep = UnsafeMutableBufferPointer(rebasing: scratch[128..<256])
            for w in 0..<128 {
                r[w] = mem[reference * 128 + w] ^ mem[previous * 128 + w]
                keep[w] = xor ? r[w] ^ mem[into * 128 + w] : r[w]
            }
            permuteBlock(r)
            for w in 0..<128 { mem[into * 128 + w] = keep[w] ^ r[w] }
        }
    }

    /// G(x, y) of two whole blocks (for the address blocks); `scratch` is reused storage.
    private static func compress(_ x: [UInt64], _ y: [UInt64], _ scratch: inout [UInt64]) -> [UInt64] {
        var r = [UInt64](repeating: 0, count: 128)
        for w in 0..<128 { r[w] = x[w] ^ y[w] }
        let keep = r
        r.withUnsafeMutableBufferPointer { permuteBlock($0) }
        for w in 0..<128 { r[w] ^= keep[w] }
        return r
    }

    /// P on each row of eight 16-byte registers, then on each column (RFC 9106 §3.5).
    private static func permuteBlock(_ r: UnsafeMutableBufferPointer<UInt64>) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 16) { v in
            for i in 0..<8 {
                for k in 0..<16 { v[k] = r[16 * i + k] }
                permute(v)
                for k in 0..<16 { r[16 * i + k] = v[k] }
            }
            for i in 0..<8 {
                for k in 0..<16 { v[k] = r[2 * i + 16 * (k >> 1) + (k & 1)] }
                permute(v)
                for k in 0..<16 { r[2 * i + 16 * (k >> 1) + (k & 1)] = v[k] }
            }
        }
    }

    /// BLAKE2b's addition with Argon2's multiplication added: x + y + 2 · lo32(x) · lo32(y).
    @inline(__always)
    private static func blamka(_ x: UInt64, _ y: UInt64) -> UInt64 {
        let product: UInt64 = (x & 0xffff_ffff) &* (y & 0xffff_ffff)
        return x &+ y &+ (product &<< 1)
    }

    private static func permute(_ v: UnsafeMutableBufferPointer<UInt64>) {
        @inline(__always) func gb(_ a: Int, _ b: Int, _ c: Int, _ d: Int) {
            v[a] = blamka(v[a], v[b])
            v[d] = (v[d] ^ v[a]).rotatedRight(32)
            v[c] = blamka(v[c], v[d])
            v[b] = (v[b] ^ v[c]).rotatedRight(24)
            v[a] = blamka(v[a], v[b])
            v[d] = (v[d] ^ v[a]).rotatedRight(16)
            v[c] = blamka(v[c], v[d])
            v[b] = (v[b] ^ v[c]).rotatedRight(63)
        }
        gb(0, 4, 8, 12)
        gb(1, 5, 9, 13)
        gb(2, 6, 10, 14)
        gb(3, 7, 11, 15)
        gb(0, 5, 10, 15)
        gb(1, 6, 11, 12)
        gb(2, 7, 8, 13)
        gb(3, 4, 9, 14)
    }

    /// H' (RFC 9106 §3.3): BLAKE2b stretched to any length.
    static func variableHash(_ input: [UInt8], length: Int) -> [UInt8] {
        let prefixed = le32(length) + input
        if length <= 64 { return Blake2b.hash(prefixed, outputLength: length) }
        let r = (length + 31) / 32 - 2
        var v = Blake2b.hash(prefixed)
        var out = Array(v.prefix(32))
        for _ in 1..<r {
            v = Blake2b.hash(v)
            out += v.prefix(32)
        }
        out += Blake2b.hash(v, outputLength: length - 32 * r)
        return out
    }

    private static func le32(_ n: Int) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) }
    }

    private static func word(_ bytes: [UInt8], _ i: Int) -> UInt64 {
        var w: UInt64 = 0
        for j in (0..<8).reversed() { w = w << 8 | UInt64(bytes[i * 8 + j]) }
        return w
    }
}
