import Logging
import NIOCore
import NIOSSL
import NIOTLS
import TLSHello

/// First in a web connection's pipeline when ACME validates by TLS-ALPN-01 (RFC 8737): holds
/// the first bytes until the ClientHello can be read, then puts the TLS handler in its place
/// and passes them on unchanged. A hello that offers ALPN `acme-tls/1` alone, for a name with
/// a pending challenge, gets that challenge's context (its certificate, ALPN `acme-tls/1`), and
/// the connection is closed once the handshake is done; every other connection gets the
/// listener's normal context, as if the sniffer were not there.
///
/// Bounded: it holds at most one TLS record of ``ClientHello/Limits/maxRecordLength`` (a
/// longer or unreadable hello goes to the normal context at once), and closes a connection
/// that sends no complete hello within ``timeout``.
final class ClientHelloSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// How long a client may take to send its ClientHello.
    static let defaultTimeout: TimeAmount = .seconds(10)

    let normal: NIOSSLContext
    let challenge: @Sendable (String) -> NIOSSLContext?
    let timeout: TimeAmount
    let logger: Logger
    private var buffered: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var decided = false

    init(
        normal: NIOSSLContext, challenge: @escaping @Sendable (String) -> NIOSSLContext?,
        timeout: TimeAmount = defaultTimeout, logger: Logger
    ) {
        self.normal = normal
        self.challenge = challenge
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            // No complete ClientHello in time: nothing to pass on that TLS could use.
            loopBound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        let tls: NIOSSLContext
        var acme = false
        do {
            guard let hello = try ClientHello.parse(buffered!.readableBytesView) else { return }  // more to come
            if hello.offersOnly(ClientHello.acmeTLS1), let name = hello.serverName, let context = challenge(name) {
                logger.info("answering a TLS-ALPN-01 validation", metadata: ["name": "\(name)"])
                (tls, acme) = (context, true)
            } else {
                tls = normal
            }
        } catch {
            // Not a hello we read (too large, fragmented, not TLS): the TLS library decides.
            tls = normal
        }
        decide(context: context, tls: tls, acme: acme)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !decided {
            context.read()  // the hello is incomplete: ask for the rest even without autoRead
        }
        context.fireChannelReadComplete()
    }

    /// The TLS handler goes in after this one, the held bytes to it, and this handler out.
    private func decide(context: ChannelHandlerContext, tls: NIOSSLContext, acme: Bool) {
        decided = true
        timer?.cancel()
        timer = nil
        do {
            let pipeline = context.pipeline.syncOperations
            if acme {
                // RFC 8737 §3: the validator sends nothing after the handshake; neither do we.
                try pipeline.addHandler(CloseAfterHandshake(), position: .after(self))
            }
            try pipeline.addHandler(NIOSSLServerHandler(context: tls), position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        if let bytes = buffered {
            buffered = nil
            context.fireChannelRead(wrapInboundOut(bytes))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// After a TLS-ALPN-01 handshake: close the connection; the certificate was the whole answer.
final class CloseAfterHandshake: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Nothing the validator sends is read.
    }
}
