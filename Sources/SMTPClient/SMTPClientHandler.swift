import NIOCore
import NIOSSL
import NIOTLS
import SMTP
import Synchronization

/// What `connect` learns once the session is ready.
struct SMTPConnectionInfo: Sendable {
    var greeting: SMTPReply
    var extensions: [String: String]
    var tlsDescription: String?
    var handler: NIOLoopBound<SMTPClientHandler>
}

/// State read from outside the event loop.
final class SMTPConnectionShared: Sendable {
    let usable = Atomic<Bool>(false)
}

/// The channel handler that owns one `SMTPClientSession`: feeds it bytes and events, performs
/// its actions, runs the per-stage timer, and completes the promise of the operation the
/// `SMTPClientConnection` asked for (one at a time).
final class SMTPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Pending {
        case connect(EventLoopPromise<SMTPConnectionInfo>)
        case auth(EventLoopPromise<Void>)
        case transaction(EventLoopPromise<TransactionResult>)
        case quit(EventLoopPromise<Void>)
    }

    private var session: SMTPClientSession
    private let timeouts: SMTPClientTimeouts
    private let tlsConfiguration: TLSConfiguration?
    private let serverName: String?
    private let shared: SMTPConnectionShared
    private var pending: Pending?
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerStage: SMTPClientSession.Stage?
    private var repliesSeen = 0
    private var tlsDescription: String?
    private var closing = false

    init(
        session: SMTPClientSession, timeouts: SMTPClientTimeouts, tlsConfiguration: TLSConfiguration?,
        serverName: String?, shared: SMTPConnectionShared, ready: EventLoopPromise<SMTPConnectionInfo>
    ) {
        self.session = session
        self.timeouts = timeouts
        self.tlsConfiguration = tlsConfiguration
        self.serverName = serverName
        self.shared = shared
        self.pending = .connect(ready)
    }

    // MARK: - Requests (on the event loop)

    func startTransaction(_ envelope: OutboundEnvelope, _ promise: EventLoopPromise<TransactionResult>) {
        guard pending == nil else {
            promise.fail(SMTPClientError.protocolError("connection busy: another operation is in progress"))
            return
        }
        pending = .transaction(promise)
        perform(session.send(envelope))
    }

    func authenticate(user: String, password: String, _ promise: EventLoopPromise<Void>) {
        guard pending == nil else {
            promise.fail(SMTPClientError.protocolError("connection busy: another operation is in progress"))
            return
        }
        pending = .auth(promise)
        perform(session.authenticate(user: user, password: password))
    }

    func quit(_ promise: EventLoopPromise<Void>) {
        if session.isClosed || context == nil {
            close()
            promise.succeed()
            return
        }
        if let pending {
            // An operation is in flight (a cancelled caller): it fails, the connection closes.
            self.pending = nil
            fail(pending, .connectionLost(stage: "QUIT requested"))
        }
        pending = .quit(promise)
        perform(session.quit())
        if session.isClosed { close() }
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        rearmTimer(force: true)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(session.connectionClosed())
        cancelTimer()
        shared.usable.store(false, ordering: .relaxed)
        if let pending {
            self.pending = nil
            fail(pending, .connectionLost(stage: "close"))
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let actions = buffer.withUnsafeReadableBytes { session.receive($0) }
        perform(actions)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            let version = try? context.pipeline.syncOperations.nioSSL_tlsVersion()
            let verified = session.configuration.tlsPolicy == .verify ? ", certificate verified" : ""
            tlsDescription = (version.map(Self.describe) ?? "TLS") + verified
            perform(session.tlsEstablished())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(session.connectionClosed(error: describe(error, peer: context.remoteAddress)))
        close()
    }

    /// Certificate failures in words an administrator can act on; other errors as they are.
    private func describe(_ error: any Error, peer: SocketAddress?) -> String {
        let name = serverName ?? peer?.ipAddress ?? "the server"
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the certificate is not for \(name) (certificate verification is on for this destination)"
        }
        if case NIOSSLError.handshakeFailed(let inner) = error, "\(inner)".contains("CERTIFICATE_VERIFY_FAILED") {
            return "the certificate of \(name) did not verify: not issued by a CA this server trusts, expired, or not for \(name)"
        }
        return "\(error)"
    }

    // MARK: - Actions

    private func perform(_ actions: [SMTPClientSession.Action]) {
        guard let context else {
            // The channel is gone: nothing can be written, but no caller may wait forever.
            if let pending {
                self.pending = nil
                fail(pending, .connectionLost(stage: session.awaitingStage?.rawValue ?? "idle"))
            }
            return
        }
        // Before any promise completes, so a caller resumed by it sees the new state.
        shared.usable.store(session.isReady && !closing, ordering: .relaxed)
        for action in actions {
            switch action {
            case .write(let bytes):
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            case .writeMessage(let data):
                let buffer = Self.encodeMessage(data, allocator: context.channel.allocator)
                arm(.dataBlock)
                let replies = session.repliesReceived
                context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenSuccess {
                    // Written: now wait for the reply to the final ".".
                    if self.timerStage == .dataBlock && self.session.repliesReceived == replies {
                        self.arm(.dataEnd)
                    }
                }
            case .startTLS:
                startTLS(context: context)
            case .ready:
                if case .connect(let promise) = pending {
                    pending = nil
                    promise.succeed(
                        SMTPConnectionInfo(
                            greeting: session.greeting ?? SMTPReply(220, nil, ""), extensions: session.extensions,
                            tlsDescription: tlsDescription, handler: NIOLoopBound(self, eventLoop: context.eventLoop)))
                }
            case .authenticated:
                if case .auth(let promise) = pending {
                    pending = nil
                    promise.succeed()
                }
            case .transactionCompleted(let result):
                if case .transaction(let promise) = pending {
                    pending = nil
                    promise.succeed(result)
                }
            case .operationFailed(let error):
                if let pending {
                    self.pending = nil
                    fail(pending, error)
                }
            case .fail(let error):
                if let pending {
                    self.pending = nil
                    fail(pending, error)
                }
                close()
            case .close:
                if case .quit(let promise) = pending {
                    pending = nil
                    promise.succeed()
                }
                close()
            }
        }
        shared.usable.store(session.isReady && !closing, ordering: .relaxed)
        rearmTimer(force: false)
    }

    private func fail(_ pending: Pending, _ error: SMTPClientError) {
        switch pending {
        case .connect(let promise): promise.fail(error)
        case .auth(let promise): promise.fail(error)
        case .transaction(let promise): promise.fail(error)
        case .quit(let promise): promise.succeed()
        }
    }

    private func close() {
        guard !closing, let context else { return }
        closing = true
        cancelTimer()
        shared.usable.store(false, ordering: .relaxed)
        context.close(promise: nil)
    }

    private func startTLS(context: ChannelHandlerContext) {
        do {
            let configuration =
                tlsConfiguration ?? (session.configuration.tlsPolicy == .verify ? Self.verifyingConfiguration : Self.opportunisticConfiguration)
            let sslContext = try SMTPClientTLS.context(for: configuration)
            // SNI takes a host name, never an IP literal.
            let sni = serverName.flatMap { (try? SocketAddress(ipAddress: $0, port: 0)) == nil ? $0 : nil }
            let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: sni)
            try context.pipeline.syncOperations.addHandler(handler, position: .first)
        } catch {
            perform(session.tlsFailed("\(error)"))
        }
    }

    // MARK: - Timer

    /// Restarts the timer for what the session now awaits, when a reply arrived or the stage
    /// changed (each pipelined reply gets its own full timeout, RFC 5321 §4.5.3.2).
    private func rearmTimer(force: Bool) {
        guard let stage = session.awaitingStage, !closing else {
            cancelTimer()
            return
        }
        if timerStage == .dataBlock && stage == .dataEnd && session.repliesReceived == repliesSeen { return }
        if force || stage != timerStage || session.repliesReceived != repliesSeen {
            arm(stage)
        }
    }

    private func arm(_ stage: SMTPClientSession.Stage) {
        cancelTimer()
        guard let context else { return }
        repliesSeen = session.repliesReceived
        timerStage = stage
        let replies = repliesSeen
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.timeAmount(timeouts.duration(for: stage))) {
            guard self.timerStage == stage, self.session.repliesReceived == replies else { return }
            self.timer = nil
            self.timerStage = nil
            self.perform(self.session.timedOut(stage))
            self.close()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerStage = nil
    }

    // MARK: - Helpers

    /// The message as DATA content, dot-stuffed and terminated, built in one pass into one
    /// buffer (so it goes out in one write).
    static func encodeMessage(_ data: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: data.count + data.count / 64 + 16)
        data.withUnsafeBytes { input in
            var offset = 0
            while offset < input.count {
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64) { output in
                    DotStuffer.encode(input, offset: &offset, into: output)
                }
            }
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: DotStuffer.maximumTrailerSize) { output in
                DotStuffer.finish(input, into: output)
            }
        }
        return buffer
    }

    static let opportunisticConfiguration: TLSConfiguration = {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }()

    static let verifyingConfiguration = SMTPClientTLS.verifying(caFile: nil)

    static func describe(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: "TLSv1.0"
        case .tlsv11: "TLSv1.1"
        case .tlsv12: "TLSv1.2"
        case .tlsv13: "TLSv1.3"
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if nanos.overflow { return .hours(24 * 365) }
        return .nanoseconds(nanos.partialValue + attoseconds / 1_000_000_000)
    }
}
