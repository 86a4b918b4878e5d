import Foundation

/// Encodes message content for DATA (RFC 5321 §4.5.2, §4.1.1.4) in one pass: a "." at the
/// start of a line is doubled, a bare LF becomes CRLF, a missing final CRLF is added, and
/// the content ends with CRLF "." CRLF.
///
/// ```
/// message:  "Subject: x\r\n\r\n.hidden\r\n"
/// on wire:  "Subject: x\r\n\r\n..hidden\r\n.\r\n"
/// ```
///
/// It writes into memory the caller provides (a NIO `ByteBuffer`'s writable bytes), so the
/// I/O layer can build the whole DATA payload in one buffer without an intermediate copy.
/// Output room can be smaller than the worst case: `encode` stops when it is full and
/// resumes from `offset` on the next call. Whether a position starts a line depends only on
/// the byte before it, so the encoder keeps no state between calls.
public enum DotStuffer {
    /// Octets `finish` writes at most.
    public static let maximumTrailerSize = 5

    /// Encodes `input[offset...]` into `output` until the input is used up or the output is
    /// full; advances `offset` and returns the octets written.
    public static func encode(
        _ input: UnsafeRawBufferPointer, offset: inout Int, into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        guard let inBase = input.baseAddress, let outBase = output.baseAddress else { return 0 }
        let inCount = input.count
        let outCount = output.count
        var i = offset
        var o = 0
        while i < inCount {
            // At the start of a line, a "." is sent twice.
            if (i == 0 || input[i - 1] == UInt8(ascii: "\n")) && input[i] == UInt8(ascii: ".") {
                guard outCount - o >= 2 else { break }
                output[o] = UInt8(ascii: ".")
                output[o + 1] = UInt8(ascii: ".")
                o += 2
                i += 1
                continue
            }
            // Copy up to (not including) the next LF in one go.
            let remaining = inCount - i
            let lfPointer = memchr(inBase + i, Int32(UInt8(ascii: "\n")), remaining)
            let lf = lfPointer.map { UnsafeRawPointer($0) - inBase } ?? inCount
            let span = min(lf - i, outCount - o)
            if span > 0 {
                (outBase + o).copyMemory(from: inBase + i, byteCount: span)
                o += span
                i += span
            }
            if i < lf || lf == inCount { break }
            // i == lf: the line end. CRLF stays; a bare LF gets its CR.
            let hasCR = lf > 0 && input[lf - 1] == UInt8(ascii: "\r")
            let need = hasCR ? 1 : 2
            guard outCount - o >= need else { break }
            if !hasCR {
                output[o] = UInt8(ascii: "\r")
                o += 1
            }
            output[o] = UInt8(ascii: "\n")
            o += 1
            i += 1
        }
        offset = i
        return o
    }

    /// Writes the end of the data: CRLF if the content did not end with one, then "." CRLF.
    /// `output` must have room for `maximumTrailerSize` octets.
    public static func finish(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        precondition(output.count >= maximumTrailerSize, "DotStuffer.finish needs \(maximumTrailerSize) octets")
        var o = 0
        if let last = input.last, last != UInt8(ascii: "\n") {
            output[0] = UInt8(ascii: "\r")
            output[1] = UInt8(ascii: "\n")
            o = 2
        }
        output[o] = UInt8(ascii: ".")
        output[o + 1] = UInt8(ascii: "\r")
        output[o + 2] = UInt8(ascii: "\n")
        return o + 3
    }

    /// The whole encoding as an array (tests, and callers without a `ByteBuffer`).
    public static func stuffed(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { input in
            var out = [UInt8](repeating: 0, count: 2 * input.count + maximumTrailerSize)
            let written = out.withUnsafeMutableBytes { output in
                var offset = 0
                let n = encode(input, offset: &offset, into: output)
                return n + finish(input, into: UnsafeMutableRawBufferPointer(rebasing: output[n...]))
            }
            out.removeLast(out.count - written)
            return out
        }
    }
}
