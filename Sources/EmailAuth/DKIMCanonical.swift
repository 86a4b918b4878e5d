import Foundation
import MailCore

/// DKIM canonicalisation (RFC 6376 §3.4), shared by signing and (later) verification.
/// All functions take and return bytes; none of them fails on any input.
public enum DKIMCanonical {
    /// Bare LF becomes CRLF; CRLF and lone CR are left alone. See `DKIMMessage` for why.
    public static func crlfLineEnds(_ bytes: some Collection<UInt8>) -> [UInt8] {
        // Runs over every message received. Called across modules this generic is not
        // specialised, and stepping its iterator cost more than the DKIM check itself: work on
        // the contiguous bytes instead.
        if let out = bytes.withContiguousStorageIfAvailable(crlfLineEnds(buffer:)) { return out }
        return Array(bytes).withUnsafeBufferPointer(crlfLineEnds(buffer:))
    }

    private static func crlfLineEnds(buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard let firstBare = firstBareLF(buffer) else {
            // Mail over SMTP has CRLF already. Room for the CRLF simpleBody may add, so that
            // adding it does not copy the body again.
            var out: [UInt8] = []
            out.reserveCapacity(buffer.count + 2)
            out.append(contentsOf: buffer)
            return out
        }
        var out = Array(buffer[..<firstBare])
        out.reserveCapacity(buffer.count + 64)
        var previous: UInt8 = 0
        for byte in buffer[firstBare...] {
            if byte == .lf, previous != .cr { out.append(.cr) }
            out.append(byte)
            previous = byte
        }
        return out
    }

    /// The offset of the first LF without a CR before it. memchr finds the line ends: this runs
    /// over every message received, twice, and a loop over each byte cost as much as hashing it.
    static func firstBareLF(_ buffer: UnsafeBufferPointer<UInt8>) -> Int? {
        var from = 0
        while let at = nextLF(in: buffer, from: from) {
            if at == 0 || buffer[at - 1] != .cr { return at }
            from = at + 1
        }
        return nil
    }

    /// The offset of the next LF at or after `from`.
    static func nextLF(in buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard let base = buffer.baseAddress, from < buffer.count, let found = memchr(base + from, 0x0A, buffer.count - from) else {
            return nil
        }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// "relaxed" header canonicalisation (RFC 6376 §3.4.2) of one field, CRLF-terminated:
    /// the name in lower case without white space before the colon; the value unfolded (CRLFs
    /// removed), runs of SP/HTAB turned into one SP, white space at its start and end removed.
    ///
    ///     relaxedHeader(name: "B ", value: " Y\t\r\n\tZ  ") == "b:Y Z\r\n"
    public static func relaxedHeader(name: some Collection<UInt8>, value: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(name.count + value.count + 3)
        for byte in name where !byte.isWSP { out.append(byte.asciiLowercased) }
        out.append(.colon)
        var pendingSpace = false
        var sawContent = false
        var previousCR = false
        for byte in value {
            if previousCR {
                previousCR = false
                if byte == .lf { continue }  // drop the CRLF of a fold
                appendContent(.cr)
            }
            if byte == .cr {
                previousCR = true
            } else if byte.isWSP || byte == .lf {
                pendingSpace = sawContent
            } else {
                appendContent(byte)
            }
        }
        if previousCR { appendContent(.cr) }
        out.append(.cr)
        out.append(.lf)
        return out

        func appendContent(_ byte: UInt8) {
            if pendingSpace { out.append(.space) }
            pendingSpace = false
            sawContent = true
            out.append(byte)
        }
    }

    /// "relaxed" canonicalisation of a parsed field; nil for a malformed line (nothing to sign).
    public static func relaxedHeader(_ field: DKIMHeaderField) -> [UInt8]? {
        guard let name = field.name else { return nil }
        return relaxedHeader(name: name, value: field.value)
    }

    /// "simple" header canonicalisation (RFC 6376 §3.4.1): the field unchanged.
    public static func simpleHeader(_ field: DKIMHeaderField) -> [UInt8] {
        field.raw
    }

    /// "relaxed" body canonicalisation (RFC 6376 §3.4.4): white space at line ends removed, runs
    /// of SP/HTAB inside lines turned into one SP, empty lines at the end removed, a missing
    /// final CRLF added. An empty body (or one of only empty lines) canonicalises to nothing —
    /// RFC 6376 §3.4.4 and erratum 1384; dkimpy and OpenDKIM agree.
    public static func relaxedBody(_ body: some Collection<UInt8>) -> [UInt8] {
        let body = crlfLineEnds(body)
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 2)
        // Every signed message and most verified ones go through here. Most lines need no
        // change (no tab, no run of spaces, no space at the end): the lines between those
        // that do are copied whole, and only those are relaxed byte by byte.
        body.withUnsafeBufferPointer { buffer in
            var index = 0
            while index < buffer.count {
                let at = nextToRelax(in: buffer, from: index)
                guard at < buffer.count else {
                    out.append(contentsOf: buffer[index...])
                    break
                }
                var lineStart = at
                while lineStart > index, buffer[lineStart - 1] != .lf { lineStart -= 1 }
                out.append(contentsOf: buffer[index..<lineStart])
                // After crlfLineEnds every LF has its CR: a line's content ends before it.
                let lf = nextLF(in: buffer, from: at)
                var pendingSpace = false
                var hasContent = false
                for byte in buffer[lineStart..<(lf.map { $0 - 1 } ?? buffer.count)] {
                    if byte.isWSP {
                        pendingSpace = true
                        continue
                    }
                    if pendingSpace { out.append(.space) }
                    pendingSpace = false
                    hasContent = true
                    out.append(byte)
                }
                // A line of only white space is an empty line; the body's last line, without
                // a CRLF of its own, gets one if anything is left of it.
                if lf != nil || hasContent { out.append(contentsOf: [.cr, .lf]) }
                index = lf.map { $0 + 1 } ?? buffer.count
            }
        }
        // The last line keeps or gets its CRLF; the empty lines after it go, and a body of
        // nothing else is empty.
        if let last = out.last, last != .lf { out.append(contentsOf: [.cr, .lf]) }
        while out.count >= 4, out.suffix(4).elementsEqual([.cr, .lf, .cr, .lf]) { out.removeLast(2) }
        if out == [.cr, .lf] { out = [] }
        return out
    }

