import AdminClient
import AdminModels
import ArgumentParser
import Directory
import Foundation

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Copy accounts' mail from another server.",
        subcommands: [IMAP.self])

    struct IMAP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "imap",
            abstract: "Copy every folder, message, flag and date of accounts from another IMAP server (Dovecot, …).",
            discussion: """
                The server connects to the other server and copies; this command shows its progress and report. \
                Run it again to copy only what is new (a folder whose UIDVALIDITY changed is compared again; \
                messages already here are never copied twice) and to bring flag changes and deletions made there \
                since (copies of deleted messages are removed here; mail that arrived here directly is never \
                touched). --final is the last pass before a cutover: it also compares every folder with the \
                source and reports whether they match. The accounts file has lines \
                source_login,source_password,address (a first line naming the columns is skipped); with \
                --master-user the password column may be empty or left out. Passwords are read from files only. \
                Exits 1 when any account, folder or message failed, or (--final) a folder does not match. \
                See docs/migration.md.
                """)

        @Option(
            help:
                "The other server: imaps://host[:port] (TLS), imap://host[:port] (STARTTLS), or imap+plain://127.0.0.1[:port] (loopback only)."
        )
        var from: String
        @Option(help: "CSV file: source_login,source_password,address per line.") var accounts: String
        @Option(
            help:
                "Master user (Dovecot): each account is opened with AUTHENTICATE PLAIN, source_login as authorization identity (source_login*master with LOGIN where the server has no AUTH=PLAIN)."
        ) var masterUser: String?
        @Option(help: "File holding the master user's password (its first line).") var masterPasswordFile: String?
        @Option(help: "PEM file of certificates to trust for the other server.") var caFile: String?
        @Flag(help: "Do not verify the other server's certificate (a self-signed one).") var insecure = false
        @Option(help: "Source=Target folder mapping (the source name as the other server shows it); repeatable.")
        var map: [String] = []
        @Option(help: "Source folders not to copy (* any text, ? one character); repeatable.") var exclude: [String] =
            []
        @Option(help: "Accounts copied at once.") var parallel = 4
        @Option(help: "Seconds to wait for the other server before giving up on a connection.") var timeout = 120
        @Flag(help: "List the folder mapping and what would be copied; copy nothing.") var dryRun = false
        @Flag(
            help:
                "The last pass before a cutover: copy what is new, bring flags and deletions, and check that every folder matches the source."
        ) var final = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let source = try Self.parseSource(from)
            var masterPassword: String? = nil
            if masterUser != nil {
                guard let file = masterPasswordFile else {
                    throw CLIError(
                        "--master-user needs --master-password-file (passwords are never given on the command line)")
                }
                masterPassword = try readFile(file, what: "master password")
                    .split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)?
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            }
            let list = try Self.parseAccounts(try readFile(accounts, what: "accounts"), master: masterUser != nil)
            let request = IMAPMigrationRequest(
                host: source.host, port: source.port, security: source.security, caFile: caFile.map(Self.absolute),
                insecure: insecure ? true : nil, accounts: list, masterUser: masterUser, masterPassword: masterPassword,
                map: map.isEmpty ? nil : map, exclude: exclude.isEmpty ? nil : exclude, dryRun: dryRun ? true : nil,
                final: final ? true : nil, parallel: parallel, timeoutSeconds: timeout)
            let api: AdminClient
            do { api = try client.client() } catch let e as ClientError { throw CLIError(e.description) }
            var view: IMAPMigrationView
            do {
                view = try await api.call(.POST, API.postMigrationsImap.url([]), body: request, as: IMAPMigrationView.self)
                var progress = Progress()
                while view.state != "done" {
                    if !client.json { progress.show(view) }
                    // Answered when the job ends, or after a second for the next progress line.
                    view = try await api.call(
                        .GET, API.getMigrationImap.url([view.id], query: "wait=1"), body: Optional<String>.none, as: IMAPMigrationView.self)
                }
                if !client.json { progress.finish() }
            } catch let e as ClientError {
                throw CLIError(e.description)
            }
            if client.json {
                client.printJSON(view)
            } else {
                Self.report(view)
            }
            if view.hasFailures { throw ExitCode(1) }
        }

        static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

        /// `imaps://host[:993]`, `imap://host[:143]` (STARTTLS), `imap+plain://host[:143]`.
        static func parseSource(_ text: String) throws -> (host: String, port: Int, security: String) {
            let schemes: [(String, String, Int)] = [
                ("imaps://", "tls", 993), ("imap+plain://", "plain", 143), ("imap://", "starttls", 143),
            ]
            guard let (prefix, security, defaultPort) = schemes.first(where: { text.lowercased().hasPrefix($0.0) })
            else {
                throw CLIError(
                    "--from must start with imaps://, imap:// or imap+plain://, as in imaps://old.example.org")
            }
            var rest = String(text.dropFirst(prefix.count))
            if rest.hasSuffix("/") { rest.removeLast() }
            var host = rest
            var port = defaultPort
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                host = String(rest[rest.index(after: rest.startIndex)..<close])
                let after = rest[rest.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()) else { throw CLIError("bad port in \(text)") }
                    port = p
                }
            } else if let colon = rest.lastIndex(of: ":") {
                host = String(rest[..<colon])
                guard let p = Int(rest[rest.index(after: colon)...]) else { throw CLIError("bad port in \(text)") }
                port = p
            }
            guard !host.isEmpty, !host.contains("/"), !host.contains("@") else {
                throw CLIError("--from is a server, as in imaps://old.example.org:993; logins go in the accounts file")
            }
            return (host, port, security)
        }

        /// CSV lines source_login,source_password,address (or source_login,address with a master
        /// user); `#` comments and a header line are skipped.
        static func parseAccounts(_ text: String, master: Bool) throws -> [IMAPMigrationRequest.Account] {
            let records: [CSV.Record]
            do { records = try CSV.parse(text) } catch { throw CLIError("accounts file: \(error)") }
            var out: [IMAPMigrationRequest.Account] = []
            for r in records {
                let f = r.fields.map { $0.trimmingCharacters(in: .whitespaces) }
                if f.allSatisfy(\.isEmpty) || f[0].hasPrefix("#") { continue }
                if r.line == 1, f[0].lowercased() == "source_login" { continue }
                switch f.count {
                case 3 where !f[0].isEmpty && !f[2].isEmpty:
                    guard master || !f[1].isEmpty else {
                        throw CLIError("accounts file line \(r.line): no password for \(f[0]) (or give --master-user)")
                    }
                    out.append(.init(login: f[0], password: f[1].isEmpty ? nil : r.fields[1], address: f[2]))
                case 2 where master && !f[0].isEmpty && !f[1].isEmpty:
                    out.append(.init(login: f[0], password: nil, address: f[1]))
                default:
                    throw CLIError(
                        "accounts file line \(r.line): expected source_login,source_password,address"
                            + (master ? " (or source_login,address)" : ""))
                }
            }
            guard !out.isEmpty else { throw CLIError("the accounts file lists no accounts") }
            return out
        }

        /// The final report: per account and folder, what the source held and what became of it.
        static func report(_ v: IMAPMigrationView) {
            print(v.dryRun ? "Dry run: nothing was copied." : "Migration from \(v.source):")
            for a in v.accounts {
                let seconds = a.seconds
                print(
                    "\n\(a.login) → \(a.address): \(a.state)"
                        + (v.dryRun
                            ? ""
                            : ", \(counted(a.messagesDone, "message")), \(bytes(a.bytesDone)) in \(String(format: "%.1f", seconds)) s")
                        + (a.error.map { " — \($0)" } ?? ""))
                guard !a.folders.isEmpty else { continue }
                let final = v.final == true
                var rows = [
                    ["  source folder", "→ folder", "source"]
                        + (v.dryRun ? ["to copy", "", ""] : ["copied", "skipped", "failed", "flags", "removed"])
                        + (final ? ["here", "bytes there", "bytes here", "match"] : [])
                ]
                for f in a.folders where f.excluded == nil {
                    var row = [
                        "  " + f.source, "→ " + f.target, "\(f.sourceCount)",
                        v.dryRun ? "\(f.newMessages) (\(bytes(f.newBytes)))" : "\(f.copied)",
                        v.dryRun ? "" : "\(f.skipped)",
                        v.dryRun ? "" : "\(f.failed)",
                    ]
                    if !v.dryRun { row += ["\(f.flagsChanged)", "\(f.expunged)"] }
                    if final {
                        if let c = f.comparison {
                            let ok = c.matches && f.failed == 0 && f.error == nil
                            row += ["\(c.here)", bytes(c.sourceBytes), bytes(c.hereBytes), ok ? "yes" : "NO"]
                        } else {
                            row += ["", "", "", "NO"]
                        }
                    }
                    rows.append(row)
                }
                let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
                for row in rows {
                    let cells = row.enumerated().map { c, cell in
                        let pad = String(repeating: " ", count: widths[c] - cell.count)
                        return c >= 2 ? pad + cell : cell + pad
                    }
                    print(
                        cells.joined(separator: "  ").replacingOccurrences(
                            of: "\\s+$", with: "", options: .regularExpression))
                }
                for f in a.folders {
                    if let reason = f.excluded { print("  \(f.source): not copied, \(reason)") }
                    if let e = f.error { print("  \(f.source): \(e)") }
                    if f.uidValidityChanged {
                        print("  \(f.source): UIDVALIDITY changed since the last run; compared again")
                    }
                    for x in f.failures { print("  \(f.source) UID \(x.uid): \(x.reason)") }
                    if let c = f.comparison {
                        if !c.missing.isEmpty {
                            print(
                                "  \(f.source): \(counted(c.sourceCount - c.here, "message")) of the source not here (UID "
                                    + c.missing.map(String.init).joined(separator: ", ")
                                    + (c.sourceCount - c.here > c.missing.count ? ", …" : "") + ")")
                        }
                        if c.flagsDiffer > 0 {
                            print(
                                "  \(f.source): \(c.flagsDiffer == 1 ? "1 copy" : "\(c.flagsDiffer) copies") whose flags were also changed here (kept, beside the source's changes)"
                            )
                        }
                        if c.sizeDiffers > 0 {
                            print(
                                "  \(f.source): \(c.sizeDiffers == 1 ? "1 copy" : "\(c.sizeDiffers) copies") of another size than the source's"
                            )
                        }
                    }
                    if f.failed > f.failures.count {
                        print("  \(f.source): and \(f.failed - f.failures.count) more failed")
                    }
                }
            }
            let failed = v.accounts.filter(\.hasFailures).count
            let unmatched = v.accounts.flatMap(\.folders).filter { $0.comparison?.matches == false }.count
            if unmatched > 0 {
                print(
                    "\n\(counted(unmatched, "folder")) not matching the source (NO). A message the source has and this server "
                        + "not was most likely deleted here after it was copied, and is not copied again: copy it back "
                        + "with an IMAP client if it matters (docs/migration.md).")
            }
            print(
                failed == 0
                    ? "\nAll \(counted(v.accounts.count, "account")) \(v.dryRun ? "checked" : "copied")."
                        + (v.final == true ? " Every folder matches the source." : "")
                    : "\n\(counted(failed, "account")) with failures: run the same command again after fixing the cause; what is here is not copied twice."
            )
        }

        static func bytes(_ n: Int64) -> String {
            if n >= 1 << 30 { return String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
            if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
            if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / Double(1 << 10)) }
            return "\(n) B"
        }
    }
}

