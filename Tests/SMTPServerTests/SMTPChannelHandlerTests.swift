import Foundation
import Logging
import LoginKit
import NIOCore
import NIOEmbedded
import Testing

@testable import SMTP
@testable import SMTPServer

/// The NIO shell around an SMTP session, on an embedded channel.
@Suite struct SMTPChannelHandlerTests {
    /// A closed connection must not leave its idle timer behind: the timer held the handler,
    /// its session and buffers for the whole command timeout (5 minutes), so a flood of short
    /// connections grew memory by every connection's buffers.
    @Test func aConnectionClosedByQUITLeavesNothingScheduled() throws {
        let h = try PolicyHarness()
        let env = SMTPEnvironment(
            hostname: "mx.test", directory: h.dir, delivery: h.delivery, tls: nil, limits: SMTPLimits(), plaintextAuthOnLoopback: false,
            authLimiter: AuthLimiter(maxFailures: 10, ban: 1), authFailureDelay: .zero, logger: Logger(label: "test"))
        let loop = EmbeddedEventLoop()
        weak var released: SMTPChannelHandler?
        var replies = ""
        do {
            let config = SMTPSessionConfig(
                hostname: env.hostname, mode: .mx, tlsAvailable: false, implicitTLS: false, plaintextAuthAllowed: false, limits: env.limits)
            let handler = SMTPChannelHandler(
                session: SMTPSession(config: config, policy: env.policy), env: env, clientIP: "192.0.2.1", implicitTLS: false)
            released = handler
            let channel = EmbeddedChannel(handler: handler, loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 2525)).wait()
            try channel.writeInbound(ByteBuffer(string: "EHLO client.test\r\nQUIT\r\n"))
            loop.run()
            while let out = try channel.readOutbound(as: ByteBuffer.self) { replies += String(buffer: out) }
            #expect(!channel.isActive, "QUIT closed the connection")
        }
        #expect(replies.hasPrefix("220 ") && replies.contains("221 "), "\(replies)")
        #expect(released == nil, "a timer scheduled after the close still holds the handler")
    }
}
