import NIOCore
import NIOPosix

/// What one try of one query against one server gave.
enum DNSTryOutcome: Equatable {
    case response(DNSMessage)
    case malformed(String)
    case timeout
    /// The server could not be reached (ICMP port unreachable, connection refused, no route).
    case unreachable(String)
}

/// One query over UDP or TCP (RFC 1035 §4.2) with NIO. Each UDP query gets its own connected
/// socket, so a fresh ephemeral source port, and the kernel drops datagrams from other
/// addresses (RFC 5452 §9.2). Every try ends by its deadline.
struct DNSTransport: Sendable {
    let group: any EventLoopGroup

    func udp(_ query: DNSMessage, to server: SocketAddress, timeout: TimeAmount) async -> DNSTryOutcome {
        let bytes = Self.encode(query)
        let loop = group.next()
        let promise = loop.makePromise(of: DNSTryOutcome.self)
        let bootstrap = DatagramBootstrap(group: loop)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: DNSLimits.maxUDPResponse))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPAnswerHandler(query: query, promise: promise))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(to: server).get()
        } catch {
            promise.succeed(.unreachable("\(error)"))
            return .unreachable("\(error)")
        }
        let timer = loop.scheduleTask(in: timeout) { promise.succeed(.timeout) }
        channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenFailure { promise.succeed(.unreachable("\($0)")) }
        let outcome = await Self.wait(for: promise)
        timer.cancel()
        channel.close(promise: nil)
        return outcome
    }

    func tcp(_ query: DNSMessage, to server: SocketAddress, timeout: TimeAmount) async -> DNSTryOutcome {
        let bytes = Self.encode(query)
        let loop = group.next()
        let deadline = NIODeadline.now() + timeout
        let promise = loop.makePromise(of: DNSTryOutcome.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TCPAnswerHandler(query: query, promise: promise))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(to: server).get()
        } catch {
            promise.succeed(.unreachable("\(error)"))
            return .unreachable("TCP: \(error)")
        }
        let timer = loop.scheduleTask(deadline: deadline) { promise.succeed(.timeout) }
        var framed = ByteBuffer()
        framed.writeInteger(UInt16(bytes.count))
        framed.writeBytes(bytes)
        channel.writeAndFlush(framed).whenFailure { promise.succeed(.unreachable("TCP: \($0)")) }
        let outcome = await Self.wait(for: promise)
        timer.cancel()
        channel.close(promise: nil)
        return outcome
    }

    private static func encode(_ query: DNSMessage) -> [UInt8] {
        do {
            return try query.encoded()
        } catch {
            preconditionFailure("a query must encode: \(error)")
        }
    }

    /// Waits for the outcome; a cancelled task stops waiting at once.
    private static func wait(for promise: EventLoopPromise<DNSTryOutcome>) async -> DNSTryOutcome {
        await withTaskCancellationHandler {
            (try? await promise.futureResult.get()) ?? .timeout
        } onCancel: {
            promise.succeed(.timeout)
        }
    }

    /// A server's address as NIO wants it. Zone ids (`fe80::1%eth0`) go through getaddrinfo,
    /// which does not touch the network for a numeric host.
    static func socketAddress(_ server: DNSServerAddress) throws(DNSLookupFailure) -> SocketAddress {
        guard IPAddressText.isIPLiteral(server.host), (1...65_535).contains(server.port) else {
            throw .serverFailure("name server \(server) is not an IP address and port; fix dns.servers")
        }
        do {
            if server.host.contains("%") {
                return try SocketAddress.makeAddressResolvingHost(server.host, port: server.port)
            }
            return try SocketAddress(ipAddress: server.host, port: server.port)
        } catch {
            throw .serverFailure("name server \(server): \(error)")
        }
    }
}

/// Completes the promise with the first datagram that answers the query; others are dropped.
final class UDPAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let query: DNSMessage
    private let promise: EventLoopPromise<DNSTryOutcome>

    init(query: DNSMessage, promise: EventLoopPromise<DNSTryOutcome>) {
        self.query = query
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) ?? []
        switch DNSResponseMatch.check(bytes, against: query) {
        case .ignore: break
        case .malformed(let why): promise.succeed(.malformed(why))
        case .response(let message): promise.succeed(.response(message))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(.unreachable("\(error)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(.unreachable("socket closed"))
    }
}

/// Reads one length-prefixed message (RFC 1035 §4.2.2) and completes the promise with it.
final class TCPAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let query: DNSMessage
    private let promise: EventLoopPromise<DNSTryOutcome>
    private var received = ByteBuffer()
    private var done = false

    init(query: DNSMessage, promise: EventLoopPromise<DNSTryOutcome>) {
        self.query = query
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        guard let length = received.getInteger(at: received.readerIndex, as: UInt16.self),
            received.readableBytes >= 2 + Int(length),
            let bytes = received.getBytes(at: received.readerIndex + 2, length: Int(length))
        else { return }
        done = true
        received = ByteBuffer()
        switch DNSResponseMatch.check(bytes, against: query) {
        case .ignore: promise.succeed(.malformed("TCP answer with another ID"))
        case .malformed(let why): promise.succeed(.malformed("TCP: \(why)"))
        case .response(let message): promise.succeed(.response(message))
        }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(.unreachable("TCP: \(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(.malformed("TCP connection closed before a whole answer"))
    }
}
