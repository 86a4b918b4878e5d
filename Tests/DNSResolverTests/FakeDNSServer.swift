import DNS
import TestSupport
import NIOCore
import NIOPosix

/// An in-process name server on loopback whose replies the test scripts: for each query it gets
/// (as parsed), `udp` returns the datagrams to send back and `tcp` the messages to frame.
struct FakeDNSServer {
    typealias Reply = @Sendable (DNSMessage) -> [[UInt8]]

    let host: String
    let udpChannel: any Channel
    let tcpChannel: any Channel
    var address: DNSServerAddress { DNSServerAddress(host: host, port: udpChannel.localAddress!.port!) }

    static func start(
        host: String = "127.0.0.1", udp: @escaping Reply, tcp: @escaping Reply = { _ in [] }
    ) async throws -> FakeDNSServer {
        let group = MultiThreadedEventLoopGroup.singleton
        // UDP takes any free port; TCP needs the same number, which an outgoing connection of a
        // parallel test may hold: then try another.
        for attempt in 1...20 {
            let udpChannel = try await DatagramBootstrap(group: group)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(UDPReplier(reply: udp)) }
                }
                .bind(host: host, port: 0).get()
            do {
                let tcpChannel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { ch in
                        ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(TCPReplier(reply: tcp)) }
                    }
                    .bind(host: host, port: udpChannel.localAddress!.port!).get()
                return FakeDNSServer(host: host, udpChannel: udpChannel, tcpChannel: tcpChannel)
            } catch where attempt < 20 {
                try? await udpChannel.close()
            }
        }
        throw PeerError("no port free for both UDP and TCP")
    }

    func stop() async {
        try? await udpChannel.close()
        try? await tcpChannel.close()
    }

    /// A NOERROR response to `query` with `answers`.
    static func response(to query: DNSMessage, answers: [DNSRecord] = [], rcode: DNSResponseCode = .noError)
        -> DNSMessage
    {
        var m = DNSMessage(id: query.id)
        m.isResponse = true
        m.recursionAvailable = true
        m.rcode = rcode
        m.questions = query.questions
        m.answers = answers
        return m
    }
}

private final class UDPReplier: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let reply: FakeDNSServer.Reply

    init(reply: @escaping FakeDNSServer.Reply) { self.reply = reply }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        guard let bytes = envelope.data.readBytes(length: envelope.data.readableBytes),
            let query = try? DNSMessage(parsing: bytes)
        else { return }
        for datagram in reply(query) {
            context.write(
                wrapOutboundOut(
                    AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: datagram))),
                promise: nil)
        }
        context.flush()
    }
}

private final class TCPReplier: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let reply: FakeDNSServer.Reply
    var received = ByteBuffer()

    init(reply: @escaping FakeDNSServer.Reply) { self.reply = reply }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        guard let length = received.getInteger(at: received.readerIndex, as: UInt16.self),
            let bytes = received.getBytes(at: received.readerIndex + 2, length: Int(length)),
            let query = try? DNSMessage(parsing: bytes)
        else { return }
        received.moveReaderIndex(forwardBy: 2 + Int(length))
        var out = ByteBuffer()
        for message in reply(query) {
            out.writeInteger(UInt16(message.count))
            out.writeBytes(message)
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }
}
