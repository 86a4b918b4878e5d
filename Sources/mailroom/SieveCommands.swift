import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct SieveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sieve",
        abstract: "Accounts' mail rules (Sieve scripts): list, show, put, activate, deactivate, delete.",
        discussion: """
            An account may keep several scripts; the active one runs when mail is delivered to it. A script \
            that does not compile is refused with its line and column. See docs/rules.md.
            """,
        subcommands: [List.self, Show.self, Put.self, Activate.self, Deactivate.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An account's scripts, the active one marked.")
        @Argument(help: "The account's address.") var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let scripts = try await client.call(API.getAccountSieve, [address])
            guard !client.json else { return }
            guard !scripts.isEmpty else { return print("\(address) has no scripts: its mail goes to INBOX (or Junk).") }
            printTable(
                ["NAME", "ACTIVE", "UPDATED"],
                scripts.map { [$0.name, $0.active ? "yes" : "", dateText($0.updatedAt)] })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one script.")
        @Argument(help: "The account's address.") var address: String
        @Argument(help: "The script's name.") var name: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let s = try await client.call(API.getAccountSieveScript, [address, name])
            guard !client.json else { return }
            print(s.script ?? "", terminator: (s.script ?? "").hasSuffix("\n") ? "" : "\n")
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save a script from a file (or standard input), checked first; --activate makes it run.")
        @Argument(help: "The account's address.") var address: String
        @Argument(help: "The script's name.") var name: String
        @Option(name: .long, help: ArgumentHelp("The script (- or none: standard input).", valueName: "file")) var file:
            String?
        @Flag(help: "Make it the active script.") var activate = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let text = try readText(file)
            let s = try await client.call(API.postAccountSieveScript, [address, name],
                body: SievePut(script: text, activate: activate))
            guard !client.json else { return }
            print(
                "Saved script \"\(s.name)\" of \(address)\(s.active ? "; it is the active one" : " (not active: `mailroom sieve activate \(address) \(s.name)`)")."
            )
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a script the one that runs at delivery.")
        @Argument(help: "The account's address.") var address: String
        @Argument(help: "The script's name.") var name: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.postAccountSieveScriptActivate, [address, name])
            guard !client.json else { return }
            print("\"\(name)\" now runs for mail delivered to \(address).")
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run no script for the account (the scripts stay).")
        @Argument(help: "The account's address.") var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.postAccountSieveDeactivate, [address])
            guard !client.json else { return }
            print("No script runs for \(address) now.")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a script.")
        @Argument(help: "The account's address.") var address: String
        @Argument(help: "The script's name.") var name: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.deleteAccountSieveScript, [address, name])
            guard !client.json else { return }
            print("Deleted script \"\(name)\" of \(address).")
        }
    }
}

/// `mailroom account vacation`: the vacation reply, kept as the account's `vacation` script.
struct VacationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vacation",
        abstract: "An account's vacation reply (a Sieve script named \"vacation\"): set, show, clear.",
        discussion: """
            `set` writes the script and makes it active; the script active before is included after the reply, \
            so the account's rules keep running. `clear` deletes it and makes that script active again. Replies \
            go at most once per sender in --days, never to lists, bounces or automatic mail.
            """,
        subcommands: [Set.self, Show.self, Clear.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set (or change) the vacation reply.")
        @Argument(help: "The account's address.") var address: String
        @Option(help: "The reply's subject.") var subject: String
        @Option(name: .long, help: ArgumentHelp("The reply's text (- for standard input).", valueName: "file"))
        var messageFile: String
        @Option(help: "Answer each sender at most once in this many days (default 7).") var days: Int?
        @Option(help: ArgumentHelp("Reply from this day on (ISO date, UTC).", valueName: "YYYY-MM-DD")) var from: String?
        @Option(help: ArgumentHelp("Reply until this day, included (ISO date, UTC).", valueName: "YYYY-MM-DD")) var until: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let v = try await client.call(
                API.postAccountVacation, [address],
                body: VacationSet(subject: subject, message: try readText(messageFile), days: days, from: from, until: until))
            guard !client.json else { return }
            let when = [v.from.map { "from \($0)" }, v.until.map { "until \($0)" }].compactMap { $0 }.joined(separator: " ")
            print(
                "Vacation reply set for \(address)" + (when.isEmpty ? "" : " (\(when))")
                    + (v.includes.map { "; the rules of \"\($0)\" still run after it" } ?? "") + ".")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the vacation reply.")
        @Argument(help: "The account's address.") var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let v = try await client.call(API.getAccountVacation, [address])
            guard !client.json else { return }
            guard v.script != nil else { return print("\(address) has no vacation reply.") }
            print("active:   \(v.active ? "yes" : "no (another script is active)")")
            print("subject:  \(v.subject ?? "-")")
            print("days:     \(v.days.map(String.init) ?? "-")")
            if v.from != nil || v.until != nil {
                print("dates:    \(v.from ?? "…") to \(v.until ?? "…") (UTC, both included)")
            }
            if let i = v.includes { print("then runs: \"\(i)\"") }
            print("message:\n\(v.message ?? "")")
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the vacation reply; the script active before runs again.")
        @Argument(help: "The account's address.") var address: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            _ = try await client.call(API.deleteAccountVacation, [address])
            guard !client.json else { return }
            print("Vacation reply of \(address) removed.")
        }
    }
}

