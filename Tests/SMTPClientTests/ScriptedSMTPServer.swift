import NIOCore
import NIOPosix
import Synchronization

/// A tiny in-process SMTP server on 127.0.0.1 that answers by script, for the NIO tests.
final class ScriptedSMTPServer: Sendable {
    enum Step: Sendable {
        case reply(String)
        case silent
        case close
    }

    struct Script: Sendable {
        var greeting: String? = "220 scripted.test ESMTP"
        var ehlo = ["scripted.test", "PIPELINING", "SIZE 10000000", "8BITMIME", "ENHANCEDSTATUSCODES"]
        /// Overrides the default answer to a command line; nil keeps the default.
        var respond: @Sendable (String) -> Step? = { _ in nil }
        /// The answer to the end of data.
        var dataEnd: Step = .reply("250 2.0.0 queued")
        /// Close the connection as soon as message data arrives.
        var dropInData = false
    }

    struct Record {
        var connections = 0
        var commands: [String] = []
        /// Message data as received (dot-stuffed, without the final ".").
        var messages: [[UInt8]] = []
    }

    let channel: any Channel
    let box: RecordBox
    var port: Int { channel.localAddress!.port! }

    private init(channel: any Channel, box: RecordBox) {
        self.channel = channel
        self.box = box
    }

    static func start(_ script: Script = Script()) async throws -> ScriptedSMTPServer {
        let box = RecordBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ScriptedSMTPHandler(script: script, box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedSMTPServer(channel: channel, box: box)
    }

    func stop() async {
        try? await channel.close()
    }

    var snapshot: Record { box.record.withLock { $0 } }
}

final class RecordBox: Sendable {
    let record = Mutex(ScriptedSMTPServer.Record())
    func update(_ body: (inout ScriptedSMTPServer.Record) -> Void) {
        record.withLock { body(&$0) }
    }
}

private final class ScriptedSMTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let script: ScriptedSMTPServer.Script
    let box: RecordBox
    var buffer: [UInt8] = []
    var inData = false

    init(script: ScriptedSMTPServer.Script, box: RecordBox) {
        self.script = script
        self.box = box
    }

    func channelActive(context: ChannelHandlerContext) {
        box.update { $0.connections += 1 }
        if let greeting = script.greeting { send(greeting, context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffer += unwrapInboundIn(data).readableBytesView
        while context.channel.isActive {
            if inData {
                if script.dropInData {
                    context.close(promise: nil)
                    return
                }
                let end: Int
                if buffer.starts(with: Array(".\r\n".utf8)) {
                    end = 0
                } else if let r = find(Array("\r\n.\r\n".utf8), in: buffer) {
                    end = r + 2
                } else {
                    return
                }
                let message = Array(buffer[..<end])
                buffer.removeFirst(end + 3)
                inData = false
                box.update { $0.messages.append(message) }
                perform(script.dataEnd, context)
            } else {
                guard let r = find([13, 10], in: buffer) else { return }
                let line = String(decoding: buffer[..<r], as: UTF8.self)
                buffer.removeFirst(r + 2)
                box.update { $0.commands.append(line) }
                perform(script.respond(line) ?? defaultStep(line), context)
            }
        }
    }

    func defaultStep(_ line: String) -> ScriptedSMTPServer.Step {
        let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
        switch verb {
        case "EHLO":
            let lines = script.ehlo
            return .reply(
                lines.enumerated().map { "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)" }.joined(
                    separator: "\r\n"))
        case "HELO": return .reply("250 scripted.test")
        case "DATA":
            inData = true
            return .reply("354 go ahead")
        case "QUIT": return .reply("221 2.0.0 bye")
        default: return .reply("250 2.0.0 ok")
        }
    }

    func perform(_ step: ScriptedSMTPServer.Step, _ context: ChannelHandlerContext) {
        switch step {
        case .reply(let text):
            send(text, context)
            if text.hasPrefix("221") { context.close(promise: nil) }
        case .silent: break
        case .close: context.close(promise: nil)
        }
    }

    func send(_ text: String, _ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    var i = 0
    while i <= haystack.count - needle.count {
        if haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle { return i }
        i += 1
    }
    return nil
}
