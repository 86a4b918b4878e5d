import AdminModels
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTP/1.1 client for the admin API, on SwiftNIO, so that the CLI can pin the data
/// folder's self-signed certificate instead of disabling verification.
public struct AdminClient: Sendable {
    /// The HTTP methods the admin API uses.
    public enum Method: String, Sendable {
        case GET, POST, PATCH, DELETE

        var nio: HTTPMethod {
            switch self {
            case .GET: return .GET
            case .POST: return .POST
            case .PATCH: return .PATCH
            case .DELETE: return .DELETE
            }
        }
    }

    public let scheme: String
    public let host: String
    public let port: Int
    public let token: String?
    /// PEM of a certificate to trust as the only root (the data folder's generated one); nil
    /// uses the system's roots.
    public let pinnedCertificatePEM: String?
    public let timeout: TimeAmount

    public init(url: String, token: String?, pinnedCertificatePEM: String? = nil, timeout: TimeAmount = .seconds(120)) throws {
        guard let u = URLComponents(string: url.trimmingCharacters(in: .whitespacesAndNewlines)), let scheme = u.scheme,
            ["http", "https"].contains(scheme), let host = u.host, !host.isEmpty
        else { throw ClientError.usage("\"\(url)\" is not an http:// or https:// URL of a Mailroom admin API") }
        self.scheme = scheme
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = u.port ?? (scheme == "https" ? 443 : 80)
        self.token = token
        self.pinnedCertificatePEM = pinnedCertificatePEM
        self.timeout = timeout
    }

    public var baseURL: String { "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var contentType: String?
    }

    /// Sends one request; `path` starts with `/` and may carry a query.
    public func send(_ method: Method, _ path: String, body: Data? = nil, contentType: String = "application/json") async throws -> Response {
        var tlsContext: NIOSSLContext?
        if scheme == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let pem = pinnedCertificatePEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
                // Trusting exactly one self-signed certificate already names the server.
                tls.certificateVerification = .noHostnameVerification
            }
            tlsContext = try NIOSSLContext(configuration: tls)
        }
        let host = self.host
        let isIP = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tlsContext, serverHostname: isIP ? nil : host))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ClientError.unreachable(baseURL, "\(error)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        headers.add(name: "User-Agent", value: "mailroom-cli")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Accept", value: "application/json")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
        } else if method == .POST || method == .PATCH {
            headers.add(name: "Content-Length", value: "0")
        }
        let head = HTTPRequestHead(version: .http1_1, method: method.nio, uri: path, headers: headers)
        let deadline = NIODeadline.now() + timeout
        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(.head(head))
                    if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                    try await outbound.write(.end(nil))
                    var status = 0
                    var contentType: String?
                    var data = Data()
                    for try await part in inbound {
                        switch part {
                        case .head(let h):
                            status = Int(h.status.code)
                            contentType = h.headers.first(name: "Content-Type")
                        case .body(let b):
                            data.append(contentsOf: b.readableBytesView)
                        case .end:
                            return Response(status: status, body: data, contentType: contentType)
                        }
                    }
                    throw ClientError.protocolError("the server closed the connection before the response was complete")
                }
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(0, (deadline - .now()).nanoseconds)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw ClientError.protocolError("no answer from \(baseURL) within \(timeout.nanoseconds / 1_000_000_000) s")
            }
            return response
        }
    }

    /// Sends a JSON request and decodes a JSON answer; an error answer becomes ``ClientError/api``.
    public func call<T: Decodable>(_ method: Method, _ path: String, body: (some Encodable)? = Optional<String>.none, as: T.Type) async throws -> T {
        let response = try await send(method, path, body: try body.map { try AdminJSON.encoder().encode($0) })
        return try decode(response, as: T.self)
    }

    public func decode<T: Decodable>(_ response: Response, as: T.Type) throws -> T {
        guard (200..<300).contains(response.status) else { throw Self.apiError(response) }
        do { return try AdminJSON.decoder().decode(T.self, from: response.body) } catch {
            throw ClientError.protocolError("unexpected answer from the server: \(error)")
        }
    }

    public static func apiError(_ response: Response) -> ClientError {
        if let e = try? AdminJSON.decoder().decode(ErrorBody.self, from: response.body) {
            return .api(status: response.status, code: e.error.code, message: e.error.message)
        }
        return .api(status: response.status, code: "http_\(response.status)", message: String(decoding: response.body.prefix(500), as: UTF8.self))
    }

    /// Percent-encodes one path segment (addresses contain `@` and `+`).
    public static func segment(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

public enum ClientError: Error, CustomStringConvertible {
    case usage(String)
    case unreachable(String, String)
    case protocolError(String)
    case api(status: Int, code: String, message: String)

    public var description: String {
        switch self {
        case .usage(let m): return m
        case .unreachable(let url, let why):
            return "cannot reach the Mailroom admin API at \(url) (\(why)) — is `mailroom serve` running? "
                + "Start it, or point the CLI at it with --server URL or --data-dir DIR"
        case .protocolError(let m): return m
        case .api(_, _, let message): return message
        }
    }
}
