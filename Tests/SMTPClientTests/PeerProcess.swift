import Foundation
import TestSupport
import NIOCore
import NIOPosix
import NIOSSL
import SMTPClient
import Testing

/// Real peer software (Postfix, smtp-sink) for interop tests: found, started and stopped by
/// PID here, on 127.0.0.1 only. Missing software skips the tests, except under `CI=true`,
/// where it fails them.
enum Peer {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    static func installed(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// True when the test should run: the tools are there, or CI wants the failure.
    static func shouldRun(_ paths: String...) -> Bool { isCI || paths.allSatisfy(installed) }

    static func require(_ paths: String..., sourceLocation: SourceLocation = #_sourceLocation) throws {
        for path in paths {
            try #require(
                installed(path), "\(path) is missing: install it (apt-get install postfix)",
                sourceLocation: sourceLocation)
        }
    }

    /// Runs a program to completion off the cooperative pool; returns status and output.
    @discardableResult
    static func run(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let r = try await blocking { try Peers.run(path, arguments) }
        return (r.status, r.output)
    }

    /// A port free on 127.0.0.1 just now.
    static func freePort() async throws -> Int { Peers.freePort() }

    /// Connects, retrying while the peer is still starting (at most `seconds`).
    static func connectWhenListening(
        port: Int, tls: SMTPTLSPolicy, tlsConfiguration: TLSConfiguration? = nil, serverName: String = "localhost", seconds: Int = 10
    ) async throws -> SMTPClientConnection {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            do {
                return try await SMTPClientConnection.connect(
                    host: "127.0.0.1", port: port, heloName: "client.test", tls: tls, tlsConfiguration: tlsConfiguration,
                    serverName: serverName, timeouts: SMTPClientTimeouts(all: .seconds(10)))
            } catch {
                guard case .connectFailed = error, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    static func message(_ n: Int, size: Int = 2000) -> [UInt8] {
        var text =
            "From: a@client.test\r\nTo: u@test.example\r\nSubject: interop \(n)\r\nMessage-ID: <\(n)@client.test>\r\n\r\n"
        text += ".a line starting with a dot\r\n"
        while text.utf8.count < size { text += "the quick brown fox jumps over the lazy dog \(n)\r\n" }
        return Array(text.utf8)
    }
}

/// A running program started by a test, stopped by its PID.
final class PeerProcess: Sendable {
    let process: ChildProcess
    let outputURL: URL

    init(_ path: String, _ arguments: [String]) throws {
        outputURL = Scratch.url("smtpclient-peer", extension: "out")
        process = try ChildProcess(path, arguments, stdout: outputURL.path, stderr: outputURL.path)
    }

    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    func stop() {
        process.stop(grace: .seconds(2))
        try? FileManager.default.removeItem(at: outputURL)
    }
}
