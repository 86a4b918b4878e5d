import Delivery
import Foundation
import IMAP
import Logging
import NIOCore
import NIOSSL
import Offload
import ServerKit

/// Asks a connection to end with `* BYE` (server shutting down).
struct IMAPShutdownEvent: Sendable {}

/// The I/O shell around one ``IMAPSession``: frames commands on the event loop, runs each on
/// the connection's lane of the blocking pool (the store blocks), writes the responses, and
/// handles what the session asks for (STARTTLS, IDLE, SASL lines, login delays).
///
/// Nothing on the pool waits for the client: a command hands its output to the channel without
/// waiting, leaves file literals to be sent from here a chunk at a time while the channel is
/// writable (each chunk read on the lane), and a long FETCH stops between messages while the
/// client is behind (``IMAPSession/Next/more(_:)``) and is resumed from here when the channel
/// becomes writable again. A client that stops reading holds memory up to the channel's
/// high-water mark and no thread.
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
    private let lane: BlockingPool.Lane
    private var framer: IMAPFramer
    private var mode = Mode.commands
    /// A command runs on the lane, or its output is still being sent: framing waits.
    private var busy = false
    /// A command's output that waits for the channel (file literals and what follows them).
    private var outgoing: [ResponseWriter.Part] = []
    /// What to do once ``outgoing`` is sent and the channel can take more.
    private var afterOutgoing: IMAPSession.Next?
    /// Sending stopped until the channel is writable again.
    private var waitingForWritable = false
    /// Octets of a file literal read per lane job.
    static let fileChunk = 64 * 1024
    /// The mailbox changed during IDLE while an update was already being written.
    private var changePending = false
    private var idleTimer: Scheduled<Void>?
    /// Whether the session has logged in (as of its last command), for the autologout time.
    private var loggedIn = false
    /// A large APPEND whose literal is being read into a file.
    private var appending: LargeAppend?
    /// Literal octets handed to the lane and not yet written to the file.
    private var uploadInFlight = 0
    /// Reading from the socket stopped because too much waits in memory.
    private var readingPaused = false
    /// How much may wait in memory before reading stops: a slow disk or a long command must
    /// not make a fast client's bytes pile up.
    static let highWater = 1 << 20

    init(session: IMAPSession, env: IMAPEnvironment, lane: BlockingPool.Lane) {
        self.session = session
        self.env = env
        self.lane = lane
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
        // Files not sent are closed with the parts that hold them.
        outgoing = []
        afterOutgoing = nil
        let session = self.session
        let append = appending
        appending = nil
        lane.submit {
            // A literal cut off midway: nothing is stored and its file goes.
            if let append { session.abandonAppend(append) }
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
            case .literalBegin(let command, let size, let synchronizing):
                beginLiteral(command: command, size: size, synchronizing: synchronizing, context: context)
            case .literalData(let bytes):
                literalData(bytes, context: context)
            case .command(let bytes):
                let mode = self.mode
                if let append = appending {
                    appending = nil
                    run(context: context) { session, out in
                        switch mode {
                        case .commands: return session.finishAppend(append, tail: bytes, out: out)
                        // Not a command in these modes (the literal was dropped): the line is
                        // what the mode expects, and wrong.
                        case .idle: return session.endIdle(append.command + bytes, out: out)
                        default: return session.continueAuthentication(append.command + bytes, out: out)
                        }
                    }
                    continue
                }
                run(context: context) { session, out in
                    switch mode {
                    case .idle: return session.endIdle(bytes, out: out)
                    case .sasl: return session.continueAuthentication(bytes, out: out)
                    default: return session.handle(bytes, out: out)
                    }
                }
            }
        }
        adjustReading(context: context)
    }

    /// A large APPEND literal was announced: the session checks what it can before the client
    /// sends it, then the literal is read into a file.
    private func beginLiteral(command: [UInt8], size: Int, synchronizing: Bool, context: ChannelHandlerContext) {
        guard mode == .commands else {
            // Only a command takes a literal to store; anything else is read and dropped.
            appending = LargeAppend(command: command, size: size, upload: nil, refusal: nil)
            if synchronizing { send(.continuation("Ready for literal data"), context: context) }
            return
        }
        busy = true
        let session = self.session
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        lane.submit {
            let out = ResponseWriter { _ in preconditionFailure("A refusal is one line") }
            let start = session.beginAppend(command, size: size, synchronizing: synchronizing, out: out)
            let output = out.buffer
            loop.execute {
                let (handler, context) = bound.value
                guard handler.mode != .closed else {
                    if case .accepted(let append) = start { handler.lane.submit { session.abandonAppend(append) } }
                    return
                }
                switch start {
                case .accepted(let append):
                    handler.busy = false
                    handler.appending = append
                    if synchronizing { handler.send(.continuation("Ready for literal data"), context: context) }
                    handler.process(context: context)
                case .refused(let next):
                    handler.framer.skipLiteral()
                    handler.finish(next, output: output, context: context)
                }
            }
        }
    }

    /// Octets of a large APPEND literal: written to its file on the connection's lane, in
    /// order, with reading paused while too many wait.
    private func literalData(_ bytes: [UInt8], context: ChannelHandlerContext) {
        guard let append = appending else { preconditionFailure("Literal data comes after literalBegin") }
        let session = self.session
        let count = bytes.count
        uploadInFlight += count
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        lane.submit {
            session.appendData(bytes, to: append)
            loop.execute {
                let (handler, context) = bound.value
                handler.uploadInFlight -= count
                handler.adjustReading(context: context)
            }
        }
    }

    /// Stops reading while more than ``highWater`` octets wait in memory (a literal not yet on
    /// disk, or commands pipelined behind a slow one), and starts again when they have gone.
    private func adjustReading(context: ChannelHandlerContext) {
        guard mode != .upgrading, mode != .closed else { return }
        let pause = uploadInFlight > Self.highWater || (busy && framer.bufferedCount > Self.highWater)
        guard pause != readingPaused else { return }
        readingPaused = pause
        context.channel.setOption(ChannelOptions.autoRead, value: !pause).whenComplete { _ in }
    }

    /// Runs `work` on the connection's lane, then sends its output and applies its result on
    /// the event loop. Output that fills up as it runs goes to the channel at once, unwaited.
    private func run(context: ChannelHandlerContext, _ work: @escaping @Sendable (IMAPSession, ResponseWriter) -> IMAPSession.Next) {
        busy = true
        let channel = context.channel
        let session = self.session
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        lane.submit {
            let out = ResponseWriter(
                sink: { bytes in channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil) },
                writable: { channel.isWritable })
            let next = work(session, out)
            let (parts, rest) = out.take()
            let loggedIn = session.hasLoggedIn
            loop.execute {
                let (handler, context) = bound.value
                handler.loggedIn = loggedIn
                handler.finish(next, parts: parts, output: rest, context: context)
            }
        }
    }

    private func finish(_ next: IMAPSession.Next, parts: [ResponseWriter.Part] = [], output: [UInt8], context: ChannelHandlerContext) {
        guard mode != .closed else { return }
        if case .delayed(let delay) = next {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)) {
                let (handler, context) = bound.value
                handler.finish(.read, output: output, context: context)
            }
            return
        }
        var more = false
        if case .more = next { more = true }
        if more || !parts.isEmpty {
            // Sent from here as the client takes it; the command goes on (or the next one
            // starts) after that.
            outgoing = parts
            if !output.isEmpty { outgoing.append(.bytes(output)) }
            afterOutgoing = next
            pump(context: context)
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
        case .more:
            preconditionFailure("A command that stopped is resumed by pump(context:)")
        }
        if mode == .idle && changePending { mailboxChanged(context: context) }
        process(context: context)
    }

    /// Sends ``outgoing`` while the channel is writable, reading file literals a chunk at a
    /// time on the lane; then resumes the command that stopped, or finishes it. While the
    /// client does not read, this waits for ``channelWritabilityChanged(context:)``, holding no
    /// thread.
    private func pump(context: ChannelHandlerContext) {
        while mode != .closed {
            guard context.channel.isWritable else {
                waitingForWritable = true
                return
            }
            guard !outgoing.isEmpty else {
                guard let next = afterOutgoing else { return }
                afterOutgoing = nil
                if case .more(let rest) = next {
                    run(context: context) { session, out in rest.run(session, out) }
                } else {
                    finish(next, output: [], context: context)
                }
                return
            }
            switch outgoing.removeFirst() {
            case .bytes(let bytes):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
            case .file(let box, let range):
                let piece = range.lowerBound..<min(range.upperBound, range.lowerBound + Self.fileChunk)
                if piece.upperBound < range.upperBound { outgoing.insert(.file(box, piece.upperBound..<range.upperBound), at: 0) }
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let loop = context.eventLoop
                lane.submit {
                    let bytes = box.file.copyBytes(piece)
                    let failure = box.file.error
                    loop.execute {
                        let (handler, context) = bound.value
                        guard handler.mode != .closed else { return }
                        if let failure {
                            // The literal's length was promised: the only honest end is to
                            // drop the connection (the client fetches again).
                            handler.env.logger.error(
                                "IMAP FETCH could not read a message file", metadata: ["client": "\(handler.session.clientIP)", "error": "\(failure)"])
                            handler.mode = .closed
                            handler.outgoing = []
                            handler.afterOutgoing = nil
                            context.close(promise: nil)
                            return
                        }
                        context.writeAndFlush(handler.wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
                        handler.pump(context: context)
                    }
                }
                return
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if waitingForWritable, context.channel.isWritable {
            waitingForWritable = false
            pump(context: context)
        }
        context.fireChannelWritabilityChanged()
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
