import Delivery
import EmailAuth
import Foundation
import Logging
import MailCore
import NIOCore
import NIOSSL
import NIOTLS
import SMTP
import ServerKit
import Storage

/// Asks a connection to finish with 421 (server shutting down).
struct SMTPShutdownEvent: Sendable {}

/// The I/O shell around one ``SMTPSession``: moves bytes between the socket and the state
/// machine, performs its requests (TLS, login checks, delivery) and feeds the results back.
///
/// A plain channel handler rather than an async channel, because STARTTLS needs exact control
/// of reads: after the `220` for STARTTLS, reading stops until the TLS handler is in place, and
/// any clear-text bytes that came with the command are thrown away (CVE-2011-0411).
final class SMTPChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: SMTPSession
    private let env: SMTPEnvironment
    private var connection: ConnectionInfo
    private var idleTimer: Scheduled<Void>?
    /// When the connection will have been idle too long; every read moves it on.
    private var idleDeadline = NIODeadline.distantFuture
    /// When `idleTimer` fires. A deadline moved later leaves the timer be; one moved earlier
    /// (a short DATA timeout after the command timeout) schedules it again.
    private var timerFiresAt = NIODeadline.distantFuture
    /// Set once the connection is closed: no timer may be scheduled after that.
    private var inactive = false
    /// Between the STARTTLS reply and the TLS handler: nothing read counts.
    private var upgrading = false
    /// An authentication or delivery is under way; input waits.
    private var busy = false
    /// SPF for the current transaction, started at MAIL FROM.
    private var senderCheck: Task<SPFOutcome?, Never>?
    private var loopExecutor: LoopExecutor?

    /// Ask the connection-time checks (DNS blocklists) before greeting: MX connections.
    private let screen: Bool
    /// The listener's config name (`smtp`, `submission`, `submissions`), for metrics.
    private let listener: String

    init(session: SMTPSession, env: SMTPEnvironment, clientIP: String, implicitTLS: Bool, screen: Bool = false, listener: String = "smtp") {
        self.screen = screen
        self.listener = listener
        self.session = session
        self.env = env
        self.connection = ConnectionInfo(clientIP: clientIP, tls: implicitTLS ? "TLS" : nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        if screen { connection.reverseDNS = env.startReverseCheck(ip: connection.clientIP, on: executor(context)) }
        if screen, env.screens(ip: connection.clientIP) {
            let env = self.env
            let ip = connection.clientIP
            suspend(context: context) { await env.connectionRefusal(ip: ip) } resume: { handler, refusal in
                if let refusal {
                    handler.env.logger.notice("SMTP client refused", metadata: ["client": "\(ip)", "reply": "\(refusal)"])
                }
                return handler.session.start(refusal: refusal)
            }
        } else {
            perform(session.start(), context: context)
        }
        resetTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        senderCheck?.cancel()
        connection.reverseDNS?.cancel()
        idleTimer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !upgrading, !session.isClosed else { return }
        let buffer = unwrapInboundIn(data)
        perform(session.receive(buffer.readableBytesView), context: context)
        resetTimer(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SMTPShutdownEvent {
            perform(session.shutdown(), context: context)
        } else if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            let version = (try? context.pipeline.syncOperations.nioSSL_tlsVersion()) ?? nil
            connection.tls = version.map(Self.name) ?? "TLS"
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        env.logger.debug("SMTP connection error", metadata: ["client": "\(connection.clientIP)", "error": "\(error)"])
        context.close(promise: nil)
    }

    /// The protocol as Received headers write it (`TLSv1.3`).
    static func name(_ v: TLSVersion) -> String {
        switch v {
        case .tlsv1: return "TLSv1.0"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        default: return "\(v)"
        }
    }

    /// Moves the idle deadline on. The timer is not rescheduled for every read (a scheduled
    /// task, its promise and a heap entry per command); it fires at the deadline it was set for
    /// and sets itself again if reads moved the deadline on meanwhile.
    private func resetTimer(context: ChannelHandlerContext) {
        // A timer scheduled after the connection closed (the QUIT just read closed it) would
        // keep this handler and its buffers alive until it fired, minutes later.
        guard !inactive else { return }
        let seconds = session.isReceivingData ? env.limits.dataTimeoutSeconds : env.limits.commandTimeoutSeconds
        idleDeadline = context.eventLoop.now + .seconds(Int64(seconds))
        if idleTimer == nil || idleDeadline < timerFiresAt {
            scheduleIdleTimer(context: context)
        }
    }

    private func scheduleIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        timerFiresAt = idleDeadline
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(deadline: idleDeadline) {
            let (handler, context) = bound.value
            handler.idleTimer = nil
            // Busy: the work under way resets the timer when it hands its result back.
            guard !handler.inactive, !handler.busy else { return }
            guard context.eventLoop.now >= handler.idleDeadline else {
                handler.scheduleIdleTimer(context: context)
                return
            }
            handler.write(.timeout, context: context)
            context.writeAndFlush(handler.wrapOutboundOut(ByteBuffer())).whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func write(_ reply: SMTPReply, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(ByteBuffer(bytes: reply.encoded())), promise: nil)
    }

    private func perform(_ actions: [SMTPSession.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .send(let reply):
                write(reply, context: context)
            case .close:
                idleTimer?.cancel()
                context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in context.close(promise: nil) }
                return
            case .startTLS:
                startTLS(context: context)
                return
            case .authenticate(let user, let password):
                checkLogin(context: context) { env, ip in await env.authenticate(user: user, password: password, ip: ip) }
                return
            case .authenticated(let user, let success):
                checkLogin(context: context) { env, ip in await env.finishAuthentication(user: user, success: success, ip: ip) }
                return
            case .transactionStarted(let sender, let helo):
                senderCheck?.cancel()
                senderCheck = env.startSenderCheck(
                    sender, helo: helo, connection: connection, authenticated: session.authenticatedUser != nil, on: executor(context))
            case .deliver(let envelope, let data):
                let env = self.env
                let info = connection
                let check = senderCheck
                senderCheck = nil
                suspend(context: context) { await env.deliver(envelope, data, connection: info, senderCheck: check) } resume: { handler, reply in
                    let result = reply.code < 400 ? "accepted" : reply.code < 500 ? "deferred" : "refused"
                    env.stats.add(MetricCatalog.smtpMessages, ["listener": handler.listener, "result": result])
                    return handler.session.deliveryFinished(reply)
                }
                return
            case .rejected(let recipient, let sender, let reply):
                if !session.isReceivingData { env.stats.add(MetricCatalog.smtpRecipientsRefused, ["listener": listener]) }
                env.delivery.recordRefusal(
                    DeliveryEvent(
                        at: Date(), queueID: "-", messageID: nil, event: .rejected, sender: sender ?? "", recipient: recipient,
                        clientIP: connection.clientIP, helo: nil, tls: connection.tls, authUser: session.authenticatedUser,
                        detail: session.isReceivingData || recipient.contains(",") ? "message refused" : "refused", reply: "\(reply.code) \(reply.enhanced ?? "") \(reply.lines.joined(separator: " "))"))
            }
        }
        context.flush()
    }

    /// Settles a login (limits, delays) off the event loop and gives the session the result.
    private func checkLogin(context: ChannelHandlerContext, _ check: @escaping @Sendable (SMTPEnvironment, String) async -> AuthResult) {
        let env = self.env
        let ip = connection.clientIP
        suspend(context: context) { await check(env, ip) } resume: { handler, result in
            handler.session.authenticationFinished(result)
        }
    }

    /// Runs `work` off the event loop with reads paused, then hands its result back on the loop.
    private func suspend<T: Sendable>(
        context: ChannelHandlerContext, _ work: @escaping @Sendable () async -> T,
        resume: @escaping (SMTPChannelHandler, T) -> [SMTPSession.Action]
    ) {
        context.flush()
        busy = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let bound = NIOLoopBound((self, context, resume), eventLoop: context.eventLoop)
        Task(executorPreference: executor(context)) {
            let result = await work()
            let (handler, context, resume) = bound.value
            handler.busy = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            handler.perform(resume(handler, result), context: context)
            handler.resetTimer(context: context)
        }
    }

    /// The connection's loop, for the tasks it starts (see ``LoopExecutor``).
    private func executor(_ context: ChannelHandlerContext) -> LoopExecutor {
        if let loopExecutor { return loopExecutor }
        let made = LoopExecutor(context.eventLoop)
        loopExecutor = made
        return made
    }

    private func startTLS(context: ChannelHandlerContext) {
        guard let tls = env.tls else { return }
        upgrading = true
        ServerKit.startTLS(context: context, tls: tls) { [self] context in
            upgrading = false
            connection.tls = "TLS"
            perform(session.tlsStarted(), context: context)
        }
    }
}