/// `mailroom rules test`: what an account's active script would do with a message.
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Try an account's mail rules on a message without delivering it.",
        subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what the account's active script would do with a message (nothing is stored or sent).")
        @Argument(help: "The account's address.") var address: String
        @Option(help: ArgumentHelp("The message (RFC 5322 text; - for standard input).", valueName: "file"))
        var message: String
        @Option(help: "The envelope sender (default: the From field's address).") var from: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let r = try await client.call(API.postAccountRulesTest, [address],
                body: RulesTest(message: try readText(message), from: from))
            guard !client.json else { return }
            if let s = r.script { print("script \"\(s)\":") }
            for a in r.actions { print("  action: \(a)") }
            for o in r.outcome { print("  → \(o)") }
        }
    }
}

/// A file's text, or standard input for nil or "-".
func readText(_ file: String?) throws -> String {
    if let file, file != "-" {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
        return String(decoding: data, as: UTF8.self)
    }
    var lines: [String] = []
    while let line = readLine(strippingNewline: false) { lines.append(line) }
    return lines.joined()
}

/// `mailroom account forward ADDRESS --to X [--keep-copy]`, `--off`, or neither to show it.
struct ForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Forward an account's mail (a Sieve script named \"forward\"): set, show, or --off.",
        discussion: """
            Without --keep-copy nothing stays in the account. With it, a copy is forwarded and the script \
            active before still runs. Mail from other domains is forwarded with an SRS sender, so that SPF \
            passes at the destination. --off deletes the script and puts the earlier one back.
            """)
    @Argument(help: "The account's address.") var address: String
    @Option(help: "Forward to this address (up to four times).") var to: [String] = []
    @Flag(help: "Keep a copy in the account.") var keepCopy = false
    @Flag(help: "Stop forwarding.") var off = false
    @OptionGroup var client: ClientOptions

    func validate() throws {
        if off && (!to.isEmpty || keepCopy) { throw ValidationError("--off takes no --to or --keep-copy") }
        if keepCopy && to.isEmpty { throw ValidationError("--keep-copy needs --to") }
    }

    func run() async throws {
        let f: ForwardView
        if off {
            f = try await client.call(API.deleteAccountForward, [address])
        } else if !to.isEmpty {
            f = try await client.call(API.postAccountForward, [address], body: ForwardSet(to: to, keepCopy: keepCopy))
        } else {
            f = try await client.call(API.getAccountForward, [address])
        }
        guard !client.json else { return }
        if off { return print("\(address) no longer forwards its mail.") }
        guard f.script != nil else { return print("\(address) does not forward its mail.") }
        print(
            "\(address) forwards to \(f.to.joined(separator: ", "))"
                + (f.keepCopy ? ", keeping a copy" + (f.includes.map { " (then the rules of \"\($0)\" run)" } ?? "") : ", keeping nothing")
                + (f.active ? "." : " — but another script is active, so it does not run."))
    }
}
