import HTTPClientKit
import NIOCore
import NIOPosix

/// ClamAV's daemon, asked with INSTREAM (clamd(8)): the message goes in chunks, the answer is
/// `stream: OK` or `stream: <signature> FOUND`.
public struct Clamd: Sendable {
    public enum Address: Hashable, Sendable, CustomStringConvertible {
        case unix(String)
        case tcp(host: String, port: Int)

        /// `unix:/run/clamav/clamd.ctl`, `/run/clamav/clamd.ctl` or `127.0.0.1:3310`.
        public init?(_ text: String) {
            if text.hasPrefix("unix:") {
                self = .unix(String(text.dropFirst(5)))
            } else if text.hasPrefix("/") {
                self = .unix(text)
            } else if let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) {
                var host = String(text[..<colon])
                if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                guard !host.isEmpty else { return nil }
                self = .tcp(host: host, port: port)
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .unix(let path): "unix:\(path)"
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            }
        }
    }

    public enum Verdict: Hashable, Sendable {
        case clean
        case infected(signature: String)
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreachable(String)
        case error(String)

        public var description: String {
            switch self {
            case .unreachable(let why): "clamd is unreachable: \(why)"
            case .error(let why): "clamd could not scan the message: \(why)"
            }
        }
    }

    public let address: Address
    public let timeout: Duration

    public init(address: Address, timeout: Duration = .seconds(30)) {
        self.address = address
        self.timeout = timeout
    }

    /// Scans `message`; throws when clamd cannot be reached or does not give a verdict, so that
    /// the caller can refuse for now instead of accepting unscanned mail.
    public func scan(_ message: [UInt8]) async throws(Failure) -> Verdict {
        let answer: String
        do {
            answer = try await exchange(message)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .unreachable("\(error)")
        }
        // "stream: OK", "stream: Eicar-Signature FOUND", "... ERROR".
        let text = answer.hasPrefix("stream: ") ? String(answer.dropFirst(8)) : answer
        if text == "OK" { return .clean }
        if text.hasSuffix(" FOUND") { return .infected(signature: String(text.dropLast(6))) }
        throw .error(text.isEmpty ? "no answer" : text)
    }

    private func exchange(_ message: [UInt8]) async throws -> String {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(5))
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel(wrappingChannelSynchronously: channel) }
            }
            switch address {
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            }
        } catch {
            throw Failure.unreachable("\(address): \(error)")
        }
        let answer = try await withDeadline(.seconds(timeout.components.seconds), closing: channel.channel) {
            try await channel.executeThenClose { inbound, outbound in
                var buffer = ByteBuffer(string: "zINSTREAM\0")
                try await outbound.write(buffer)
                let chunk = 64 * 1024
                var offset = 0
                while offset < message.count {
                    let end = min(offset + chunk, message.count)
                    buffer = ByteBuffer()
                    buffer.writeInteger(UInt32(end - offset), endianness: .big)
                    buffer.writeBytes(message[offset..<end])
                    try await outbound.write(buffer)
                    offset = end
                }
                buffer = ByteBuffer()
                buffer.writeInteger(UInt32(0))
                try await outbound.write(buffer)
                var answer: [UInt8] = []
                for try await part in inbound {
                    answer += part.readableBytesView
                    if let nul = answer.firstIndex(of: 0) { return String(decoding: answer[..<nul], as: UTF8.self) }
                    if answer.count > 4096 { break }
                }
                return String(decoding: answer, as: UTF8.self).trimmingCharacters(in: [" ", "\n", "\0"])
            }
        }
        guard let answer else { throw Failure.error("no verdict within \(timeout.components.seconds) s") }
        return answer
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
