import Foundation
import SMTPClient
import Testing

/// Postfix's smtp-sink(1): a pipelining SMTP sink that counts messages (`-c`).
@Suite(.serialized) struct SMTPSinkInteropTests {
    static let sink = "/usr/sbin/smtp-sink"

    // The limit stops a hang, not a slow run: in the full suite this waits minutes for one of
    // the two shared threads (about 240 s in CI runs; a 1-minute limit failed a local run).
    @Test(.enabled(if: Peer.shouldRun(sink)), .timeLimit(.minutes(5)))
    func twoHundredMessagesOverOneConnection() async throws {
        try Peer.require(Self.sink)
        let port = try await Peer.freePort()
        var arguments = ["-c"]
        if getuid() == 0 { arguments += ["-u", "root"] }
        arguments += ["127.0.0.1:\(port)", "100"]
        let sink = try PeerProcess(Self.sink, arguments)
        defer { sink.stop() }

        let connection = try await Peer.connectWhenListening(port: port, tls: .none)
        #expect(connection.extensions["PIPELINING"] != nil)
        for n in 0..<200 {
            let result = try await connection.send(
                OutboundEnvelope(
                    sender: n % 10 == 0 ? "" : "a@client.test", recipients: ["u@test.example", "v@test.example"],
                    data: Peer.message(n)))
            #expect(result.dataReply?.code == 250, "message \(n): \(result)")
            #expect(result.deliveredIndices == [0, 1])
            #expect(connection.isUsable)
        }
        await connection.quit()

        // smtp-sink prints "sess=N quit=N mesg=N\r" whenever a session ends or "." arrives.
        var count = 0
        for _ in 0..<400 {
            let output = sink.output
            if let range = output.range(of: "mesg=", options: .backwards) {
                count = Int(output[range.upperBound...].prefix { $0.isNumber }) ?? 0
            }
            if count >= 200 && output.contains("quit=1") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(count == 200, "smtp-sink output: \(sink.output.suffix(200))")
    }
}
