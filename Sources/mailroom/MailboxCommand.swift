import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct MailboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox",
        abstract: "Import an account's mail from an mbox file or a Maildir, or export it to one.",
        discussion: """
            The server reads and writes PATH on its own machine (a relative PATH is made absolute \
            here, so run the command there, or give the server's path). Server admins only. See \
            docs/migration.md, "Mailbox files".
            """,
        subcommands: [Import.self, Export.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Import an mbox file or a Maildir (a folder with cur/ and new/) into ADDRESS, with flags and dates.",
            discussion: """
                Messages go to --folder (default INBOX); a Maildir's subfolders (.Name) go to folders of \
                their own names. Folders are made as needed. A message that is too big, empty or over \
                the quota is reported and skipped; the others are imported.
                """)
        @Argument(help: "The account.") var address: String
        @Argument(help: "The mbox file or Maildir folder.") var path: String
        @Option(help: "The folder to import into.") var folder: String?
        @Option(
            name: .customLong("mbox-variant"),
            help: "mboxrd (default: one '>' is taken off '>From ' lines) or mboxo (kept).")
        var mboxVariant: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            let v = try await client.call(API.postAccountMailboxImport, [address],
                body: MailboxImportRequest(path: absolute, folder: folder, mboxVariant: mboxVariant))
            guard !client.json else { return }
            for f in v.folders { print("\(f.name): \(f.messages) imported") }
            for r in v.refused { print("refused \(r.folder) \(r.item): \(r.reason)") }
            if !v.refused.isEmpty { throw CLIError("\(v.refused.count) message(s) not imported; the others were") }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Export ADDRESS's mail to a new mbox file (one folder, default INBOX) or Maildir (every folder, or --folder)."
        )
        @Argument(help: "The account.") var address: String
        @Option(help: "mbox (mboxrd) or maildir.") var format: String
        @Option(help: "The new file or folder; it must not exist.") var output: String
        @Option(help: "Only this folder.") var folder: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let absolute = URL(fileURLWithPath: output).standardizedFileURL.path
            let v = try await client.call(API.postAccountMailboxExport, [address],
                body: MailboxExportRequest(path: absolute, format: format, folder: folder))
            guard !client.json else { return }
            for f in v.folders { print("\(f.name): \(f.messages) exported") }
            print("Written to \(absolute).")
        }
    }
}
