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
        guard let firstBare = firstBareLF(buffer) else { return Array(buffer) }  // mail over SMTP has CRLF already
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
        out.reserveCapacity(body.count)
        // Every signed message and most verified ones go through here: straight into `out`,
        // a line at a time, its end found by memchr.
        body.withUnsafeBufferPointer { buffer in
            var pendingEmptyLines = 0
            var index = 0
            while index < buffer.count {
                // After crlfLineEnds every LF has its CR: a line's content ends before it.
                let lf = nextLF(in: buffer, from: index)
                let end = lf.map { $0 - 1 } ?? buffer.count
                var pendingSpace = false
                var hasContent = false
                for byte in buffer[index..<end] {
                    if byte.isWSP {
                        pendingSpace = true
                        continue
                    }
                    if !hasContent {
                        for _ in 0..<pendingEmptyLines { out.append(contentsOf: [.cr, .lf]) }
                        pendingEmptyLines = 0
                        hasContent = true
                    }
                    if pendingSpace { out.append(.space) }
                    pendingSpace = false
                    out.append(byte)
                }
                if hasContent {
                    out.append(contentsOf: [.cr, .lf])
                } else {
                    pendingEmptyLines += 1
                }
                index = lf.map { $0 + 1 } ?? buffer.count
            }
        }
        return out
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
