import AdminClient
import AdminModels
import ArgumentParser
import Directory
import MailCore
import Foundation
import MailroomServer

/// How every admin command finds the server and its token.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Server config file (or MAILROOM_CONFIG); finds the data folder and admin listener.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Data folder of the server on this machine (default ./mailroom-data).", valueName: "dir"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp("Admin API URL, e.g. https://mail.example.org:8080 (or MAILROOM_SERVER).", valueName: "url"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp("Admin token (or MAILROOM_TOKEN); by default read from the data folder.", valueName: "token"))
    var token: String?

    @Option(name: .long, help: ArgumentHelp("Trust this CA or self-signed certificate (PEM) for an https server.", valueName: "file"))
    var ca: String?

    @Flag(name: .long, help: "Print the server's JSON answer instead of a table.")
    var json = false

    func client() throws -> AdminClient {
        let env = ProcessInfo.processInfo.environment
        var cfg = ServerConfig()
        if let file = config ?? env["MAILROOM_CONFIG"] {
            do { cfg = try ServerConfig.load(file: file) } catch { throw CLIError("\(error)") }
        }
        let dir = DataDirectory(path: dataDir ?? cfg.dataDir)
        var url = server ?? env["MAILROOM_SERVER"]
        var pinned: String?
        if url == nil {
            if let running = try? String(contentsOfFile: dir.adminURLPath, encoding: .utf8) {
                url = running.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let first = cfg.listeners.admin.first {
                let host = ["0.0.0.0", "::", ""].contains(first.host) ? "127.0.0.1" : first.host
                url = "\(cfg.adminTLS ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(first.port)"
            }
            if cfg.adminCertFile == nil { pinned = try? String(contentsOfFile: cfg.tlsCertFile ?? dir.certPath, encoding: .utf8) }
        }
        if let ca { pinned = try readFile(ca, what: "certificate") }
        var secret = token ?? env["MAILROOM_TOKEN"]
        if secret == nil {
            guard let t = try? String(contentsOfFile: dir.tokenPath, encoding: .utf8) else {
                throw CLIError(
                    "no admin token: \(dir.tokenPath) cannot be read. Run this on the server machine as the user that runs "
                        + "`mailroom serve` (with --data-dir if the data folder is elsewhere), or pass --token / MAILROOM_TOKEN")
            }
            secret = t.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        do {
            return try AdminClient(url: url ?? "http://127.0.0.1:8080", token: secret, pinnedCertificatePEM: pinned)
        } catch { throw CLIError("\(error)") }
    }

    /// Calls the API and returns the decoded answer; prints it as JSON when --json is given.
    func call<T: Codable>(_ method: AdminClient.Method, _ path: String, body: (some Encodable)? = Optional<String>.none, as type: T.Type) async throws -> T {
        do {
            let result = try await client().call(method, path, body: body, as: T.self)
            if json { printJSON(result) }
            return result
        } catch let e as ClientError {
            throw CLIError(e.description)
        }
    }

    /// Calls one of the API's endpoints: its path parameters in order, a query (`name=value`,
    /// encoded) and a body; answers with the endpoint's type.
    func call<R>(_ endpoint: Endpoint<R>, _ parameters: [String] = [], query: String? = nil, body: (some Encodable)? = Optional<String>.none)
        async throws -> R
    {
        let method = AdminClient.Method(rawValue: endpoint.method.rawValue) ?? .GET
        return try await call(method, endpoint.url(parameters, query: query), body: body, as: R.self)
    }

    func printJSON(_ value: some Encodable) {
        if let data = try? AdminJSON.encoder(pretty: true).encode(value) { print(String(decoding: data, as: UTF8.self)) }
    }
}

func readFile(_ path: String, what: String) throws -> String {
    do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw CLIError("cannot read the \(what) file \(path): \(error.localizedDescription)")
    }
}

/// Prints rows as aligned columns under a header.
/// "1 recipient", "3 recipients".
func counted(_ n: Int, _ noun: String) -> String {
    "\(n) \(noun)\(n == 1 ? "" : "s")"
}

func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for r in rows { print(line(r)) }
}

/// Prints `key  value` lines with the keys aligned.
func printFields(_ fields: [(String, String)]) {
    let w = fields.map(\.0.count).max() ?? 0
    for (k, v) in fields { print(k.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + v) }
}

func seg(_ s: String) -> String { AdminClient.segment(s) }

/// An address as people read it: internationalised domains as U-labels (`bücher.example`).
func shown(_ address: String) -> String {
    (try? EmailAddress(address))?.displayForm ?? address
}

func dateText(_ d: Date?) -> String {
    guard let d else { return "-" }
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd HH:mm"
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: d) + "Z"
}

func quotaText(_ bytes: Int64) -> String { ByteSize.format(bytes) }

/// Reads a password from standard input (first line), for --password-stdin.
func readPasswordFromStdin() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw CLIError("--password-stdin: no password on standard input")
    }
    return line
}

struct Empty: Codable {}