    /// The offset, at or after `from`, of the first byte that may make relaxing change its
    /// line: a tab, a space before a space or a CR, a space that ends the body; the count when
    /// there is none. Eight bytes at a time: bit tricks on a 64-bit word tell a chunk with none
    /// of these (they never miss one; a chunk they flag is looked at byte by byte).
    static func nextToRelax(in buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        guard let base = buffer.baseAddress else { return buffer.count }
        let raw = UnsafeRawPointer(base)
        let n = buffer.count
        var i = from
        while i < n {
            if i + 9 <= n {
                let here = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let after = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 1, as: UInt64.self))
                let spaceBefore = zeroBytes(here ^ spaces) & (zeroBytes(after ^ spaces) | zeroBytes(after ^ crs))
                if zeroBytes(here ^ tabs) | spaceBefore == 0 {
                    i += 8
                    continue
                }
            }
            for j in i..<min(i + 8, n) {
                let byte = buffer[j]
                if byte == .tab { return j }
                if byte == .space, j + 1 == n || buffer[j + 1] == .space || buffer[j + 1] == .cr { return j }
            }
            i += 8
        }
        return n
    }

    private static let tabs: UInt64 = 0x0909_0909_0909_0909
    private static let spaces: UInt64 = 0x2020_2020_2020_2020
    private static let crs: UInt64 = 0x0D0D_0D0D_0D0D_0D0D

    /// The high bit of every byte of `v` that is zero, and perhaps of some bytes above one that
    /// is (a borrow): never a zero byte missed.
    private static func zeroBytes(_ v: UInt64) -> UInt64 {
        (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080
    }

    /// "simple" body canonicalisation (RFC 6376 §3.4.3): empty lines at the end removed, an
    /// empty body becomes one CRLF, a missing final CRLF added.
    public static func simpleBody(_ body: some Collection<UInt8>) -> [UInt8] {
        var out = crlfLineEnds(body)
        while out.count >= 2, out[out.count - 2] == .cr, out[out.count - 1] == .lf { out.removeLast(2) }
        out.append(contentsOf: [.cr, .lf])
        return out
    }
}
