import ACME
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The `[listeners] acme_http` listener (port 80): answers the CA's HTTP-01 requests,
/// `GET /.well-known/acme-challenge/<token>`, from the tokens the ACME client publishes, and
/// 404 to everything else. (With `acme.challenge = "tls-alpn-01"` it answers 404 to all: the
/// web listener answers the CA.)
enum ACMEResponder {
    static func services(
        listeners: [ListenAddress], manager: ACMEManager, logger: Logger,
        onListening: @escaping @Sendable (String, String) async -> Void
    ) -> [any Service] {
        let tokens = manager.tokens
        let router = Router(context: BasicRequestContext.self)
        router.get(".well-known/acme-challenge/:token") { _, context -> Response in
            guard let token = context.parameters.get("token"),
                HTTP01Tokens.token(inPath: "/.well-known/acme-challenge/\(token)") != nil,
                let answer = tokens.keyAuthorization(for: token)
            else {
                return Response(status: .notFound)
            }
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        return listeners.map { listen in
            Application(
                router: router,
                configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "Mailroom"),
                onServerRunning: { channel in
                    await onListening(
                        "ACME HTTP-01",
                        "\(listen.host.contains(":") ? "[\(listen.host)]" : listen.host):\(channel.localAddress?.port ?? listen.port)"
                    )
                    if manager.settings.challenge == .http01 { manager.responderListening() }
                },
                logger: logger)
        }
    }
}
