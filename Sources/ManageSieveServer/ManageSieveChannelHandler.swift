import Logging
import ManageSieve
import NIOCore
import Offload
import ServerKit

/// Asks a connection to end with `BYE` (server shutting down).
struct ManageSieveShutdownEvent: Sendable {}

/// The I/O shell around one ``ManageSieveSession``: frames commands on the event loop, runs
/// each on the connection's lane of the blocking pool, writes the responses, and handles STARTTLS, login
/// delays and timeouts. A plain handler, as for IMAP, because STARTTLS needs reads stopped and
/// clear text dropped at an exact point.
final class ManageSieveChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let session: ManageSieveSession
    private let lane: BlockingPool.Lane
    private var framer: ManageSieveFramer
    private var busy = false
    private var closed = false
    private var upgrading = false
    private var timer: Scheduled<Void>?
    private var loggedIn = false
    /// Reads stopped: too much input is waiting for the running command.
    private var paused = false

    init(session: ManageSieveSession, lane: BlockingPool.Lane) {
        self.session = session
        self.lane = lane
        self.framer = ManageSieveFramer(limits: session.env.limits)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: session.capabilities())), promise: nil)
        resetTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        closed = true
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed, !upgrading else { return }
        framer.append(unwrapInboundIn(data).readableBytesView)
        // Framing holds at most a literal and a line; more piles up only while a command runs,
        // from a client sending ahead of the answers: stop reading until the command is done.
        let limits = session.env.limits
        if busy, !paused, framer.buffered > limits.maxLiteralSize + 2 * limits.maxLineLength {
            paused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        resetTimer(context: context)
        process(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ManageSieveShutdownEvent {
            close(context: context, bye: .bye("Server shutting down"))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session.env.logger.debug(
            "ManageSieve connection error", metadata: ["client": "\(session.clientIP)", "error": "\(error)"])
        context.close(promise: nil)
    }

    private func process(context: ChannelHandlerContext) {
        while !busy, !closed, !upgrading {
            let frame: ManageSieveFramer.Frame
            do {
                guard let f = try framer.next() else { return }
                frame = f
            } catch {
                close(context: context, bye: .bye(error.message))
                return
            }
            busy = true
            let session = self.session
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            lane.submit {
                var out: [UInt8] = []
                let next = session.handle(frame, out: &out)
                let loggedIn = session.isAuthenticated
                loop.execute {
                    let (handler, context) = bound.value
                    handler.loggedIn = loggedIn
                    handler.finish(next, output: out, context: context)
                }
            }
        }
    }

    private func finish(_ next: ManageSieveSession.Next, output: [UInt8], context: ChannelHandlerContext) {
        guard !closed else { return }
        if case .delayed(let delay) = next {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let (seconds, attoseconds) = delay.components
            context.eventLoop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
                let (handler, context) = bound.value
                handler.finish(.read, output: output, context: context)
            }
            return
        }
        busy = false
        switch next {
        case .read, .delayed:
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: output)), promise: nil)
            process(context: context)
            if paused, !busy {
                paused = false
                context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            }
        case .close:
            closed = true
            timer?.cancel()
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: output))).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .startTLS:
            context.write(wrapOutboundOut(ByteBuffer(bytes: output)), promise: nil)
            guard let tls = session.env.tls else { return }
            upgrading = true
            // Whatever the client sent after STARTTLS in clear text is dropped (RFC 5804 §2.2).
            framer.reset()
            ServerKit.startTLS(context: context, tls: tls) { [self] context in
                session.tlsActive = true
                upgrading = false
                // §2.2: the server re-issues its capabilities over TLS, without being asked.
                context.writeAndFlush(
                    wrapOutboundOut(ByteBuffer(bytes: session.capabilities("TLS negotiation successful"))), promise: nil
                )
            }
        }
    }

    private func close(context: ChannelHandlerContext, bye: ManageSieveResponse) {
        guard !closed else { return }
        closed = true
        timer?.cancel()
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bye.bytes))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func resetTimer(context: ChannelHandlerContext) {
        timer?.cancel()
        guard !closed else { return }
        let limits = session.env.limits
        let seconds = loggedIn ? limits.idleTimeoutSeconds : limits.loginTimeoutSeconds
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .seconds(Int64(seconds))) {
            let (handler, context) = bound.value
            handler.close(context: context, bye: .bye("Idle for too long"))
        }
    }
}
