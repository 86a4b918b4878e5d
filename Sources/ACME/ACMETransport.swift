import Foundation
import HTTPClientKit
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP request to an ACME server by absolute URL. ``ACMEClient`` speaks through this, so its
/// protocol logic runs in tests against a scripted server without a network.
public protocol ACMETransport: Sendable {
    func send(method: HTTPMethod, url: String, headers: [(String, String)], body: Data?) async throws
        -> HTTPExchange.Response
}

/// The real transport: ``HTTPExchange`` over TCP, TLS for `https` URLs trusting the system roots
/// or, for a private ACME server, only the PEM certificates in `caFile`.
public struct HTTPExchangeTransport: ACMETransport {
    let tls: NIOSSLContext
    let timeout: TimeAmount

    public init(caFile: String? = nil, timeout: TimeAmount = .seconds(30)) throws {
        var config = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw ACMEError.unreachable(
                    url: caFile, reason: "cannot read the CA certificates in [acme] ca_file: \(error)")
            }
        }
        self.tls = try NIOSSLContext(configuration: config)
        self.timeout = timeout
    }

    public func send(method: HTTPMethod, url: String, headers: [(String, String)], body: Data?) async throws
        -> HTTPExchange.Response
    {
        guard let u = URL(string: url), let scheme = u.scheme, scheme == "https" || scheme == "http", let host = u.host,
            !host.isEmpty
        else {
            throw ACMEError.badResponse(url: url, reason: "not an http(s) URL")
        }
        var path = u.path.isEmpty ? "/" : u.path
        if let query = u.query { path += "?" + query }
        do {
            return try await HTTPExchange.send(
                host: host, port: u.port ?? (scheme == "https" ? 443 : 80), tls: scheme == "https" ? tls : nil,
                method: method,
                path: path, headers: headers, body: body.map { Array($0) }, timeout: timeout)
        } catch {
            throw ACMEError.unreachable(url: url, reason: "\(error)")
        }
    }
}
