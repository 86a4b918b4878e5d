import AdminClient
import ArgumentParser
import Foundation
import Storage

struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "The message store on disk.",
        subcommands: [Sweep.self])

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
            let r = try await client.call(.POST, "/api/v1/storage/sweep", as: BlobSweepReport.self)
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
