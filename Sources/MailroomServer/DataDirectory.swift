import Crypto
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// The data folder and what lives in it:
///
/// ```
/// mailroom.db (+ -wal, -shm)   SQLite database, WAL mode
/// blobs/                       message bytes by content hash
/// tls/cert.pem, tls/key.pem    generated self-signed certificate (when none is configured)
/// admin-token                  the local server-admin token (mode 0600)
/// admin-url                    where the running server's admin API listens (for the CLI)
/// mailroom.lock                held by the running server
/// ```
public struct DataDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = URL(fileURLWithPath: path).standardizedFileURL.path
    }

    public var databasePath: String { path + "/mailroom.db" }
    public var blobsPath: String { path + "/blobs" }
    public var certPath: String { path + "/tls/cert.pem" }
    public var keyPath: String { path + "/tls/key.pem" }
    public var tokenPath: String { path + "/admin-token" }
    public var adminURLPath: String { path + "/admin-url" }
    public var lockPath: String { path + "/mailroom.lock" }

    /// Creates the folder (owner-only) and its sub-folders.
    public func create() throws {
        let fm = FileManager.default
        for dir in [path, blobsPath, path + "/tls"] {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ServerError("cannot create the data folder \(dir): \(error.localizedDescription) — choose another with --data-dir")
            }
        }
    }

    /// Takes the data folder's lock for this process's lifetime; a second server on the same
    /// folder gets a clear refusal instead of a corrupted database. `task` names what needs
    /// the folder to itself when that is not serving (an offline maintenance command).
    public func lock(for task: String? = nil) throws -> DataLock {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServerError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            let pid = holder.isEmpty ? "unknown" : holder
            if let task {
                throw ServerError("the Mailroom server (pid \(pid)) is running on \(path): stop it, \(task), then start it again")
            }
            throw ServerError(
                "another Mailroom server (pid \(pid)) is already using the data folder \(path) — "
                    + "stop it first, or start this one with another --data-dir")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        return DataLock(fd: fd)
    }

    /// The pid of the server that holds the lock, read without taking it (a probe that locked,
    /// however briefly, could make a server starting at that moment refuse): the pid the lock
    /// file names, when that process is alive.
    public func runningServerPID() -> Int32? {
        guard let text = try? String(contentsOfFile: lockPath, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0 || errno == EPERM
        else { return nil }
        return pid
    }

    /// The secret that keys SRS addresses (``SRS``): made on first start, kept, so that
    /// bounces to addresses made before a restart are still recognised.
    public func srsSecret() throws -> [UInt8] {
        let file = path + "/srs-secret"
        if let text = try? String(contentsOfFile: file, encoding: .utf8), let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            data.count >= 32
        {
            return Array(data)
        }
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255) }
        try writePrivate(Data(secret).base64EncodedString() + "\n", to: file)
        return secret
    }

    /// Writes `contents` to `file` readable only by the owner, atomically.
    public func writePrivate(_ contents: String, to file: String) throws {
        let tmp = file + ".tmp"
        FileManager.default.createFile(atPath: tmp, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o600])
        guard chmod(tmp, 0o600) == 0, rename(tmp, file) == 0 else {
            throw ServerError("cannot write \(file): \(String(cString: strerror(errno)))")
        }
    }

    /// The certificate and key to use for TLS: the configured files, or the generated pair
    /// (made on first start). Returns PEM texts and whether they were generated now.
    public func tlsMaterial(certFile: String?, keyFile: String?, hostname: String) throws -> (cert: String, key: String, generated: Bool) {
        if let certFile, let keyFile {
            do {
                return (try String(contentsOfFile: certFile, encoding: .utf8), try String(contentsOfFile: keyFile, encoding: .utf8), false)
            } catch {
                throw ServerError("cannot read the TLS certificate or key (\(certFile), \(keyFile)): \(error.localizedDescription)")
            }
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: certPath), fm.fileExists(atPath: keyPath) {
            return (try String(contentsOfFile: certPath, encoding: .utf8), try String(contentsOfFile: keyPath, encoding: .utf8), false)
        }
        let (cert, key) = try Self.selfSigned(hostname: hostname)
        try writePrivate(key, to: keyPath)
        try writePrivate(cert, to: certPath)
        return (cert, key, true)
    }

    /// A P-256 self-signed certificate for `hostname`, `localhost`, 127.0.0.1 and ::1, valid ten years.
    static func selfSigned(hostname: String) throws -> (cert: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName(hostname)
            OrganizationName("Mailroom (self-signed)")
        }
        var names: [GeneralName] = [.dnsName(hostname)]
        if hostname != "localhost" { names.append(.dnsName("localhost")) }
        names.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
        names.append(.ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])))
        let extensions = try Certificate.Extensions {
            // Marked as its own CA (as `openssl req -x509` does), so that clients given this file as
            // a trust root (curl --cacert, mailroom --ca) accept it.
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(names)
        }
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(key))
        return (try cert.serializeAsPEM().pemString + "\n", key.pemRepresentation + "\n")
    }
}

/// Held while the server runs; the kernel releases the lock if the process dies.
public final class DataLock: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

public struct ServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
