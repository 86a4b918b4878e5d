import Foundation
import Offload
import Testing

@testable import Delivery
@testable import IMAPServer

/// A client that stops reading in the middle of a large FETCH holds no thread: its session
/// gives the pool thread back and resumes when the connection can take more.
@Suite struct SlowReaderTests {
    /// Three messages of about 2.5 MB each: a FETCH of all their bodies is far more than the
    /// socket buffers and the channel's high-water mark hold, so a client that does not read
    /// leaves its session unable to finish.
    static func server(pool: BlockingPool) async throws -> LargeMessageTests.Server {
        let server = try await LargeMessageTests.Server.start(pool: pool)
        let message = LargeMessageTests.message(attachment: LargeMessageTests.attachment())
        for _ in 0..<3 {
            _ = try await server.h.delivery.deliver(
                InboundMessage(
                    sender: "carol@example.net", recipients: ["alice@example.org"], data: message,
                    receivedHeader: "Received: test\r\n",
                    clientIP: nil, helo: nil, tls: nil, authenticatedUser: nil))
        }
        return server
    }

    @Test func sessionsStuckOnClientsThatDoNotReadLeaveThePoolToOthers() async throws {
        // Two threads for every session, and twice as many sessions stuck as threads: with a
        // thread held per stuck session, nobody else would be served.
        let pool = BlockingPool(threads: 2)
        let server = try await Self.server(pool: pool)
        defer { server.stop() }
        let port = server.port
        var stuck: [(client: LineClient, size: Int)] = []
        for i in 0..<(2 * pool.threadCount) {
            let c = try await IMAPServerServiceTests.offThePool {
                Result { () throws -> (client: LineClient, size: Int) in
                    let c = try LineClient(port: port, receiveBuffer: 4096)
                    _ = try c.line()  // greeting
                    try c.command("l", "LOGIN alice@example.org Correct-Horse-42")
                    try c.command("s", "SELECT INBOX")
                    c.send(Array("f FETCH 1:* BODY.PEEK[]\r\n".utf8))
                    // The first response line says the FETCH is under way; then this client
                    // stops reading, with megabytes still to come.
                    let first = try c.line()
                    #expect(first.hasPrefix("* 1 FETCH"), "client \(i): \(first)")
                    return (c, LineClient.literalSize(Array(first.utf8)) ?? 0)
                }
            }.get()
            stuck.append(c)
        }
        // Another client is served from start to end while all of them are stuck.
        try await server.client { c in
            try c.command("a", "LOGIN bob@example.org Correct-Horse-42")
            try c.command("b", "SELECT INBOX")
            try c.command("c", "NOOP")
            try c.command("d", "LOGOUT")
        }
        // The stuck ones read on and get every octet of the three messages, then the end of
        // their FETCH.
        let clients = stuck
        try await IMAPServerServiceTests.offThePool {
            Result {
                for (c, size) in clients {
                    defer { c.close() }
                    #expect(size > 2_000_000)
                    let first = try c.read(count: size)
                    let rest = try c.readUntilTagged("f")
                    #expect(rest.contains("\r\nf OK"))
                    #expect(c.literalCount == 2)
                    #expect(c.literalBytes.allSatisfy { LargeMessageTests.difference($0, first) == nil })
                }
            }
        }.get()
        try await pool.shutdown()
    }
}
