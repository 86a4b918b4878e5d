import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct DomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain", abstract: "Domains Mailroom receives mail for.",
        subcommands: [Add.self, List.self, Show.self, SetFields.self, Remove.self, CatchAll.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a domain, or a domain alias with --alias-of.",
            discussion: "Internationalised names may be given in either form (bücher.example or xn--bcher-kva.example).")
        @Argument(help: "The domain, e.g. example.org.") var name: String
        @Option(help: ArgumentHelp("Make this domain an alias: mail to x@NAME is delivered as x@DOMAIN.", valueName: "domain"))
        var aliasOf: String?
        @Option(help: ArgumentHelp("Deliver mail for unknown addresses of this domain to ADDRESS.", valueName: "address"))
        var catchAll: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let d = try await client.call(API.postDomains, body: DomainCreate(name: name, aliasOf: aliasOf, catchAll: catchAll))
            if !client.json {
                print("added domain \(d.displayName)" + (d.aliasOf.map { " (alias of \($0))" } ?? ""))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List domains with their accounts, aliases and lists.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let domains = try await client.call(API.getDomains)
            guard !client.json else { return }
            if domains.isEmpty { print("no domains yet — add one with `mailroom domain add example.org`"); return }
            printTable(
                ["DOMAIN", "ACCOUNTS", "ALIASES", "LISTS", "MTA-STS", "NOTES"],
                domains.map { d in
                    var notes: [String] = []
                    if let a = d.aliasOf { notes.append("alias of \(a)") }
                    if let c = d.catchAll { notes.append("catch-all → \(c)") }
                    if d.displayName != d.name { notes.append(d.name) }
                    return [d.displayName, String(d.accounts), String(d.aliases), String(d.lists), d.mtaSts, notes.joined(separator: "; ")]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one domain.")
        @Argument var name: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let d = try await client.call(API.getDomain, [name])
            guard !client.json else { return }
            printFields([
                ("domain", d.displayName), ("ascii name", d.name), ("alias of", d.aliasOf ?? "-"),
                ("domain aliases", d.domainAliases.isEmpty ? "-" : d.domainAliases.joined(separator: ", ")),
                ("catch-all", d.catchAll ?? "-"), ("accounts", String(d.accounts)), ("aliases", String(d.aliases)),
                ("lists", String(d.lists)), ("mta-sts", d.mtaSts), ("created", dateText(d.createdAt)),
            ])
        }
    }

    struct SetFields: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change a domain's settings.",
            discussion: """
                --mta-sts sets the mode of the MTA-STS policy the web listener serves at \
                https://mta-sts.DOMAIN/.well-known/mta-sts.txt: testing (the default: senders report TLS \
                failures but deliver), enforce (senders deliver only over verified TLS), none (withdraws the \
                policy). The policy's id changes with it: publish the _mta-sts record `mailroom dns records` prints.
                """)
        @Argument var name: String
        @Option(help: ArgumentHelp("The MTA-STS policy mode.", valueName: "none|testing|enforce")) var mtaSts: String?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if mtaSts == nil { throw ValidationError("give a setting to change, like --mta-sts enforce") }
        }

        func run() async throws {
            let d = try await client.call(API.patchDomain, [name], body: DomainUpdate(mtaSts: mtaSts))
            if !client.json { print("updated \(d.displayName): mta-sts \(d.mtaSts)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an empty domain.")
        @Argument var name: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.deleteDomain, [name])
            if !client.json { print("removed domain \(name)") }
        }
    }

    struct CatchAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catch-all", abstract: "Set or clear where mail to unknown addresses of a domain goes.")
        @Argument var name: String
        @Argument(help: "The target address; leave out with --clear.") var target: String?
        @Flag(help: "Remove the catch-all: unknown addresses are refused again.") var clear = false
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if (target == nil) == !clear { throw ValidationError("give a target address, or --clear") }
        }

        func run() async throws {
            let d = try await client.call(API.patchDomain, [name], body: DomainUpdate(catchAll: target ?? ""))
            if !client.json { print(d.catchAll.map { "catch-all of \(d.displayName) → \($0)" } ?? "catch-all of \(d.displayName) removed") }
        }
    }
}
