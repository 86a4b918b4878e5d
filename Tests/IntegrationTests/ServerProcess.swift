import Foundation
import TestSupport
import Testing

/// A real `mailroom serve` process on a temporary data folder, with its admin API on an
/// ephemeral loopback port, driven by the real `mailroom` CLI.
final class ServerProcess: @unchecked Sendable {
    let root: URL
    let configPath: String
    let dataDir: String
    private(set) var process: ChildProcess?
    private(set) var output = URL(fileURLWithPath: "/dev/null")

    static var binary: String {
        // The test bundle lives in the build products folder, beside the `mailroom` executable.
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            products.appendingPathComponent("mailroom").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/mailroom").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The `[listeners]` of every test server: all on loopback, on ports chosen at start.
    static let listeners: KeyValuePairs<String, String> = [
        "admin": #"["127.0.0.1:0"]"#, "smtp": #"["127.0.0.1:0"]"#, "submission": #"["127.0.0.1:0"]"#,
        "submissions": #"["127.0.0.1:0"]"#, "imap": #"["127.0.0.1:0"]"#, "imaps": #"["127.0.0.1:0"]"#,
        "managesieve": #"["127.0.0.1:0"]"#,
    ]

    /// `extra` is appended to the config; `smtp` lines go into its `[smtp]` table; `listeners`
    /// add to or replace the default ``listeners`` (like `["web": "[\"127.0.0.1:0\"]", "imaps": "[]"]`).
    init(config extra: String = "", smtp: String = "", listeners overrides: [String: String] = [:]) throws {
        root = Scratch.url("mailroom-it")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        dataDir = root.appendingPathComponent("data").path
        configPath = root.appendingPathComponent("mailroom.toml").path
        let defaults: [(String, String)] = Self.listeners.map { ($0.key, overrides[$0.key] ?? $0.value) }
        let added = overrides.filter { key, _ in !Self.listeners.contains { $0.key == key } }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let listenerLines = (defaults + added).map { "\($0) = \($1)" }.joined(separator: "\n")
        let config = """
            hostname = "mail.example.org"
            data_dir = "\(dataDir)"

            [listeners]
            \(listenerLines)

            [smtp]
            auth_failure_delay_ms = 20
            \(smtp)

            # Tests send nothing beyond loopback: no DNS server is asked (lookups fail for now,
            # and mail for other domains waits in the queue) unless a test routes it.
            [dns]
            servers = ["127.0.0.1:9"]
            timeout_ms = 200

            [security]
            password_iterations = 100000
            \(extra)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit {
        process?.stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// Starts the server and waits until its admin API listens.
    func start() throws {
        output = root.appendingPathComponent("serve-\(UUID().uuidString).log")
        try? FileManager.default.removeItem(atPath: dataDir + "/admin-url")
        let p = try ChildProcess(Self.binary, ["serve", "--config", configPath], stdout: output.path, stderr: output.path)
        process = p
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: dataDir + "/admin-url") { return }
            if !p.isRunning() { throw ProcessFailure(message: "server exited: \(log)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ProcessFailure(message: "server did not start within 30 s: \(log)")
    }

    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    /// The port a listener bound, from the start-up lines (`  SMTP (MX)          127.0.0.1:41234`).
    func port(_ name: String) -> Int? {
        for line in log.split(separator: "\n") where line.hasPrefix("  \(name) ") {
            if let p = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) { return p }
        }
        return nil
    }

    /// Waits until every listener named has printed its port.
    func waitForPorts(_ names: [String]) throws -> [Int] {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let ports = names.compactMap(port)
            if ports.count == names.count { return ports }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ProcessFailure(message: "listeners \(names) did not start: \(log)")
    }

    /// SIGTERM, then wait for a clean exit; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let p = process else { return -1 }
        let status = p.stop(grace: .seconds(20))
        if status == 128 + SIGKILL {
            print("[mailroom serve] did not stop within 20 s of SIGTERM; its log ends:\n\(log.suffix(3000))")
        }
        return status
    }

    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    /// Runs the CLI against this server (it finds it through the config file).
    func cli(_ args: [String], stdin: String? = nil, useConfig: Bool = true, timeout: TimeInterval = 60) throws -> Result {
        try Self.run(args + (useConfig ? ["--config", configPath] : []), stdin: stdin, timeout: timeout)
    }

    /// Runs the `mailroom` binary.
    static func run(_ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> Result {
        try runTool(binary, args, stdin: stdin, timeout: timeout)
    }

    /// Runs any program with a time limit; returns its status and output.
    static func runTool(_ path: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> Result {
        let r = try Peers.run(path, args, input: stdin, timeout: timeout)
        let result = Result(status: r.status, out: r.stdout, err: r.stderr)
        if result.status != 0 {
            // In the test log, so that an unexpected failure says why.
            print("[\(URL(fileURLWithPath: path).lastPathComponent) \(args.prefix(4).joined(separator: " "))] exit \(result.status): \(result.err.prefix(2000))")
        }
        return result
    }
}

struct ProcessFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
