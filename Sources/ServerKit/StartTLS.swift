import NIOCore
import NIOSSL

/// Puts TLS in front of a connection whose handler has just queued its clear-text go-ahead
/// (SMTP's `220`, IMAP's `OK Begin TLS`): reading stops, the go-ahead is flushed, the TLS
/// handler goes first in the pipeline (set up by ``ServerTLS``), `upgraded` runs, and reading
/// resumes, so the next bytes read are the client's handshake. A failure at any step closes the
/// connection.
public func startTLS(
    context: ChannelHandlerContext, tls: NIOSSLContext, upgraded: @escaping (ChannelHandlerContext) -> Void
) {
    context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
    let bound = NIOLoopBound((context, upgraded), eventLoop: context.eventLoop)
    context.writeAndFlush(NIOAny(ByteBuffer())).whenComplete { result in
        let (context, upgraded) = bound.value
        guard case .success = result else {
            context.close(promise: nil)
            return
        }
        do {
            try ServerTLS.add(tls, to: context.channel, first: true)
        } catch {
            context.close(promise: nil)
            return
        }
        upgraded(context)
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }
}
