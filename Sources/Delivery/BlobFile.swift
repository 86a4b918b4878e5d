import Foundation
import MIME

#if canImport(Glibc)
    import Glibc
#endif

/// A stored message read a window at a time, so that parsing it or sending it costs a window of
/// memory, not the message: the header prefix delivery added (in memory) followed by its blob
/// file. Offsets are from the message's first byte, as IMAP sees the message.
///
/// One thread at a time (the connection's queue): the window moves as it is read.
public final class BlobFile: MIMEBytes {
    public let prefix: [UInt8]
    public let fileSize: Int
    private let fd: Int32
    private let path: String
    private var window: [UInt8] = []
    /// The message offset of `window[0]`.
    private var windowStart = 0
    /// The first read that failed: what was read after it is not the message.
    public private(set) var error: BlobError?
    static let windowSize = 64 * 1024

    /// Opens `path`; a missing file is ``BlobError/missing(_:)`` with `hash`.
    public init(path: String, hash: String, prefix: [UInt8] = []) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw errno == ENOENT ? BlobError.missing(hash) : BlobError.io("open \(path)", errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw BlobError.io("stat \(path)", e)
        }
        self.fd = fd
        self.path = path
        self.prefix = prefix
        self.fileSize = Int(st.st_size)
        window.reserveCapacity(Self.windowSize)
    }

    deinit { close(fd) }

    public var count: Int { prefix.count + fileSize }

    public subscript(_ position: Int) -> UInt8 {
        if position < prefix.count { return prefix[position] }
        if position < windowStart || position >= windowStart + window.count {
            // A little before the position too: the parser looks back a byte or two (a CR
            // before an LF, trailing white space).
            load(from: max(prefix.count, position - 256))
        }
        let i = position - windowStart
        return i < window.count ? window[i] : 0
    }

    public func firstLF(from: Int, to: Int) -> Int? {
        var pos = from
        while pos < min(to, prefix.count) {
            if prefix[pos] == 0x0A { return pos }
            pos += 1
        }
        while pos < to {
            if pos < windowStart || pos >= windowStart + window.count { load(from: pos) }
            let end = min(to, windowStart + window.count)
            guard end > pos else { return nil }
            let found: Int? = window.withUnsafeBytes { raw in
                let base = raw.baseAddress! + (pos - windowStart)
                guard let hit = memchr(base, 0x0A, end - pos) else { return nil }
                return pos + (UnsafeRawPointer(hit) - UnsafeRawPointer(base))
            }
            if let found { return found }
            pos = end
        }
        return nil
    }

    public func countLF(in range: Range<Int>) -> Int {
        var n = 0
        var pos = range.lowerBound
        while let lf = firstLF(from: pos, to: range.upperBound) {
            n += 1
            pos = lf + 1
        }
        return n
    }

    public func copyBytes(_ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        read(range, chunk: Self.windowSize) { out += $0 }
        return out
    }

    /// Hands the octets of `range` to `body` in pieces of at most `chunk` octets, in order,
    /// reading the file as it goes (not through the parser's window).
    public func read(_ range: Range<Int>, chunk: Int, _ body: ([UInt8]) throws -> Void) rethrows {
        var pos = range.lowerBound
        if pos < prefix.count {
            let end = min(range.upperBound, prefix.count)
            try body(Array(prefix[pos..<end]))
            pos = end
        }
        var buffer = [UInt8](repeating: 0, count: min(chunk, max(0, range.upperBound - pos)))
        while pos < range.upperBound {
            let n = min(chunk, range.upperBound - pos)
            let got = pread(into: &buffer, n, at: pos - prefix.count)
            if got < n {
                // The file is shorter than it was, or unreadable: what follows is not the message.
                buffer.withUnsafeMutableBytes { raw in _ = memset(raw.baseAddress! + got, 0, n - got) }
            }
            try body(n == buffer.count ? buffer : Array(buffer[..<n]))
            pos += n
        }
    }

    /// Whether `range` holds a NUL (a BINARY literal that has one is sent as `~{n}`).
    public func containsNUL(_ range: Range<Int>) -> Bool {
        var found = false
        read(range, chunk: Self.windowSize) { piece in
            if !found { found = piece.withUnsafeBytes { memchr($0.baseAddress!, 0, $0.count) != nil } }
        }
        return found
    }

    private func load(from position: Int) {
        windowStart = position
        window.removeAll(keepingCapacity: true)
        let n = min(Self.windowSize, count - position)
        guard n > 0 else { return }
        window.append(contentsOf: repeatElement(0, count: n))
        let got = pread(into: &window, n, at: position - prefix.count)
        if got < n { window.removeSubrange(got...) }
    }

    /// Reads up to `n` octets at file offset `offset` into `buffer`; returns how many it read.
    private func pread(into buffer: inout [UInt8], _ n: Int, at offset: Int) -> Int {
        var done = 0
        buffer.withUnsafeMutableBytes { raw in
            while done < n {
                let r = Glibc.pread(fd, raw.baseAddress! + done, n - done, off_t(offset + done))
                if r < 0 && errno == EINTR { continue }
                if r < 0 {
                    if error == nil { error = .io("read \(path)", errno) }
                    return
                }
                if r == 0 {
                    if error == nil { error = .io("read \(path): the file is shorter than it was", EIO) }
                    return
                }
                done += r
            }
        }
        return done
    }
}

extension BlobStore {
    /// A stored blob file, to read in windows.
    public func file(_ hash: String, prefix: [UInt8] = []) throws -> BlobFile {
        try BlobFile(path: path(of: hash), hash: hash, prefix: prefix)
    }
}
