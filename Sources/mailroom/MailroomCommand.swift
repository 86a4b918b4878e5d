import ArgumentParser
import Foundation
import Logging
import MailroomServer
import Storage

@main
struct MailroomCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailroom",
        abstract: "Mailroom: a complete mail server, and the tool to run it.",
        discussion: """
            Start the server with `mailroom serve`. Every other command talks to the running server's admin API: \
            on the server machine it finds the server and its admin token in the data folder (./mailroom-data, \
            or --data-dir / --config); elsewhere give --server URL and --token (or MAILROOM_SERVER and \
            MAILROOM_TOKEN).
            """,
        version: Mailroom.version,
        subcommands: [
            Serve.self, DomainCommand.self, AccountCommand.self, AliasCommand.self, ListCommand.self,
            ResolveCommand.self, TraceCommand.self, QueueCommand.self, DKIMCommand.self, ModerationCommand.self, QuarantineCommand.self,
            DNSCommand.self, DoctorCommand.self, TokenCommand.self, AuditCommand.self, StorageCommand.self, TLSCommand.self,
            BansCommand.self, StatusCommand.self, BackupCommand.self, ImportCommand.self, MailboxCommand.self, MigrateCommand.self, SieveCommand.self,
            RulesCommand.self, WebhookCommand.self,
        ]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server (on built-in defaults when there is no config file).",
        discussion: """
            With no options the server keeps its data in ./mailroom-data and serves the admin API on \
            http://127.0.0.1:8080. SIGTERM or Ctrl-C stops it cleanly. See docs/configuration.md.
            """)

    @Option(name: .long, help: ArgumentHelp("Configuration file (TOML).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Data folder; overrides data_dir in the config.", valueName: "dir"))
    var dataDir: String?

    @Flag(
        name: .long,
        help: "Read and check the configuration (certificates, user, data folder), print what the server would run with, and exit. Binds no port and takes no lock: safe beside the running server.")
    var checkConfig = false

    func run() async throws {
        var cfg: ServerConfig
        do {
            let file = config ?? ProcessInfo.processInfo.environment["MAILROOM_CONFIG"]
            cfg = try file.map(ServerConfig.load(file:)) ?? ServerConfig()
        } catch {
            throw CLIError("\(error)")
        }
        if let dataDir { cfg.dataDir = dataDir }
        if checkConfig {
            let file = config ?? ProcessInfo.processInfo.environment["MAILROOM_CONFIG"] ?? "the built-in defaults"
            do {
                let lines = try ConfigCheck.run(cfg)
                print("Configuration OK: \(file)")
                for line in lines { print("  \(line)") }
            } catch { throw CLIError("\(error)") }
            return
        }
        if let user = cfg.user {
            do { try Privileges.become(user, dataDir: cfg.dataDir) } catch { throw CLIError("\(error)") }
        }
        LogSetup.bootstrap(level: cfg.logLevel, json: cfg.logFormat == .json)
        let logger = Logger(label: "mailroom")
        let server: Mailroom
        do { server = try Mailroom(config: cfg) } catch { throw CLIError("\(error)") }
        let dir = server.dataDir
        let schema = (try? server.store.schemaVersion().last) ?? "?"
        let cliHint = dir.path == DataDirectory(path: "./mailroom-data").path ? "mailroom" : "mailroom --data-dir \(dir.path)"
        print("Mailroom \(Mailroom.version) on \(cfg.hostname)")
        print("  data folder      \(dir.path)  (database mailroom.db, schema \(schema))")
        print("  TLS certificate  \(cfg.tlsCertFile ?? dir.certPath)\(server.tlsGenerated ? "  (self-signed, generated now)" : "")")
        print("  admin token      \(dir.tokenPath)\(server.tokenCreated ? "  (created now, readable only by you)" : "")")
        fflush(nil)
        do {
            try await server.run(logger: logger) { name, address in
                print("  \(name.padding(toLength: 19, withPad: " ", startingAt: 0))\(address)" + (name == "admin API" ? "  (health \(address)/healthz, metrics \(address)/metrics)" : ""))
                if name == "admin API" {
                    print("Manage it from another terminal, e.g.:")
                    print("  \(cliHint) domain add example.org")
                    print("  \(cliHint) account add alice@example.org --generate-password")
                    print("Stop with Ctrl-C or SIGTERM.")
                }
                fflush(nil)
            }
        } catch {
            throw CLIError("the server stopped: \(error)")
        }
        print("Mailroom stopped.")
    }
}

/// A failure to report as `error: …` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension CLIError: LocalizedError {
    var errorDescription: String? { description }
}
