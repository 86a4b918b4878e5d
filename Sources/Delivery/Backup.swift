import Directory
import Foundation
import GRDB
import MailCore
import Storage
import Synchronization

/// Backups while the server runs: each one a folder named for its time in the backup folder,
/// holding a consistent copy of the database, and the message files it names in the backup
/// folder's own `blobs/` (content-addressed like the data folder's, so a file an earlier backup
/// holds is not copied again). Sweeps wait while a backup runs: a file the copied database names
/// must still be there to copy.
extension LocalDelivery {
    public func backup(into dir: String, actor: AdminActor, now: Date = Date()) throws -> BackupView {
        try directory.requireServerAdmin(actor, "back up the server")
        guard dir.hasPrefix("/") else { throw AdminError.invalid("invalid_dir", "give the backup folder as an absolute path") }
        return try Self.sweeping.withLock { _ in
            // Named for its time; a second backup within the same second gets -2, -3…
            var name = BackupFolder.name(for: now)
            var folder = "\(dir)/\(name)"
            var n = 1
            while FileManager.default.fileExists(atPath: folder) {
                n += 1
                name = BackupFolder.name(for: now) + "-\(n)"
                folder = "\(dir)/\(name)"
            }
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw AdminError.invalid("invalid_dir", "cannot create \(folder): \(error.localizedDescription)")
            }
            let database = "\(folder)/\(BackupFolder.database)"
            let hashes = try store.backup(to: database)
            let target = BlobStore(root: "\(dir)/blobs")
            var (copied, reused) = (0, 0)
            for hash in hashes {
                if FileManager.default.fileExists(atPath: target.path(of: hash)) {
                    reused += 1
                    continue
                }
                // put() writes durably and hashes again: a file that changed on disk is caught now.
                let bytes = try blobs.get(hash)
                guard try target.put(bytes) == hash else {
                    throw AdminError.invalid("corrupt_message_file", "the message file \(hash) does not match its hash; run `mailroom storage show`")
                }
                copied += 1
            }
            // The SRS key travels too: bounces to addresses made before a restore still count.
            let dataDir = URL(fileURLWithPath: blobs.root).deletingLastPathComponent().path
            if let secret = FileManager.default.contents(atPath: "\(dataDir)/\(BackupFolder.srsSecret)") {
                try secret.write(to: URL(fileURLWithPath: "\(folder)/\(BackupFolder.srsSecret)"), options: .atomic)
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: database)[.size] as? Int) ?? 0
            let view = BackupView(name: name, createdAt: now, databaseBytes: size ?? 0, files: hashes.count, filesCopied: copied, filesReused: reused)
            try BackupFolder.writeManifest(view, in: folder)
            return view
        }
    }
}

extension LocalDelivery {
    /// Keeps the newest `keep` finished backups in `dir` and removes the rest, then the message
    /// files no remaining backup names. Under the same lock as backups and sweeps: a backup
    /// being written is never pruned, nor a file it is about to reuse.
    @discardableResult
    public func pruneBackups(in dir: String, keep: Int) throws -> (backups: Int, files: Int) {
        try Self.sweeping.withLock { _ in
            let fm = FileManager.default
            let backups = try BackupFolder.list(dir)
            let removed = backups.dropLast(max(0, keep))
            for b in removed { try fm.removeItem(atPath: "\(dir)/\(b.name)") }
            guard !removed.isEmpty else { return (0, 0) }
            var named = Set<String>()
            for b in backups.suffix(max(0, keep)) {
                let queue = try DatabaseQueue(path: "\(dir)/\(b.name)/\(BackupFolder.database)", configuration: BackupFolder.readOnly)
                named.formUnion(try queue.read { db in try String.fetchAll(db, sql: "SELECT hash FROM blobs WHERE data IS NULL") })
                try queue.close()
            }
            var files = 0
            let root = "\(dir)/blobs"
            for prefix in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where prefix.count == 2 {
                for rest in (try? fm.contentsOfDirectory(atPath: "\(root)/\(prefix)")) ?? [] where !named.contains(prefix + rest) {
                    try fm.removeItem(atPath: "\(root)/\(prefix)/\(rest)")
                    files += 1
                }
            }
            return (removed.count, files)
        }
    }
}

/// A backup folder read without a server: listed, verified, restored.
public enum BackupFolder {
    static let database = "mailroom.db"
    static let manifest = "backup.json"
    static let srsSecret = "srs-secret"

    static func name(for date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: date)
    }

    /// Written last: a folder without it is an unfinished backup.
    static func writeManifest(_ view: BackupView, in folder: String) throws {
        let data = try JSONConventions.encoder().encode(view)
        try data.write(to: URL(fileURLWithPath: "\(folder)/\(manifest)"), options: .atomic)
    }

    /// The finished backups in `dir`, oldest first.
    public static func list(_ dir: String) throws -> [BackupView] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "blobs" }.sorted()
        return names.compactMap { name in
            (try? Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)/\(manifest)"))).flatMap { try? JSONConventions.decoder().decode(BackupView.self, from: $0) }
        }
    }

    /// Every problem found: a database that fails SQLite's integrity check, a message (file or
    /// stored inline) missing or not matching its hash. Empty when the backup is whole.
    public static func verify(_ dir: String, backup name: String) throws -> [String] {
        var problems: [String] = []
        let queue = try DatabaseQueue(path: "\(dir)/\(name)/\(database)", configuration: readOnly)
        defer { try? queue.close() }
        let integrity = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        if integrity != ["ok"] { problems += integrity.prefix(10).map { "database: \($0)" } }
        let blobs = BlobStore(root: "\(dir)/blobs")
        try queue.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT hash, data FROM blobs")
            while let row = try rows.next() {
                let hash: String = row["hash"]
                let bytes: [UInt8]? = (row["data"] as Data?).map { Array($0) } ?? (try? blobs.get(hash))
                guard let bytes else {
                    problems.append("message \(hash): its file is missing")
                    continue
                }
                if BlobStore.hash(bytes) != hash { problems.append("message \(hash): its bytes do not match their hash") }
            }
        }
        return problems
    }

    /// Makes `dataDir` (which must be empty or not exist) a data folder holding the backup:
    /// the database and every message file it names. Verify first.
    public static func restore(_ dir: String, backup name: String, into dataDir: String) throws -> Int {
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: dataDir), !existing.isEmpty {
            throw AdminError.invalid("not_empty", "\(dataDir) is not empty: restore into a new folder, then point the server at it")
        }
        try fm.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let source = try DatabaseQueue(path: "\(dir)/\(name)/\(database)", configuration: readOnly)
        defer { try? source.close() }
        let restored = try DatabaseQueue(path: "\(dataDir)/\(database)")
        try source.backup(to: restored)
        try restored.close()
        let hashes = try source.read { db in try String.fetchAll(db, sql: "SELECT hash FROM blobs WHERE data IS NULL") }
        let from = BlobStore(root: "\(dir)/blobs")
        let to = BlobStore(root: "\(dataDir)/blobs")
        for hash in hashes { try to.put(try from.get(hash)) }
        if let secret = fm.contents(atPath: "\(dir)/\(name)/\(srsSecret)") {
            guard fm.createFile(atPath: "\(dataDir)/\(srsSecret)", contents: secret, attributes: [.posixPermissions: 0o600]) else {
                throw AdminError.invalid("write_failed", "cannot write \(dataDir)/\(srsSecret)")
            }
        }
        return hashes.count
    }

    static var readOnly: Configuration {
        var c = Configuration()
        c.readonly = true
        return c
    }
}
