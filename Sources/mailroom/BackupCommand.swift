import AdminClient
import AdminModels
import ArgumentParser
import Delivery
import Foundation

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back the server up while it runs; list, verify and restore backups.",
        discussion: """
            A backup folder holds one folder per backup (named for its UTC time) with a consistent copy \
            of the database, and the message files in blobs/, shared by its backups: a file an earlier \
            backup holds is not copied again. See docs/migration.md.
            """,
        subcommands: [Create.self, List.self, Verify.self, Restore.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up the running server into DIR (on the server's machine); mail keeps arriving meanwhile.",
            discussion: "Server admins only.")
        @Argument(help: "The backup folder.") var dir: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let absolute = URL(fileURLWithPath: dir).standardizedFileURL.path
            let b = try await client.call(API.postBackups, body: BackupRequest(dir: absolute))
            guard !client.json else { return }
            print("Backup \(b.name) in \(absolute): database \(b.databaseBytes) bytes, \(b.files) message files (\(b.filesCopied) copied, \(b.filesReused) held already).")
            print("Check it with `mailroom backup verify \(absolute)`.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The backups in DIR, oldest first.")
        @Argument var dir: String

        func run() async throws {
            let backups = try BackupFolder.list(dir)
            guard !backups.isEmpty else { return print("No finished backup in \(dir).") }
            printTable(
                ["BACKUP", "DATABASE", "FILES", "COPIED"],
                backups.map { [$0.name, "\($0.databaseBytes)", "\($0.files)", "\($0.filesCopied)"] })
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every backup in DIR (or one): the database's integrity, and every message against its hash.")
        @Argument var dir: String
        @Option(help: "Only this backup.") var backup: String?

        func run() async throws {
            let names = try backup.map { [$0] } ?? BackupFolder.list(dir).map(\.name)
            guard !names.isEmpty else { throw CLIError("no finished backup in \(dir)") }
            var bad = 0
            for name in names {
                let problems = try BackupFolder.verify(dir, backup: name)
                print("\(name): " + (problems.isEmpty ? "whole" : "\(problems.count) problem(s)"))
                for p in problems.prefix(20) { print("  \(p)") }
                bad += problems.isEmpty ? 0 : 1
            }
            if bad > 0 { throw CLIError("\(bad) backup(s) are not whole") }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new data folder from a backup (the newest unless --backup); then start a server on it.")
        @Argument var dir: String
        @Option(help: "Which backup (default: the newest).") var backup: String?
        @Option(name: .customLong("data-dir"), help: "The new data folder: it must be empty or not exist.") var dataDir: String

        func run() async throws {
            guard let name = try backup ?? BackupFolder.list(dir).last?.name else { throw CLIError("no finished backup in \(dir)") }
            do {
                let files = try BackupFolder.restore(dir, backup: name, into: dataDir)
                print("Restored \(name) into \(dataDir) (\(files) message files). Start it with `mailroom serve --data-dir \(dataDir)`.")
            } catch { throw CLIError("\(error)") }
        }
    }
}