/// Progress lines on standard error: on a terminal one line per account rewritten in place,
/// otherwise a line per account every 10 seconds.
struct Progress {
    let terminal = isatty(2) == 1
    var shownLines = 0
    var lastPrinted = Date.distantPast

    mutating func show(_ v: IMAPMigrationView) {
        if !terminal, Date().timeIntervalSince(lastPrinted) < 10 { return }
        lastPrinted = Date()
        var lines: [String] = []
        for a in v.accounts where a.state != "waiting" {
            let seconds = max(0.001, a.seconds)
            let rate = Double(a.messagesDone) / seconds
            let left =
                rate > 0 && a.messagesTotal > a.messagesDone
                ? ", \(Int(Double(a.messagesTotal - a.messagesDone) / rate)) s left" : ""
            lines.append(
                "\(a.login): \(a.state), folders \(a.foldersDone)/\(a.folders.count), messages \(a.messagesDone)/\(a.messagesTotal), "
                    + "\(MigrateCommand.IMAP.bytes(a.bytesDone))/\(MigrateCommand.IMAP.bytes(a.bytesTotal)), "
                    + String(format: "%.0f msg/s", rate) + left)
        }
        var out = ""
        if terminal, shownLines > 0 { out += "\u{1B}[\(shownLines)A" }
        for l in lines { out += (terminal ? "\u{1B}[2K" : "") + l + "\n" }
        shownLines = terminal ? lines.count : 0
        FileHandle.standardError.write(Data(out.utf8))
    }

    mutating func finish() { shownLines = 0 }
}
