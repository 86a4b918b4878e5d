import AdminModels
import Foundation
import HTTPClientKit
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTP/1.1 client for the admin API, on SwiftNIO, so that the CLI can pin the data
/// folder's self-signed certificate instead of disabling verification.
public struct AdminClient: Sendable {
    /// The HTTP methods the admin API uses.
    public enum Method: String, Sendable {
        case GET, POST, PUT, PATCH, DELETE

        var nio: HTTPMethod {
            switch self {
            case .GET: return .GET
            case .POST: return .POST
            case .PUT: return .PUT
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
        var headers: [(String, String)] = [("User-Agent", "mailroom-cli"), ("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", contentType)) }
        do {
            let (tls, fields) = (tlsContext, headers)
            let send = { @Sendable in
                try await HTTPExchange.send(
                    host: host, port: port, tls: tls, method: method.nio, path: path, headers: fields, body: body.map(Array.init),
                    timeout: timeout)
            }
            let r: HTTPExchange.Response
            do {
                r = try await send()
            } catch let error as ChannelError where error == .ioOnClosedChannel && method == .GET {
                // The connection was closed before the request went out (seen under heavy load):
                // a GET changes nothing, so asking again is safe.
                r = try await send()
            }
            return Response(status: r.status, body: Data(r.body), contentType: r.header("Content-Type"))
        } catch HTTPExchange.Failure.unreachable(let why) {
            throw ClientError.unreachable(baseURL, why)
        } catch HTTPExchange.Failure.protocolError(let why) {
            throw ClientError.protocolError(why)
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
