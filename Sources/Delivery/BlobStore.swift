import Crypto
import Foundation
import MailCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Message bytes on the filesystem, named by their SHA-256 (`blobs/ab/cdef…`). A blob is
/// written to a temporary file, fsynced, renamed into place and its directory fsynced, so it is
/// on stable storage before any metadata refers to it.
public struct BlobStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Orders "this file exists, and is now fresh" in ``put(_:)`` against the sweeper's "this
    /// file is old, remove it": a delivery reusing a file never sees it vanish before its commit.
    private static let reuseLock = Mutex(())

    public static func hash(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).lowercaseHex
    }

    public func path(of hash: String) -> String {
        "\(root)/\(hash.prefix(2))/\(hash.dropFirst(2))"
    }

    /// Stores `bytes` durably and returns their hash. Storing the same bytes again is free.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> String {
        let hash = Self.hash(bytes)
        let final = path(of: hash)
        // Reusing a file marks it fresh (mtime now), so the sweeper leaves it alone while the
        // delivery that reuses it has not committed yet.
        if Self.reuse(final) { return hash }
        let dir = "\(root)/\(hash.prefix(2))"
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            guard errno == ENOENT else { throw BlobError.io("mkdir \(dir)", errno) }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let tmp = "\(dir)/.tmp-\(hash.dropFirst(2))-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BlobError.io("create \(tmp)", errno) }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        var written = 0
        try bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = errno
                    close(fd)
                    throw BlobError.io("write \(tmp)", e)
                }
                written += n
            }
        }
        guard fsync(fd) == 0 else {
            let e = errno
            close(fd)
            throw BlobError.io("fsync \(tmp)", e)
        }
        close(fd)
        guard rename(tmp, final) == 0 else { throw BlobError.io("rename \(tmp)", errno) }
        ok = true
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            defer { close(dfd) }
            guard fsync(dfd) == 0 else { throw BlobError.io("fsync \(dir)", errno) }
        }
        return hash
    }

    /// Marks an existing blob file fresh, if there is one (see ``put(_:)``).
    static func reuse(_ final: String) -> Bool {
        reuseLock.withLock { _ in utimensat(AT_FDCWD, final, nil, 0) == 0 }
    }

    public enum Removal: Sendable, Equatable {
        case removed(bytes: Int64)
        /// Written or reused after the cut-off: perhaps about to be referred to again.
        case recent
        case absent
    }

    /// Removes a blob's file unless it was written or reused at or after `cutoff`.
    public func remove(_ hash: String, unlessTouchedSince cutoff: Date) throws -> Removal {
        try Self.reuseLock.withLock { _ in try Self.removeFile(path(of: hash), unlessTouchedSince: cutoff) }
    }

    /// Removes a temporary file left by an interrupted write, unless modified at or after
    /// `cutoff`. No lock: nothing reuses a temporary file.
    public func removeTemporary(_ file: String, unlessTouchedSince cutoff: Date) throws -> Removal {
        try Self.removeFile(file, unlessTouchedSince: cutoff)
    }

    private static func removeFile(_ file: String, unlessTouchedSince cutoff: Date) throws -> Removal {
        var st = stat()
        guard stat(file, &st) == 0 else {
            if errno == ENOENT { return .absent }
            throw BlobError.io("stat \(file)", errno)
        }
        let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        if modified >= cutoff.timeIntervalSince1970 { return .recent }
        guard unlink(file) == 0 else {
            if errno == ENOENT { return .absent }
            throw BlobError.io("unlink \(file)", errno)
        }
        return .removed(bytes: Int64(st.st_size))
    }

    /// The blob files and leftover temporary files in one of the 256 directories (`00`…`ff`).
    public func files(in directory: String) -> (blobs: [String], temporary: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(directory)") else { return ([], []) }
        var blobs: [String] = []
        var temporary: [String] = []
        for name in names {
            if name.hasPrefix(".tmp-") {
                temporary.append("\(root)/\(directory)/\(name)")
            } else if name.count == 62, name.allSatisfy(\.isHexDigit) {
                blobs.append(directory + name)
            }
        }
        return (blobs, temporary)
    }


    public func get(_ hash: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(of: hash)) else { throw BlobError.missing(hash) }
        return Array(data)
    }
}

public enum BlobError: Error, CustomStringConvertible {
    case io(String, Int32)
    case missing(String)

    public var description: String {
        switch self {
        case .io(let what, let e): return "\(what): \(String(cString: strerror(e)))"
        case .missing(let h): return "blob \(h) is missing"
        }
    }
}
