import Crypto
import Foundation
import MailCore

#if canImport(Glibc)
    import Glibc
#endif

/// A blob written as it arrives (an IMAP APPEND literal of many megabytes), hashed on the way:
/// a temporary file in the blob store, fsynced and renamed to its hash by ``finish()``, removed
/// by ``abandon()`` (or when dropped unfinished). The temporary file is named `.tmp-…` in one of
/// the store's directories, so the blob sweeper removes it if the server dies mid-upload.
///
/// One thread at a time (the connection's queue).
public final class BlobUpload {
    public let store: BlobStore
    /// Octets written so far.
    public private(set) var size = 0
    private var fd: Int32
    private let temporary: String
    private var hasher = SHA256()
    /// The first write that failed (a full disk): the upload can no longer be finished.
    public private(set) var error: BlobError?
    private var done = false

    public init(store: BlobStore) throws {
        self.store = store
        let dir = "\(store.root)/\(String(format: "%02x", UInt8.random(in: 0...255)))"
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            guard errno == ENOENT else { throw BlobError.io("mkdir \(dir)", errno) }
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        temporary = "\(dir)/.tmp-upload-\(UInt64.random(in: 0...UInt64.max))"
        fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BlobError.io("create \(temporary)", errno) }
    }

    deinit { abandon() }

    /// Where the octets are until ``finish()`` (tests look for leftovers).
    public var temporaryPath: String { temporary }

    /// Appends `bytes`. After a failure it only counts them; ``finish()`` reports the failure.
    public func write(_ bytes: [UInt8]) {
        size += bytes.count
        guard error == nil, !done else { return }
        hasher.update(data: bytes)
        var written = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    error = .io("write \(temporary)", errno)
                    return
                }
                written += n
            }
        }
    }

    /// The octets written, read back (a small upload that will be stored inline).
    public func contents() throws -> [UInt8] {
        if let error { throw error }
        guard let data = FileManager.default.contents(atPath: temporary) else {
            throw BlobError.io("read \(temporary)", EIO)
        }
        return Array(data)
    }

    /// Makes the upload a blob, durably (fsync of the file, rename, fsync of its directory, as
    /// ``BlobStore/put(_:)`` does), and returns its hash. The same bytes stored already are
    /// reused and the upload removed.
    public func finish() throws -> String {
        precondition(!done, "An upload is finished or abandoned once")
        if let error {
            abandon()
            throw error
        }
        let hash = hasher.finalize().lowercaseHex
        let final = store.path(of: hash)
        if BlobStore.reuse(final) {
            abandon()
            return hash
        }
        guard fsync(fd) == 0 else {
            let e = errno
            abandon()
            throw BlobError.io("fsync \(temporary)", e)
        }
        close(fd)
        fd = -1
        let dir = "\(store.root)/\(hash.prefix(2))"
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            let e = errno
            abandon()
            throw BlobError.io("mkdir \(dir)", e)
        }
        guard rename(temporary, final) == 0 else {
            let e = errno
            abandon()
            throw BlobError.io("rename \(temporary)", e)
        }
        done = true
        let dfd = Glibc.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            defer { close(dfd) }
            guard fsync(dfd) == 0 else { throw BlobError.io("fsync \(dir)", errno) }
        }
        return hash
    }

    /// Drops the upload and its temporary file (a cut-off APPEND, a refused one).
    public func abandon() {
        guard !done else { return }
        done = true
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(temporary)
    }
}
