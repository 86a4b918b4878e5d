import AdminModels
import AdminClient
import ArgumentParser
import Delivery
import Directory
import Foundation
import MIME
import MailroomServer
import Storage

struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "The message store on disk.",
        subcommands: [Show.self, Sweep.self, Compact.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How much the message store holds, and what a sweep or compaction would give back.",
            discussion: "Server admins only.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let u = try await client.call(API.getStorage)
            guard !client.json else { return }
            print("database (mailroom.db)   \(byteText(u.databaseBytes)), of which free inside: \(byteText(u.freeBytes))")
            print("mailbox entries          \(u.mailboxEntries)")
            print("stored messages          \(u.storedMessages) (each stored once, however many mailboxes hold it)")
            print("  inside the database    \(byteText(u.inlineBytes))")
            print("  files in blobs/        \(u.files) (\(byteText(u.fileBytes)))")
            if u.awaitingRemoval > 0 {
                print("files a sweep removes    \(u.awaitingRemoval) (unreferenced; waiting out the 10-minute grace)")
            }
            if u.sweptRecords > 0 {
                print("swept messages           \(u.sweptRecords): their words stay in the search index until `mailroom storage compact`")
            }
            if u.indexBacklog > 0 {
                print("waiting to be indexed    \(u.indexBacklog) (the background indexer adds them; SEARCH reads them directly meanwhile)")
            }
        }
    }

    struct Sweep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Free the space of messages nothing refers to any more.",
            discussion: """
                Expunged messages, deleted mailboxes and accounts, delivered queue entries and \
                moderated messages leave bytes behind until a sweep. The server sweeps every hour \
                ([storage] sweep_interval); this runs one now. Files written or reused in the last \
                10 minutes wait for a later sweep. Server admins only.
                """)
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.postStorageSweep)
            guard !client.json else { return }
            print("unreferenced messages found: \(r.unreferenced)")
            print("files removed: \(r.filesRemoved) (\(byteText(r.fileBytesFreed)))")
            print("freed inside the database: \(byteText(r.inlineBytesFreed)) (reused by new mail; the file shrinks only with VACUUM)")
            if r.strayFilesRemoved > 0 {
                print("files of interrupted deliveries removed: \(r.strayFilesRemoved) (\(byteText(r.strayBytesFreed)))")
            }
            if r.filesKept > 0 { print("files kept for a later sweep (written or reused in the last 10 minutes): \(r.filesKept)") }
        }
    }
}

extension StorageCommand {
    struct Compact: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the search index and shrink the database (with the server stopped).",
            discussion: """
                Sweeps as `storage sweep` does, builds the full-text search index afresh from the \
                messages still stored (the index keeps the words of deleted mail until then), \
                deletes the records of swept messages and rewrites mailroom.db without its free \
                space. Run it with the server stopped, as the user that runs it: it needs the \
                data folder to itself and refuses while the server runs. It takes about a minute \
                per 100,000 messages and needs free disk space the size of mailroom.db.
                """)

        @Option(name: .long, help: ArgumentHelp("Server config file (or MAILROOM_CONFIG); finds the data folder.", valueName: "file"))
        var config: String?

        @Option(name: .long, help: ArgumentHelp("Data folder (default ./mailroom-data); overrides the config.", valueName: "dir"))
        var dataDir: String?

        func run() throws {
            var cfg = ServerConfig()
            if let file = config ?? ProcessInfo.processInfo.environment["MAILROOM_CONFIG"] {
                do { cfg = try ServerConfig.load(file: file) } catch { throw CLIError("\(error)") }
            }
            let dir = DataDirectory(path: dataDir ?? cfg.dataDir)
            guard FileManager.default.fileExists(atPath: dir.databasePath) else {
                throw CLIError("no database at \(dir.databasePath): give the server's --data-dir or --config")
            }
            MIME.Limits.maxDepth = cfg.mimeMaxDepth
            let report: CompactionReport
            let before = Self.databaseBytes(dir)
            do {
                let lock = try dir.lock(for: "run `mailroom storage compact`")
                defer { withExtendedLifetime(lock) {} }
                let store = try SQLiteStore(path: dir.databasePath)
                let delivery = LocalDelivery(
                    store: store, directory: try DirectoryService(store: store, passwordIterations: cfg.passwordIterations),
                    blobs: BlobStore(root: dir.blobsPath))
                print("compacting \(dir.databasePath) (\(byteText(before)))")
                var shown = 0
                report = try delivery.compact { n in
                    guard n / 20_000 > shown / 20_000 else { return }
                    shown = n
                    print("  \(n) messages indexed")
                }
            } catch let e as ServerError {
                throw CLIError(e.description)
            }
            let s = report.sweep
            print("swept: \(s.unreferenced) unreferenced messages, \(s.filesRemoved + s.strayFilesRemoved) files (\(byteText(s.fileBytesFreed + s.strayBytesFreed)))")
            print("search index rebuilt from \(report.reindexed) messages")
            if !report.unreadable.isEmpty {
                print("left out of the index, their files missing from blobs/: \(report.unreadable.count) (e.g. \(report.unreadable[0]))")
            }
            print("records of swept messages deleted: \(report.rowsRemoved)")
            print("database: \(byteText(before)) → \(byteText(Self.databaseBytes(dir)))")
        }

        /// mailroom.db and its write-ahead log.
        static func databaseBytes(_ dir: DataDirectory) -> Int64 {
            [dir.databasePath, dir.databasePath + "-wal"].reduce(0) { total, file in
                total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) ?? 0)
            }
        }
    }
}

/// Bytes for people: "812 bytes", "3.4 MiB".
func byteText(_ n: Int64) -> String {
    var value = Double(n)
    for unit in ["bytes", "KiB", "MiB", "GiB"] {
        if value < 1024 || unit == "GiB" {
            return unit == "bytes" ? "\(n) bytes" : String(format: "%.1f %@", value, unit)
        }
        value /= 1024
    }
    return "\(n) bytes"
}
