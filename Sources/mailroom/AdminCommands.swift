import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Explain how an address resolves: account, alias, list, catch-all, subaddress, disabled, unknown or external.")
    @Argument var address: String
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let r = try await client.call(API.getResolve, [address])
        guard !client.json else { return }
        var story: String
        switch r.kind {
        case "account": story = "is the account \(r.canonical ?? r.input)"
        case "alias": story = "is an alias"
        case "list": story = "is a distribution list"
        case "catch-all": story = "is not an address of its domain; the domain's catch-all takes it"
        case "external": story = "is not in any of this server's domains (external)"
        case "unknown": story = "does not exist, and its domain has no catch-all: mail to it is refused"
        case "disabled": story = "is a disabled account: mail to it is refused"
        default: story = "is not a valid address: \(r.error ?? "")"
        }
        var notes: [String] = []
        if let d = r.viaDomainAlias { notes.append("\(d) is a domain alias") }
        if let t = r.subaddressTag { notes.append("subaddress +\(t) of \(r.canonical ?? "")") }
        print("\(r.input) \(story)" + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))"))
        if ["alias", "list", "catch-all"].contains(r.kind) || !r.skipped.isEmpty {
            printResolution(r)
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Admin API tokens (server admins only).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; its secret is printed once.")
        @Argument(help: "Who or what uses it, e.g. \"helpdesk\".") var name: String
        @Option(help: "server-admin (everything) or domain-admin (only --domain).") var role = "domain-admin"
        @Option(name: .customLong("domain"), help: "A domain a domain-admin token manages (repeat for more).") var domains: [String] = []
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let t = try await client.call(API.postTokens, body: TokenCreate(name: name, role: role, domains: domains))
            guard !client.json else { return }
            print("created token \(t.token.id) \"\(t.token.name)\" (\(t.token.role)\(t.token.domains.isEmpty ? "" : " of " + t.token.domains.joined(separator: ", ")))")
            print("secret: \(t.secret)")
            print("It is shown only now. Use it as --token or MAILROOM_TOKEN, or as 'Authorization: Bearer …'.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let tokens = try await client.call(API.getTokens)
            guard !client.json else { return }
            printTable(
                ["ID", "NAME", "ROLE", "DOMAINS", "LAST USED", "STATE"],
                tokens.map {
                    [String($0.id), $0.name, $0.role, $0.domains.joined(separator: ","), dateText($0.lastUsedAt), $0.revokedAt == nil ? "active" : "revoked"]
                })
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token; it stops working at once.")
        @Argument var id: Int64
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.deleteToken, [String(id)])
            if !client.json { print("revoked token \(id)") }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Who changed what, when, and from where (newest first).")
    @Option(help: "Only entries since a time (2026-11-29T10:00:00Z) or a duration back (30m, 2h, 7d).") var since: String?
    @Option(help: "Only entries about this address, domain or token.") var target: String?
    @Option(help: "At most this many entries.") var limit = 100
    @Flag(help: "Show each change's before and after.") var verbose = false
    @OptionGroup var client: ClientOptions

    func run() async throws {
        var q = ["limit=\(limit)"]
        if let since { q.append("since=\(seg(since))") }
        if let target { q.append("target=\(seg(target))") }
        let entries = try await client.call(API.getAudit, query: q.joined(separator: "&"))
        guard !client.json else { return }
        printTable(
            ["TIME", "ACTOR", "ACTION", "TARGET", "FROM"],
            entries.map { [dateText($0.at), $0.actor, $0.action, $0.target, $0.sourceIp ?? "-"] })
        if verbose {
            for e in entries {
                print("\n#\(e.id) \(e.action) \(e.target)\n  before: \(e.before ?? "-")\n  after:  \(e.after ?? "-")")
            }
        }
    }
}
