import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Distribution lists: members, posting policy, moderation, expansion.",
        subcommands: [Create.self, Show.self, All.self, Delete.self, AddMember.self, RemoveMember.self, SetFields.self, Expand.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a distribution list.")
        @Argument(help: "The list address, e.g. eng@example.org.") var address: String
        @Option(help: "Display name.") var name: String?
        @Option(help: "What the list is for.") var description: String?
        @Option(name: .customLong("member"), help: "A first member (repeat the option for more).") var members: [String] = []
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let l = try await client.call(API.postLists, body: ListCreate(address: address, name: name, description: description, members: members.isEmpty ? nil : members))
            if !client.json { print("created list \(l.address) with \(counted(l.memberCount, "member")) (posting policy: \(l.postingPolicy))") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a list's settings and members.")
        @Argument var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let l = try await client.call(API.getList, [address])
            guard !client.json else { return }
            func join(_ a: [String]) -> String { a.isEmpty ? "-" : a.joined(separator: ", ") }
            printFields([
                ("list", shown(l.address)), ("name", l.name.isEmpty ? "-" : l.name), ("description", l.description.isEmpty ? "-" : l.description),
                ("posting policy", l.postingPolicy), ("allowed senders", join(l.allowedSenders)), ("owners", join(l.owners)),
                ("moderators", join(l.moderators)), ("subject prefix", l.subjectPrefix.isEmpty ? "-" : "\"\(l.subjectPrefix)\""),
                ("reply-to", l.replyTo), ("hidden members", l.hiddenMembers ? "yes" : "no"), ("dmarc rewrite", l.dmarcRewrite),
                ("members", String(l.memberCount)),
            ])
            if let members = l.members, !members.isEmpty {
                print("")
                printTable(["MEMBER", "KIND"], members.map { [shown($0.address), $0.kind] })
            }
        }
    }

    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List all distribution lists.")
        @Option(help: "Only this domain.") var domain: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let lists = try await client.call(API.getLists, query: domain.map { "domain=\(seg($0))" })
            guard !client.json else { return }
            printTable(["LIST", "MEMBERS", "POLICY", "NAME"], lists.map { [shown($0.address), String($0.memberCount), $0.postingPolicy, $0.name] })
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a list (its members' accounts stay).")
        @Argument var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.deleteList, [address])
            if !client.json { print("deleted list \(address)") }
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-member", abstract: "Add members: accounts, aliases, other lists or external addresses.")
        @Argument var list: String
        @Argument var members: [String]
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let l = try await client.call(API.postListMembers, [list], body: MembersChange(members: members))
            if !client.json { print("\(l.address) now has \(counted(l.memberCount, "member"))") }
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-member", abstract: "Remove members.")
        @Argument var list: String
        @Argument var members: [String]
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let l = try await client.call(API.postListMembersRemove, [list], body: MembersChange(members: members))
            if !client.json { print("\(l.address) now has \(counted(l.memberCount, "member"))") }
        }
    }

    struct SetFields: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change a list's settings.",
            discussion: """
                Posting policies: anyone; members (only the list's members); organisation (any address in this \
                server's domains); senders (only --allowed-senders); moderated (held for a moderator). Address lists \
                are comma-separated and replace the old ones.
                """)
        @Argument var address: String
        @Option(help: "Display name.") var name: String?
        @Option(help: "What the list is for.") var description: String?
        @Option(help: "anyone, members, organisation, senders or moderated.") var policy: String?
        @Option(help: "Who may post under the 'senders' policy (comma-separated).") var allowedSenders: String?
        @Option(help: "List owners (comma-separated).") var owners: String?
        @Option(help: "Moderators (comma-separated).") var moderators: String?
        @Option(help: "Put before every subject, e.g. \"[eng]\" (empty to remove).") var subjectPrefix: String?
        @Option(help: "Where replies go: list or sender.") var replyTo: String?
        @Option(help: "Hide the member list from non-owners: true or false.") var hiddenMembers: Bool?
        @Option(
            help: """
                Rewrite From to the list's address (original in Reply-To), so copies sent to other servers pass DMARC:                 auto (when the poster's domain publishes p=reject or p=quarantine), always, or never.
                """) var dmarcRewrite: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            func split(_ s: String?) -> [String]? {
                s.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            }
            let body = ListUpdate(
                name: name, description: description, postingPolicy: policy, allowedSenders: split(allowedSenders),
                owners: split(owners), moderators: split(moderators), subjectPrefix: subjectPrefix, replyTo: replyTo,
                hiddenMembers: hiddenMembers, dmarcRewrite: dmarcRewrite)
            let l = try await client.call(API.patchList, [address], body: body)
            if !client.json { print("updated \(l.address) (posting policy: \(l.postingPolicy))") }
        }
    }

    struct Expand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every final recipient of a list and the path that leads to it.")
        @Argument var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.getListExpand, [address])
            guard !client.json else { return }
            printResolution(r)
        }
    }
}

/// `carol@example.org  via all@example.org → eng@example.org`, then what was skipped.
func printResolution(_ r: ResolutionView) {
    func via(_ path: [String]) -> String { path.isEmpty ? "" : "via " + path.map(shown).joined(separator: " → ") }
    printTable(
        ["RECIPIENT", "", "PATH"],
        r.recipients.map { [shown($0.address), $0.local ? "local" : "external", via($0.path)] })
    for s in r.skipped { print("skipped \(s.address): \(s.reason) \(via(s.path))") }
    if r.truncated { print("(stopped at the expansion limit; more recipients were not listed)") }
    print("\(counted(r.recipients.count, "recipient"))")
}
