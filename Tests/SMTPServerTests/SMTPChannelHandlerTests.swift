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

    /// An embedded connection to a handler with the given timeouts, greeted and past EHLO.
    private struct Idle {
        let loop = EmbeddedEventLoop()
        let channel: EmbeddedChannel
        var replies = ""

        init(command: Int, data: Int) throws {
            let h = try PolicyHarness()
            var limits = SMTPLimits()
            limits.commandTimeoutSeconds = command
            limits.dataTimeoutSeconds = data
            let env = SMTPEnvironment(
                hostname: "mx.test", directory: h.dir, delivery: h.delivery, tls: nil, limits: limits, plaintextAuthOnLoopback: false,
                authLimiter: AuthLimiter(maxFailures: 10, ban: 1), authFailureDelay: .zero, logger: Logger(label: "test"))
            let config = SMTPSessionConfig(
                hostname: env.hostname, mode: .mx, tlsAvailable: false, implicitTLS: false, plaintextAuthAllowed: false, limits: limits)
            let handler = SMTPChannelHandler(
                session: SMTPSession(config: config, policy: env.policy), env: env, clientIP: "192.0.2.1", implicitTLS: false)
            channel = EmbeddedChannel(handler: handler, loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 2525)).wait()
            try send("EHLO client.test\r\n")
        }

        mutating func send(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
            loop.run()
            read()
        }

        /// Lets `seconds` pass on the loop's clock.
        mutating func wait(_ seconds: Int64) {
            loop.advanceTime(by: .seconds(seconds))
            read()
        }

        private mutating func read() {
            while let out = try? channel.readOutbound(as: ByteBuffer.self) { replies += String(buffer: out) }
        }

        var timedOut: Bool { replies.contains("421 4.4.2") }
    }

    @Test func aConnectionIdleForTheCommandTimeoutIsClosed() throws {
        var c = try Idle(command: 300, data: 600)
        c.wait(299)
        #expect(!c.timedOut && c.channel.isActive)
        c.wait(1)
        #expect(c.timedOut, "\(c.replies)")
        #expect(!c.channel.isActive)
    }

    @Test func eachCommandGivesTheConnectionTheWholeTimeoutAgain() throws {
        var c = try Idle(command: 300, data: 600)
        for _ in 0..<3 {
            c.wait(200)
            try c.send("NOOP\r\n")
        }
        c.wait(299)
        #expect(!c.timedOut && c.channel.isActive, "600 s after EHLO but 299 s after the last NOOP: \(c.replies)")
        c.wait(1)
        #expect(c.timedOut && !c.channel.isActive)
    }

    @Test(arguments: [(command: 300, data: 600), (command: 300, data: 100)])
    func amidDATATheDataTimeoutCounts(command: Int, data: Int) throws {
        var c = try Idle(command: command, data: data)
        try c.send("MAIL FROM:<someone@sender.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
        #expect(c.replies.contains("354 "), "\(c.replies)")
        try c.send("Subject: slow\r\n\r\nfirst line\r\n")
        c.wait(Int64(data) - 1)
        #expect(!c.timedOut && c.channel.isActive, "\(data - 1) s into DATA")
        c.wait(1)
        #expect(c.timedOut && !c.channel.isActive, "\(data) s into DATA (command timeout \(command) s)")
    }
}
