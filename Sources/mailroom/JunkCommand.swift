import AdminClient
import AdminModels
import ArgumentParser
import Foundation

/// `mailroom account junk show|reset ADDRESS`.
struct JunkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "junk",
        abstract: "An account's junk classifier: what it learned from the user's IMAP moves, and forgetting it.",
        discussion: """
            The classifier learns spam from messages the user moves or copies into Junk and ham from \
            messages moved out of it, and judges new mail once it has enough of both. See docs/inbound.md.
            """,
        subcommands: [Show.self, Reset.self])

    static func print(_ j: JunkView, _ address: String) {
        printFields([
            ("account", address),
            ("learned", "\(j.spamMessages) spam and \(j.hamMessages) ham messages, \(j.tokens) distinct tokens"),
            (
                "judges mail",
                !j.learning
                    ? "no: junk learning is off ([spam] junk_learning = false)"
                    : j.active
                        ? "yes"
                        : "not yet: needs \(j.minimumSpam) spam and \(j.minimumHam) ham messages"
            ),
        ])
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What the classifier learned, and whether it judges mail yet.")
        @Argument var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let j = try await client.call(API.getAccountJunk, [address])
            guard !client.json else { return }
            JunkCommand.print(j, address)
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget everything the classifier learned (after a user trained it wrongly); audited.")
        @Argument var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let j = try await client.call(API.deleteAccountJunk, [address])
            guard !client.json else { return }
            Swift.print("The junk classifier of \(address) starts again from nothing.")
            JunkCommand.print(j, address)
        }
    }
}
