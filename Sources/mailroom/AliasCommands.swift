import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct AliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias", abstract: "Addresses that forward to other addresses, local or external.",
        subcommands: [Add.self, Remove.self, List.self, Show.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an alias, or add targets to an existing one.")
        @Argument(help: "The alias address.") var source: String
        @Argument(help: "Where its mail goes: accounts, lists, other aliases or external addresses.") var targets: [String]
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if targets.isEmpty { throw ValidationError("name at least one target address") }
        }

        func run() async throws {
            let a = try await client.call(API.postAliases, body: AliasCreate(address: source, targets: targets))
            if !client.json { print("\(a.address) → \(a.targets.joined(separator: ", "))") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an alias, or only some of its targets.")
        @Argument var source: String
        @Argument(help: "Targets to take out; with none the whole alias goes.") var targets: [String] = []
        @OptionGroup var client: ClientOptions

        func run() async throws {
            if targets.isEmpty {
                _ = try await client.call(API.deleteAlias, [source])
                if !client.json { print("removed alias \(source)") }
            } else {
                let a = try await client.call(API.postAliasTargetsRemove, [source], body: AliasTargets(targets: targets))
                if !client.json {
                    print(a.map { "\($0.address) → \($0.targets.joined(separator: ", "))" } ?? "removed alias \(source) (no targets left)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List aliases.")
        @Option(help: "Only this domain.") var domain: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let list = try await client.call(API.getAliases, query: domain.map { "domain=\(seg($0))" })
            guard !client.json else { return }
            printTable(["ALIAS", "TARGETS"], list.map { [shown($0.address), $0.targets.map(shown).joined(separator: ", ")] })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one alias.")
        @Argument var source: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let a = try await client.call(API.getAlias, [source])
            guard !client.json else { return }
            printFields([("alias", shown(a.address)), ("targets", a.targets.map(shown).joined(separator: ", ")), ("created", dateText(a.createdAt))])
        }
    }
}
