import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "Messages the inbound checks held instead of delivering: list, show, release, delete.",
        discussion: """
            A message is held when its spam score reaches `quarantine_score` ([spam] in mailroom.toml, or per \
            domain). Released messages are delivered once, to the recipients they came for; held messages \
            expire after [quarantine] keep (30 days).
            """,
        subcommands: [List.self, Show.self, Release.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List held messages, newest first.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let held = try await client.call(API.getQuarantine)
            guard !client.json else { return }
            if held.isEmpty { print("the quarantine is empty"); return }
            printTable(
                ["ID", "FROM", "TO", "SUBJECT", "WHY", "HELD SINCE"],
                held.map {
                    [String($0.id), shown($0.sender), $0.recipients.map(shown).joined(separator: ", "), $0.subject, $0.reason, dateText($0.heldAt)]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a held message: the verdict, then the message.")
        @Argument var id: Int64
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let m = try await client.call(API.getQuarantined, [String(id)])
            guard !client.json else { return }
            let e = m.entry
            print("quarantined message \(e.id), held \(dateText(e.heldAt)) — \(e.reason)")
            print("from <\(e.sender)>" + (e.clientIp.map { " [\($0)]" } ?? "") + " to " + e.recipients.map { "<\($0)>" }.joined(separator: ", "))
            if let checks = e.checks { print("checks: \(checks)") }
            print("")
            print(m.message)
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliver a held message to its recipients (once).")
        @Argument var id: Int64
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.postQuarantinedRelease, [String(id)])
            if !client.json { print("released message \(id) to \(counted(r.recipients, "recipient"))") }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a held message (the sender is not told).")
        @Argument var id: Int64
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.deleteQuarantined, [String(id)])
            if !client.json { print("deleted message \(id) from the quarantine") }
        }
    }
}
