import NIOCore
import NIOSSL

/// Reads into a buffer that starts at 512 octets (a command, or a TLS record of one) and grows
/// to 16 KiB at most: it never shrinks while a connection idles, so its largest size is what
/// each connection that once uploaded keeps.
public let smallReceiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 16 * 1024)

/// TLS on a server connection, set up so that a connection at rest keeps little memory.
///
/// swift-nio-ssl (2.37) keeps two buffers for the life of a connection, and never shrinks them:
/// the clear text it decrypted between two read completions, and the cipher text it encrypted in
/// one flush. Mail clients idle for hours after they sync, so one FETCH and one APPEND of 256 KiB
/// left an IMAPS connection holding about half a megabyte. Here a read completion brings at most
/// one read of 16 KiB, and TLS encrypts at most ``TLSWriteSplitter/limit`` octets at a time, so the
/// buffers stay at 32 KiB (64 KiB at most) and 16 KiB, whatever passed. The pieces of a large
/// answer still leave together, in one system call, when the protocol's handler flushes. The two
/// buffers start in pages of their own (``pagedBuffers``), so a connection holds only what it wrote
/// of them, and nothing once it has been quiet for a moment (``TLSRest``).
public enum ServerTLS {
    /// Adds TLS to `channel`: last in the pipeline for a connection being set up, `first` for
    /// STARTTLS (then the clear-text handlers are already there). Call it on the channel's loop.
    /// `quiet`: see ``TLSRest/quiet``.
    public static func add(
        _ tls: NIOSSLContext, to channel: any Channel, first: Bool = false, quiet: TimeAmount = TLSRest.quiet
    ) throws {
        try channel.syncOptions?.setOption(.recvAllocator, value: smallReceiveBuffers)
        try channel.syncOptions?.setOption(.maxMessagesPerRead, value: 1)
        let gate = TLSFlushGate()
        let handlers: [any ChannelHandler] = [gate, NIOSSLServerHandler(context: tls), TLSWriteSplitter(gate: gate)]
        // swift-nio-ssl takes its two lasting buffers from the channel's allocator as it is added.
        let buffers = try PagedBuffers.lent(to: channel) {
            try channel.pipeline.syncOperations.addHandlers(handlers, position: first ? .first : .last)
        }
        try channel.pipeline.syncOperations.addHandler(
            TLSRest(buffers: buffers, quiet: quiet), position: .before(handlers[0]))
    }
}

/// Next to the socket, before TLS: once the connection has been quiet for ``quiet`` (nothing read,
/// nothing written, nothing waiting to be sent), gives the pages of swift-nio-ssl's two lasting
/// buffers back to the system. Most connections are mail clients that idle for hours after they
/// sync, and those pages were almost half of what TLS added to an idle one (8 of 18 KB).
///
/// At that moment nothing in those buffers is still to be read: swift-nio-ssl hands on all the
/// clear text it decrypted when a read completes, and all the cipher text it encrypted when it
/// flushes; the protocol's handler copies what it reads (the handlers of IMAP, SMTP and
/// ManageSieve all do); and the socket holds no write that could still refer to them. The next
/// read or write finds zeroed pages, and takes them back.
public final class TLSRest: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// How long a connection is quiet before it gives its buffers' pages back: it does so between
    /// once and twice this after the last read or write. Taking them back costs two page faults.
    public static let quiet = TimeAmount.seconds(1)

    let buffers: [Int]
    private let quiet: TimeAmount
    /// Reads and writes since the last look.
    private var traffic = 0
    private var nextLook: Scheduled<Void>?

    /// `buffers`: the mappings ``PagedBuffers/lent(to:_:)`` made as TLS was added.
    init(buffers: [Int], quiet: TimeAmount = TLSRest.quiet) {
        self.buffers = buffers
        self.quiet = quiet
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        lookLater(context: context)
    }

    public func channelActive(context: ChannelHandlerContext) {
        lookLater(context: context)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        traffic += 1
        lookLater(context: context)
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        traffic += 1
        lookLater(context: context)
        context.write(data, promise: promise)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stopLooking()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stopLooking()
    }

    private func lookLater(context: ChannelHandlerContext) {
        // Never for a closed connection: the task would keep the handler until it ran.
        guard nextLook == nil, !buffers.isEmpty, context.channel.isActive else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        nextLook = context.eventLoop.scheduleTask(in: quiet) {
            let (handler, context) = bound.value
            handler.nextLook = nil
            handler.look(context: context)
        }
    }

    private func look(context: ChannelHandlerContext) {
        let unsent = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? nil
        if traffic == 0, unsent == 0 {
            // Until the next read or write, which looks again.
            PagedBuffers.release(buffers)
        } else {
            traffic = 0
            lookLater(context: context)
        }
    }

    private func stopLooking() {
        nextLook?.cancel()
        nextLook = nil
    }
}

/// Between the protocol's handler and TLS: flushes TLS before what waits for one flush would
/// encrypt to more than one full TLS record, cutting a large write into pieces. A write's promise
/// is completed with its last piece. Its own flushes make TLS encrypt, and stop at `gate`.
public final class TLSWriteSplitter: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Clear text per flush, counting each write's record framing: what encrypts into swift-nio-ssl's
    /// 16 KiB write buffer, with room for what TLS itself may add to a flush (session tickets).
    public static let limit = 16_000
    /// What a record adds to the clear text it carries (22 octets in TLS 1.3, 29 in 1.2 with
    /// AES-GCM), counted for every write: each write becomes a record of its own.
    static let recordOverhead = 32

    private var unflushed = 0
    private let gate: TLSFlushGate

    /// `gate`: the connection's ``TLSFlushGate``, between TLS and the socket.
    public init(gate: TLSFlushGate) {
        self.gate = gate
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        while unflushed + buffer.readableBytes + Self.recordOverhead > Self.limit {
            let room = Self.limit - unflushed - Self.recordOverhead
            if room > 0 {
                context.write(wrapOutboundOut(buffer.readSlice(length: room)!), promise: nil)
            }
            gate.holding = true
            context.flush()
            gate.holding = false
            unflushed = 0
        }
        unflushed += buffer.readableBytes + Self.recordOverhead
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    public func flush(context: ChannelHandlerContext) {
        unflushed = 0
        context.flush()
    }
}

/// Between TLS and the socket: writes pass, and so do flushes, except those that
/// ``TLSWriteSplitter`` makes to have TLS encrypt a piece. The encrypted pieces then wait for the
/// protocol handler's own flush and leave in one system call: written one by one, each woke the
/// client and the kernel's TCP path (large FETCHes over TLS cost 40% more CPU).
public final class TLSFlushGate: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Set by the splitter around its own flushes; only used on the channel's event loop.
    var holding = false

    public init() {}

    public func flush(context: ChannelHandlerContext) {
        if !holding { context.flush() }
    }
}
