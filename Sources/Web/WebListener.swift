import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import ServerKit
import ServiceLifecycle

/// The `[listeners] web` listeners: HTTPS with the mail listeners' certificate, answering what
/// ``WebSite`` serves.
public enum WebListener {
    /// Its name in the start-up lines.
    public static let displayName = "HTTPS (web)"
    /// Open connections at most, per listener.
    static let maxConnections = 1000

    /// One service per address. Each TLS handshake takes the context `tls` holds at that
    /// moment, so a certificate renewed by ACME is served without a restart.
    ///
    /// With `acmeChallenge` (ACME validating by TLS-ALPN-01), each connection's ClientHello is
    /// read first: one offering ALPN `acme-tls/1` alone, for a name `acmeChallenge` has a
    /// context for, is answered with that context and closed (``ClientHelloSniffer``).
    public static func services(
        listeners: [(host: String, port: Int)], site: WebSite, tls: TLSContextBox,
        acmeChallenge: (@Sendable (String) -> NIOSSLContext?)? = nil, logger: Logger,
        onListening: @escaping @Sendable (String, String) async -> Void
    ) -> [any Service] {
        let server = HTTPServerBuilder { responder in
            TLSBoxChannel(
                base: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: .seconds(30))), tls: tls,
                acmeChallenge: acmeChallenge)
        }
        return listeners.map { listen in
            Application(
                responder: WebResponder(site: site), server: server,
                configuration: .init(
                    address: .hostname(listen.host, port: listen.port), serverName: "Mailroom",
                    availableConnectionsDelegate: MaximumAvailableConnections(maxConnections)),
                onServerRunning: { channel in
                    let host = listen.host.contains(":") ? "[\(listen.host)]" : listen.host
                    await onListening(displayName, "\(host):\(channel.localAddress?.port ?? listen.port)")
                },
                logger: logger)
        }
    }
}

/// Hummingbird's request → ``WebRequest`` → ``WebSite`` → response.
struct WebResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let site: WebSite

    func respond(to request: Request, context: Context) async throws -> Response {
        var body: [UInt8] = []
        if request.method == .post {
            var request = request
            do {
                body = Array(try await request.collectBody(upTo: WebSite.maxBodySize).readableBytesView)
            } catch {
                return Self.response(.text(413, "the request body is larger than \(WebSite.maxBodySize) bytes"))
            }
        }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where query[String(key)] == nil {
            query[String(key)] = String(value)
        }
        let host = request.head.authority.map { authority in
            // host, host:port, [v6]:port
            authority.hasPrefix("[")
                ? String(authority.prefix { $0 != "]" }) + "]" : String(authority.prefix { $0 != ":" })
        }
        return Self.response(
            site.answer(
                WebRequest(
                    method: request.method.rawValue, path: request.uri.path, query: query, host: host, body: body)))
    }

    static func response(_ r: WebResponse) -> Response {
        var response = Response(
            status: .init(code: r.status), headers: [.contentType: r.contentType],
            body: .init(byteBuffer: ByteBuffer(string: r.body)))
        if let allow = r.allow { response.headers[.allow] = allow }
        if let disposition = r.contentDisposition { response.headers[.contentDisposition] = disposition }
        return response
    }
}

/// TLS in front of another child channel (HTTP/1.1), with the context the box holds when the
/// connection is accepted (HummingbirdTLS's TLSChannel keeps one context for good).
struct TLSBoxChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let tls: TLSContextBox
    /// The TLS-ALPN-01 challenge context for an SNI name, when ACME validates that way.
    var acmeChallenge: (@Sendable (String) -> NIOSSLContext?)?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = tls.current
        return channel.eventLoop.makeCompletedFuture {
            if let acmeChallenge {
                try channel.pipeline.syncOperations.addHandler(
                    ClientHelloSniffer(normal: context, challenge: acmeChallenge, logger: logger))
            } else {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            }
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
