extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hexadecimal, two digits each: how digests and random tokens are
    /// written in file names, the database and headers. Written digit by digit, since
    /// `String(format:)` per byte cost 2% of a delivery's CPU in hashing its blob.
    public var lowercaseHex: String {
        func digit(_ n: UInt8) -> UInt8 { n < 10 ? UInt8(ascii: "0") + n : UInt8(ascii: "a") + n - 10 }
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digit(byte >> 4))
            out.append(digit(byte & 0x0F))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
