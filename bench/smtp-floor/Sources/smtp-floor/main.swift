import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// An SMTP sink on SwiftNIO: the same event loops, channel defaults and one handler per
/// connection as Mailroom's SMTP server, and nothing else. It greets, answers 250 to every
/// command, 354 to DATA, 250 at the end of the message (which it throws away) and 221 to QUIT,
/// then closes. What it costs a sending session is what the stack Mailroom is built on costs,
/// before Mailroom does any work of its own.
///
///   smtp-floor PORT        listens on 127.0.0.1:PORT and prints "listening" when ready
final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var pending: [UInt8] = []
    private var inData = false

    func channelActive(context: ChannelHandlerContext) {
        reply("220 floor ESMTP", context)
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(contentsOf: unwrapInboundIn(data).readableBytesView)
        var start = 0
        var close = false
        while !close {
            if inData {
                // The message ends at a line that is a single dot.
                guard let end = find([13, 10, 46, 13, 10], from: max(start - 2, 0)) else { break }
                start = end + 5
                inData = false
                reply("250 2.0.0 Ok: dropped", context)
                continue
            }
            guard let eol = find([13, 10], from: start) else { break }
            let verb = pending[start..<min(start + 4, eol)].map { $0 & 0xDF }
            start = eol + 2
            switch verb {
            case Array("DATA".utf8):
                inData = true
                reply("354 End data with <CR><LF>.<CR><LF>", context)
            case Array("QUIT".utf8):
                reply("221 2.0.0 Bye", context)
                close = true
            case Array("EHLO".utf8):
                reply("250-floor\r\n250 PIPELINING", context)
            default:
                reply("250 2.0.0 Ok", context)
            }
        }
        pending.removeFirst(min(start, pending.count))
        if close {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.flush()
        }
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard pending.count >= needle.count, from <= pending.count - needle.count else { return nil }
        for i in from...(pending.count - needle.count) where pending[i] == needle[0] {
            if pending[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }

    private func reply(_ line: String, _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(ByteBuffer(string: line + "\r\n")), promise: nil)
    }
}

guard CommandLine.arguments.count == 2, let port = Int(CommandLine.arguments[1]) else {
    print("usage: smtp-floor PORT")
    exit(2)
}
// As Mailroom listens: a socket per event loop on the same port (SO_REUSEPORT), each accepting
// the connections its loop then serves.
var channels: [any Channel] = []
for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
    channels.append(
        try ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(SinkHandler()) }
            }
            .bind(host: "127.0.0.1", port: port).wait())
}
// Unbuffered, so that the bench sees it at once through a pipe.
_ = "listening\n".withCString { write(1, $0, strlen($0)) }
try channels[0].closeFuture.wait()
