import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct BansCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bans",
        abstract: "Client addresses banned after failed logins, and lifting them.",
        discussion: """
            An address that fails to log in too often (smtp.max_auth_failures within 10 minutes) is \
            banned from logging in, over SMTP and IMAP alike, for smtp.auth_ban_seconds. Bans are kept \
            in memory: a restart lifts them all. Server admins only.
            """,
        subcommands: [List.self, Clear.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The bans in force.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let bans = try await client.call(API.getBans)
            guard !client.json else { return }
            guard !bans.isEmpty else { return print("No address is banned.") }
            printTable(["ADDRESS", "UNTIL", "FAILURES"], bans.map { [$0.ip, dateText($0.until), String($0.failures)] })
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift the ban on an address (and forget its failures), or every ban with --all.")
        @Argument(help: "The client address (IPv4 or IPv6).") var address: String?
        @Flag(name: .long, help: "Lift every ban.") var all = false
        @OptionGroup var client: ClientOptions

        func validate() throws {
            guard (address == nil) == all else { throw ValidationError("give one address, or --all") }
        }

        func run() async throws {
            let r = try await (address == nil ? client.call(API.deleteBans) : client.call(API.deleteBan, [address ?? ""]))
            guard !client.json else { return }
            if let address {
                print(r.lifted == 1 ? "Lifted the ban on \(address)." : "\(address) was not banned; its failed logins are forgotten.")
            } else {
                print("Lifted \(r.lifted) ban\(r.lifted == 1 ? "" : "s").")
            }
        }
    }
}
