import Dispatch
import Foundation
import IMAP
import Logging
import NIOCore
import NIOSSL
import ServerKit

/// Asks a connection to end with `* BYE` (server shutting down).
struct IMAPShutdownEvent: Sendable {}

/// The I/O shell around one ``IMAPSession``: frames commands on the event loop, runs each on
/// the connection's serial queue (the store blocks), writes the responses, and handles what
/// the session asks for (STARTTLS, IDLE, SASL lines, login delays).
///
/// A plain channel handler rather than an async channel for the same reason as SMTP: STARTTLS
/// needs reads stopped, pipelined clear text dropped, and TLS put in front at an exact point.
final class IMAPChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode {
        case commands
        case idle
        case sasl
        case upgrading
        case closed
    }

    private let session: IMAPSession
    private let env: IMAPEnvironment
    private let queue: DispatchQueue
    private var framer: IMAPFramer
    private var mode = Mode.commands
    /// A command runs on the queue: framing waits.
    private var busy = false
    /// The mailbox changed during IDLE while an update was already being written.
    private var changePending = false
    private var idleTimer: Scheduled<Void>?
    /// Whether the session has logged in (as of its last command), for the autologout time.
    private var loggedIn = false

    init(session: IMAPSession, env: IMAPEnvironment, queue: DispatchQueue) {
        self.session = session
        self.env = env
        self.queue = queue
        self.framer = IMAPFramer(limits: env.limits)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        session.onMailboxChange = { loop.execute { bound.value.0.mailboxChanged(context: bound.value.1) } }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: session.greeting())), promise: nil)
        resetTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        mode = .closed
        let session = self.session
        queue.async {
            session.deselect()
            session.releaseUser()
            // The callback holds this handler, which holds the session: let go of both.
            session.onMailboxChange = nil
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard mode != .upgrading, mode != .closed else { return }
        let buffer = unwrapInboundIn(data)
        framer.append(buffer.readableBytesView)
        resetTimer(context: context)
        process(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IMAPShutdownEvent {
            close(context: context, bye: .bye("Server shutting down"))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        env.logger.debug("IMAP connection error", metadata: ["client": "\(session.clientIP)", "error": "\(error)"])
        context.close(promise: nil)
    }

    /// Frames and runs commands until one is under way or more input is needed.
    private func process(context: ChannelHandlerContext) {
        while !busy, mode != .closed, mode != .upgrading, let event = framer.next() {
            switch event {
            case .continuationNeeded:
                send(.continuation("Ready for literal data"), context: context)
            case .literalTooLarge(let tag, let size, let limit):
                let text = "Literal of \(size) octets is larger than the limit of \(limit)"
                send(.tagged(tag ?? "*", .no, code: "TOOBIG", text), context: context)
            case .fatal(let text):
                close(context: context, bye: .bye(text))
            case .command(let bytes):
                let mode = self.mode
                run(context: context) { session, out in
                    switch mode {
                    case .idle: return session.endIdle(bytes, out: out)
                    case .sasl: return session.continueAuthentication(bytes, out: out)
                    default: return session.handle(bytes, out: out)
                    }
                }
            }
        }
    }

    /// Runs `work` on the connection's queue, streaming large output, then applies its result
    /// on the event loop.
    private func run(context: ChannelHandlerContext, _ work: @escaping @Sendable (IMAPSession, ResponseWriter) -> IMAPSession.Next) {
        busy = true
        let channel = context.channel
        let session = self.session
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        queue.async {
            let out = ResponseWriter { bytes in
                // Mid-command chunks: wait until written, so a huge FETCH never piles up.
                try? channel.writeAndFlush(ByteBuffer(bytes: bytes)).wait()
            }
            let next = work(session, out)
            let rest = out.buffer
            let loggedIn = session.hasLoggedIn
            loop.execute {
                let (handler, context) = bound.value
                handler.loggedIn = loggedIn
                handler.finish(next, output: rest, context: context)
            }
        }
    }

    private func finish(_ next: IMAPSession.Next, output: [UInt8], context: ChannelHandlerContext) {
        guard mode != .closed else { return }
        if case .delayed(let delay) = next {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)) {
                let (handler, context) = bound.value
                handler.finish(.read, output: output, context: context)
            }
            return
        }
        if !output.isEmpty { context.write(wrapOutboundOut(ByteBuffer(bytes: output)), promise: nil) }
        busy = false
        switch next {
        case .read, .delayed:
            mode = .commands
            context.flush()
        case .idle:
            mode = .idle
            context.flush()
        case .saslLine:
            mode = .sasl
            context.flush()
        case .close:
            close(context: context, bye: nil)
            return
        case .startTLS:
            startTLS(context: context)
            return
        }
        if mode == .idle && changePending { mailboxChanged(context: context) }
        process(context: context)
    }

    /// The store says the selected mailbox changed: an idling client hears it at once; others
    /// at their next command.
    private func mailboxChanged(context: ChannelHandlerContext) {
        guard mode == .idle else { return }
        guard !busy else {
            changePending = true
            return
        }
        changePending = false
        run(context: context) { session, out in
            session.idleUpdate(out: out)
            return .idle
        }
    }

    private func send(_ response: IMAPResponse, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: response.bytes)), promise: nil)
    }

    private func close(context: ChannelHandlerContext, bye: IMAPResponse?) {
        guard mode != .closed else { return }
        mode = .closed
        idleTimer?.cancel()
        if let bye { context.write(wrapOutboundOut(ByteBuffer(bytes: bye.bytes)), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
    }

    private func resetTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        // Never for a closed connection: the timer would keep this handler alive until it fired.
        guard mode != .closed else { return }
        let seconds = loggedIn ? env.limits.idleTimeoutSeconds : env.limits.loginTimeoutSeconds
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: .seconds(Int64(seconds))) {
            let (handler, context) = bound.value
            handler.close(context: context, bye: .bye("Autologout: idle for too long"))
        }
    }

    private func startTLS(context: ChannelHandlerContext) {
        guard let tls = env.tls else { return }
        mode = .upgrading
        // Whatever the client sent after STARTTLS in clear text is dropped (RFC 9051 §6.2.1).
        framer = IMAPFramer(limits: env.limits)
        ServerKit.startTLS(context: context, tls: tls) { [self] _ in
            session.tlsActive = true
            mode = .commands
        }
    }
}
