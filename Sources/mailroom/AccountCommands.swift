import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Mail accounts: create, change, disable, remove, import, export.",
        subcommands: [
            Add.self, List.self, Show.self, Passwd.self, Rename.self, Disable.self, Enable.self, Remove.self, SetFields.self,
            Import.self, Export.self, JunkCommand.self, VacationCommand.self, ForwardCommand.self,
        ])

    struct PasswordOptions: ParsableArguments {
        @Option(help: "The password (visible to other users in the process list; prefer --password-stdin).")
        var password: String?
        @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false
        @Flag(help: "Let the server generate a strong password and print it once.") var generatePassword = false

        func validate() throws {
            if [password != nil, passwordStdin, generatePassword].filter({ $0 }).count > 1 {
                throw ValidationError("give only one of --password, --password-stdin and --generate-password")
            }
        }

        func resolved() throws -> String? { passwordStdin ? try readPasswordFromStdin() : password }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account.")
        @Argument(help: "The address, e.g. alice@example.org.") var address: String
        @OptionGroup var pw: PasswordOptions
        @Option(help: "Display name.") var name: String?
        @Option(help: "Mailbox quota: 5G, 500M, or unlimited (default).") var quota: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let body = AccountCreate(address: address, password: try pw.resolved(), generatePassword: pw.generatePassword ? true : nil, name: name, quota: quota)
            let r = try await client.call(API.postAccounts, body: body)
            guard !client.json else { return }
            print("created account \(r.account.address)")
            if let p = r.generatedPassword { print("password: \(p)   (shown only now)") }
            if !r.account.hasPassword { print("note: it has no password yet, so it cannot log in — set one with `mailroom account passwd \(r.account.address)`") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts, sorted by address.")
        @Option(help: "Only this domain.") var domain: String?
        @Option(help: "Page number, from 1.") var page = 1
        @Option(help: "Accounts per page (1-1000).") var limit = 100
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let query = "page=\(page)&limit=\(limit)" + (domain.map { "&domain=\(seg($0))" } ?? "")
            let p = try await client.call(API.getAccounts, query: query)
            guard !client.json else { return }
            printTable(["ADDRESS", "NAME", "QUOTA", "STATE"], p.items.map { [shown($0.address), $0.name, quotaText($0.quota), $0.state] })
            let first = p.items.isEmpty ? 0 : (p.page - 1) * p.limit + 1
            print("\(first)-\(first + max(p.items.count, 1) - 1) of \(p.total)" + (first + p.items.count - 1 < p.total ? " (next: --page \(p.page + 1))" : ""))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one account.")
        @Argument var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let a = try await client.call(API.getAccount, [address])
            guard !client.json else { return }
            printFields([
                ("address", shown(a.address)), ("name", a.name.isEmpty ? "-" : a.name), ("state", a.state),
                ("quota", quotaText(a.quota)),
                ("stored", "\(counted(a.messages ?? 0, "message")), \(quotaText(a.storedBytes ?? 0) == "unlimited" ? "0 bytes" : quotaText(a.storedBytes ?? 0))"),
                ("password", passwordText(a)),
                ("member of", (a.memberOf ?? []).isEmpty ? "-" : (a.memberOf ?? []).joined(separator: ", ")),
                ("created", dateText(a.createdAt)), ("updated", dateText(a.updatedAt)),
            ])
            // "Why can't this user log in?", answered in one place.
            let logins = a.lastLogins ?? []
            print("\nLast successful logins:" + (logins.isEmpty ? " none recorded" : ""))
            for l in logins {
                // Padded, never cut: MANAGESIEVE is longer than SMTP and IMAP.
                let name = l.protocol.uppercased()
                print("  \(name + String(repeating: " ", count: max(0, 5 - name.count))) \(dateText(l.at))  from \(l.ip)")
            }
            let failures = a.loginFailures ?? []
            print("Recent failed logins:" + (failures.isEmpty ? " none" : ""))
            for l in failures {
                print("  \(l.protocol.uppercased().padding(toLength: 5, withPad: " ", startingAt: 0)) \(dateText(l.at))  from \(l.ip): \(l.reason ?? "?")")
            }
            for b in a.bans ?? [] {
                print("BANNED: \(b.ip) may not log in until \(dateText(b.until)) (\(b.failures) failures); lift it with `mailroom bans clear \(b.ip)`")
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password.")
        @Argument var address: String
        @OptionGroup var pw: PasswordOptions
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let password = try pw.resolved()
            guard password != nil || pw.generatePassword else {
                throw CLIError("give the new password with --password-stdin, --password or --generate-password")
            }
            let r = try await client.call(API.postAccountPassword, [address],
                body: PasswordSet(password: password, generate: pw.generatePassword ? true : nil))
            guard !client.json else { return }
            print("password of \(address) changed")
            if let g = r["generated_password"] { print("password: \(g)   (shown only now)") }
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an account a new address, keeping its mail.",
            discussion: "Aliases, lists and catch-alls that name the old address are changed to the new one.")
        @Argument var address: String
        @Argument var newAddress: String
        @Flag(help: "Keep the old address working, as an alias of the new one.") var keepAlias = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let a = try await client.call(API.postAccountRename, [address], body: AccountRename(newAddress: newAddress, keepAlias: keepAlias))
            if !client.json { print("renamed \(address) to \(a.address)" + (keepAlias ? "; \(address) stays as an alias" : "")) }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account: it cannot log in and mail to it is refused.")
        @Argument var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.patchAccount, [address], body: AccountUpdate(state: "disabled"))
            if !client.json { print("disabled \(address)") }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account.")
        @Argument var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.patchAccount, [address], body: AccountUpdate(state: "active"))
            if !client.json { print("enabled \(address)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an account (needs --yes).",
            discussion: "The account, its password and its mail go; it is taken out of every alias and list.")
        @Argument var address: String
        @Flag(help: "Really remove it.") var yes = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            guard yes else {
                throw CLIError(
                    "removing \(address) deletes the account, its password and its mail, and takes it out of every alias and list. "
                        + "Run again with --yes to do it (or `mailroom account disable \(address)` to keep the data)")
            }
            let r = try await client.call(API.deleteAccount, [address])
            guard !client.json else { return }
            print("removed \(r.address):")
            for line in r.removed { print("  - \(line)") }
        }
    }

    struct SetFields: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change an account's name, quota or console role.",
            discussion: """
                A role lets the account sign in to the web console's admin pages: server-admin (everything), \
                domain-admin with one --domain per domain it manages, or user (only its own account page).
                """)
        @Argument var address: String
        @Option(help: "Display name.") var name: String?
        @Option(help: "Quota: 5G, 500M, or unlimited.") var quota: String?
        @Option(help: "Console role: server-admin, domain-admin or user.") var role: String?
        @Option(name: .customLong("domain"), help: "A domain a domain admin manages (repeat for more).") var domains: [String] = []
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if name == nil && quota == nil && role == nil { throw ValidationError("give --name, --quota and/or --role") }
            if role == nil && !domains.isEmpty { throw ValidationError("--domain goes with --role domain-admin") }
        }

        func run() async throws {
            var changed: [String] = []
            if name != nil || quota != nil {
                let a = try await client.call(API.patchAccount, [address], body: AccountUpdate(name: name, quota: quota))
                if client.json { return }
                // Only what this command changed: the rest of the account is `account show`'s.
                if name != nil { changed.append("name \"\(a.name)\"") }
                if quota != nil { changed.append("quota \(quotaText(a.quota))") }
            }
            if let role {
                let r = try await client.call(API.putAccountRole, [address], body: RoleSet(role: role, domains: domains.isEmpty ? nil : domains))
                if client.json { return }
                changed.append("role \(r.role)" + (r.domains.isEmpty ? "" : " of \(r.domains.joined(separator: ", "))"))
            }
            print("updated \(address): \(changed.joined(separator: ", "))")
        }
    }

    static func passwordText(_ a: AccountView) -> String {
        guard a.hasPassword else { return "not set (cannot log in)" }
        guard let scheme = a.passwordScheme, scheme != "SCRAM-SHA-256" else { return "set" }
        return "set, imported as {\(scheme)}: the next login replaces it with SCRAM-SHA-256 (SCRAM logins fail until then)"
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create accounts from a CSV file.",
            discussion: """
                The first line names the columns: address (required), name, quota, password, password_hash (as \
                `account export` writes). Every bad row is reported by line number; nothing is imported unless all \
                rows are good, or --partial is given.
                """)
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Import the good rows even if some are bad.") var partial = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let text = try readFile(file, what: "CSV")
            let response: AdminClient.Response
            do {
                response = try await client.client().send(
                    .POST, API.postAccountsImport.url([], query: partial ? "partial=true" : nil), body: Data(text.utf8), contentType: "text/csv")
            } catch let e as ClientError { throw CLIError(e.description) }
            guard response.status == 200 || response.status == 422,
                let report = try? AdminJSON.decoder().decode(ImportReport.self, from: response.body)
            else { throw CLIError(AdminClient.apiError(response).description) }
            if client.json {
                client.printJSON(report)
            } else {
                for e in report.errors { print("\(file):\(e.line): \(e.message)") }
                if report.errors.isEmpty || partial {
                    print("imported \(counted(report.imported, "account"))" + (report.errors.isEmpty ? "" : "; \(counted(report.errors.count, "bad row")) skipped"))
                } else {
                    print("nothing imported: fix the rows above, or run again with --partial to import the good rows")
                }
            }
            if !report.errors.isEmpty { throw ExitCode(1) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write accounts as CSV (with password hashes) for backup or `account import`.")
        @Option(help: "Only this domain.") var domain: String?
        @Option(help: "Write to this file (mode 0600) instead of standard output.") var output: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let response: AdminClient.Response
            do {
                response = try await client.client().send(.GET, API.getAccountsExport.url([], query: domain.map { "domain=\(seg($0))" }))
            } catch let e as ClientError { throw CLIError(e.description) }
            guard response.status == 200 else { throw CLIError(AdminClient.apiError(response).description) }
            if let output {
                FileManager.default.createFile(atPath: output, contents: response.body, attributes: [.posixPermissions: 0o600])
                print("wrote \(output)")
            } else {
                FileHandle.standardOutput.write(response.body)
            }
        }
    }
}
