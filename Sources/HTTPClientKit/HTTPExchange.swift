import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 request and its whole response, on SwiftNIO: what the CLI needs to talk to the
/// admin API (with a pinned certificate) and the server to talk to rspamd and ACME servers.
public enum HTTPExchange {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        /// No connection could be made.
        case unreachable(String)
        /// The peer broke HTTP, or did not answer in time.
        case protocolError(String)

        public var description: String {
            switch self {
            case .unreachable(let why): why
            case .protocolError(let why): why
            }
        }
    }

    /// Sends `method path` to `host:port` (TLS when `tls` is given) with `Connection: close`,
    /// and returns the response once it is complete or throws after `timeout`.
    public static func send(
        host: String, port: Int, tls: NIOSSLContext? = nil, method: HTTPMethod, path: String,
        headers extra: [(String, String)] = [], body: [UInt8]? = nil, timeout: TimeAmount = .seconds(30)
    ) async throws -> Response {
        let isIP = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(min(timeout, .seconds(10)))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tls, serverHostname: isIP ? nil : host))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure.unreachable("\(error)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        headers.add(name: "Connection", value: "close")
        for (name, value) in extra { headers.add(name: name, value: value) }
        if let body {
            headers.add(name: "Content-Length", value: String(body.count))
        } else if method == .POST || method == .PATCH || method == .PUT {
            headers.add(name: "Content-Length", value: "0")
        }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        let response = try await withDeadline(timeout, closing: channel.channel) {
            try await channel.executeThenClose { inbound, outbound in
                // One write. With `Connection: close` a server may answer and close as soon as it
                // has the head; a second write after that failed on the closed channel ("I/O on
                // closed channel") though the answer was there. And an answer that came is read
                // even when the write failed.
                var parts: [HTTPClientRequestPart] = [.head(head)]
                if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                parts.append(.end(nil))
                var writeError: (any Error)?
                do { try await outbound.write(contentsOf: parts) } catch { writeError = error }
                var response = Response(status: 0, headers: [], body: [])
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        response.status = Int(h.status.code)
                        response.headers = h.headers.map { ($0.name, $0.value) }
                    case .body(let b):
                        response.body.append(contentsOf: b.readableBytesView)
                    case .end:
                        return response
                    }
                }
                throw writeError ?? Failure.protocolError("the server closed the connection before the response was complete")
            }
        }
        guard let response else {
            throw Failure.protocolError("no answer from \(host):\(port) within \(timeout.nanoseconds / 1_000_000_000) s")
        }
        return response
    }
}
