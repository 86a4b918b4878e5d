import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct ModerationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moderation", abstract: "Messages held for moderated lists: list, approve, reject.",
        subcommands: [List.self, Approve.self, Reject.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List held messages.")
        @Option(help: "Only this list.") var list: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let held = try await client.call(API.getModeration, query: list.map { "list=\(seg($0))" })
            guard !client.json else { return }
            if held.isEmpty { print("no messages are waiting for a moderator"); return }
            printTable(
                ["ID", "LIST", "FROM", "SUBJECT", "SIZE", "HELD SINCE"],
                held.map { [String($0.id), shown($0.list), shown($0.sender), $0.subject, quotaText(Int64($0.size)), dateText($0.heldAt)] })
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a held message to the list.")
        @Argument var id: Int64
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.postHeldApprove, [String(id)])
            if !client.json { print("approved message \(id): delivered to \(counted(r.recipients, "recipient"))") }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop a held message (the sender is not told).")
        @Argument var id: Int64
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.postHeldReject, [String(id)])
            if !client.json { print("rejected message \(id)") }
        }
    }
}
