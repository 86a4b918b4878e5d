import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Bring users and aliases over from Dovecot and Postfix.",
        discussion: """
            Each import is all or nothing: if any line conflicts (a bad line, a missing domain, an address that is \
            already something else) nothing is changed and every such line is listed. --dry-run shows what would be \
            created and changed without changing anything.
            """,
        subcommands: [DovecotPasswdCommand.self, PostfixVirtualCommand.self])

    struct DovecotPasswdCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dovecot-passwd",
            abstract: "Create accounts from a Dovecot passwd-file, keeping their passwords.",
            discussion: """
                Lines are user:{SCHEME}hash:uid:gid:gecos:home:shell:extra. The hashes are kept as they are \
                ({SHA512-CRYPT}, {SHA256-CRYPT}, {BLF-CRYPT}, {ARGON2ID}, {ARGON2I}, {SSHA512}, {SSHA256}, {PBKDF2}, {PLAIN}) and replaced by \
                Mailroom's own at each user's first login. An existing account gets the file's password.
                """)
        @Argument(help: "The passwd-file.") var file: String
        @Option(help: "The domain of users written without one.") var domain: String?
        @Flag(help: "Show what would change, change nothing.") var dryRun = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let body = DovecotPasswdImport(
                text: try readFile(file, what: "passwd"), domain: domain, dryRun: dryRun ? true : nil)
            try await ImportCommand.send(
                API.postImportDovecotPasswd.url([]), body, file: file, dryRun: dryRun, client: client)
        }
    }

    struct PostfixVirtualCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "postfix-virtual",
            abstract: "Create aliases (or, with --mailbox-maps, accounts) from a Postfix virtual table.",
            discussion: """
                Without --mailbox-maps the file is a virtual_alias_maps source ("address  target, target"; \
                "@domain  target" sets the domain's catch-all). With --mailbox-maps it is a virtual_mailbox_maps source \
                ("address  path/"): each address becomes an account without a password (import the passwd-file for \
                those) and the mail under the path is not copied.
                """)
        @Argument(help: "The table's source file (not the .db).") var file: String
        @Flag(help: "The file is a virtual_mailbox_maps table: create accounts.") var mailboxMaps = false
        @Flag(help: "Show what would change, change nothing.") var dryRun = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let body = PostfixVirtualImport(
                text: try readFile(file, what: "Postfix table"), mailboxMaps: mailboxMaps ? true : nil,
                dryRun: dryRun ? true : nil)
            try await ImportCommand.send(
                API.postImportPostfixVirtual.url([]), body, file: file, dryRun: dryRun, client: client)
        }
    }

    static func send(_ path: String, _ body: some Encodable, file: String, dryRun: Bool, client: ClientOptions)
        async throws
    {
        let response: AdminClient.Response
        do {
            response = try await client.client().send(.POST, path, body: try AdminJSON.encoder().encode(body))
        } catch let e as ClientError { throw CLIError(e.description) }
        guard response.status == 200 || response.status == 422,
            let report = try? AdminJSON.decoder().decode(MigrationReport.self, from: response.body)
        else { throw CLIError(AdminClient.apiError(response).description) }
        if client.json {
            client.printJSON(report)
        } else {
            print(text(report, file: file, dryRun: dryRun))
        }
        if !report.conflicts.isEmpty { throw ExitCode(1) }
    }

    static func text(_ r: MigrationReport, file: String, dryRun: Bool) -> String {
        var out: [String] = []
        let verb = r.applied ? ("created", "changed") : ("would create", "would change")
        for (title, items) in [
            (verb.0, r.created), (verb.1, r.changed), ("unchanged", r.unchanged), ("conflicts", r.conflicts),
        ]
        where !items.isEmpty {
            out.append("\(title):")
            for i in items {
                out.append("  \(file):\(i.line): \(i.address.isEmpty ? "" : i.address + ": ")\(i.detail)")
            }
        }
        if r.applied {
            out.append("done: \(r.created.count) created, \(r.changed.count) changed")
        } else if !r.conflicts.isEmpty {
            out.append("nothing changed: resolve the \(counted(r.conflicts.count, "conflict")) above and run again")
        } else {
            out.append("dry run: nothing changed; run again without --dry-run to apply")
        }
        return out.joined(separator: "\n")
    }
}
