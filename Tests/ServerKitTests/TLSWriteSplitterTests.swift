import NIOCore
import NIOEmbedded
import ServerKit
import Testing

/// What TLS would encrypt at each flush: the splitter keeps it within one 16 KiB buffer's worth,
/// and the gate still sends it to the socket at the protocol's flush only.
struct TLSWriteSplitterTests {
    /// Stands where TLS stands: records each write, and what each flush would encrypt.
    final class FlushRecorder: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var pending: [Int] = []
        var flushes: [[Int]] = []
        var bytes: [UInt8] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let buffer = unwrapOutboundIn(data)
            pending.append(buffer.readableBytes)
            bytes += buffer.readableBytesView
            context.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            flushes.append(pending)
            pending = []
            context.flush()
        }
    }

    /// The pipeline of a TLS connection, a recorder standing in for TLS, and one for the socket.
    static func channel() throws -> (EmbeddedChannel, tls: FlushRecorder, socket: FlushRecorder) {
        let (tls, socket, gate) = (FlushRecorder(), FlushRecorder(), TLSFlushGate())
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([socket, gate, tls, TLSWriteSplitter(gate: gate)])
        return (channel, tls, socket)
    }

    /// The write buffer of swift-nio-ssl is 16 KiB and keeps the largest size it ever grew to.
    static func encrypted(_ writes: [Int]) -> Int { writes.reduce(0) { $0 + $1 + 29 } }

    @Test(arguments: [
        [300_000],  // one large FETCH piece
        [100, 16_000, 5, 40_000, 0, 7],  // lines and literals mixed
        Array(repeating: 150, count: 500),  // many short lines (a long FETCH FLAGS answer)
        [15_950, 60],
    ])
    func noFlushEncryptsMoreThanOneBuffer(writes: [Int]) throws {
        let (channel, recorder, socket) = try Self.channel()
        var sent: [UInt8] = []
        var promises: [EventLoopFuture<Void>] = []
        for (k, size) in writes.enumerated() {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ k) }
            sent += bytes
            promises.append(channel.write(ByteBuffer(bytes: bytes)))
        }
        channel.flush()
        #expect(recorder.bytes == sent)
        #expect(recorder.pending.isEmpty)
        #expect(recorder.flushes.allSatisfy { Self.encrypted($0) <= 16_384 }, "\(recorder.flushes.map { Self.encrypted($0) })")
        // Nothing is cut finer than it must be: a flush is added only when the next write would not fit.
        let needed = Self.encrypted(writes) / TLSWriteSplitter.limit
        #expect(recorder.flushes.count <= needed + 2)
        // The pieces reach the socket together, at the one flush the protocol made.
        #expect(socket.bytes == sent)
        #expect(socket.flushes.count == 1)
        for promise in promises { #expect(throws: Never.self) { try promise.wait() } }
        _ = try channel.finish()
    }

    /// Small answers pass as they are: one write, flushed when the handler flushes.
    @Test func smallWritesAreNotFlushedEarly() throws {
        let (channel, recorder, _) = try Self.channel()
        channel.write(ByteBuffer(string: "* 1 EXISTS\r\n"), promise: nil)
        channel.write(ByteBuffer(string: "a OK done\r\n"), promise: nil)
        #expect(recorder.flushes.isEmpty)
        channel.flush()
        #expect(recorder.flushes == [[12, 11]])
        _ = try channel.finish()
    }
}
