import Foundation
import HTTPClientKit
import NIOHTTP1

/// An RFC 8555 client for one account on one ACME server.
///
/// ```
/// C: GET  directory                         S: {newNonce, newAccount, newOrder, …}
/// C: POST newAccount  (jwk)                 S: 201, Location: account URL (the kid from now on)
/// C: POST newOrder    {identifiers}         S: 201 {authorizations, finalize}
/// C: POST authz       (POST-as-GET)         S: {challenges: [{type: http-01, token, url}, {type: tls-alpn-01, …}]}
/// C: POST challenge   {}                    S: 200; the CA fetches /.well-known/acme-challenge/<token>
///                                              (tls-alpn-01: connects to port 443 with ALPN acme-tls/1)
/// C: POST authz …until valid; POST finalize {csr}; POST order …until valid; POST certificate → PEM chain
/// ```
public actor ACMEClient {
    public struct Options: Sendable {
        /// The wait between polls when the server sends no Retry-After.
        public var pollInterval: Duration = .seconds(1)
        /// Longest honoured Retry-After.
        public var maxRetryAfter: Duration = .seconds(30)
        /// How long an authorization or order may take to settle.
        public var pollTimeout: Duration = .seconds(120)
        /// How often a request refused with badNonce is sent again with a fresh nonce.
        public var badNonceRetries = 5
        public var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

        public init() {}
    }

    public nonisolated let directoryURL: String
    public nonisolated let key: AccountKey
    let transport: any ACMETransport
    let options: Options
    private var directory: ACMEDirectory?
    private var nonces: [String] = []
    /// The account URL, once known.
    public private(set) var accountURL: String?

    public init(directoryURL: String, key: AccountKey, transport: any ACMETransport, options: Options = .init()) {
        self.directoryURL = directoryURL
        self.key = key
        self.transport = transport
        self.options = options
    }

    // MARK: Operations

    /// Creates the account, or finds the existing one for this key (RFC 8555 §7.3).
    @discardableResult
    public func register(email: String?) async throws -> String {
        if let accountURL { return accountURL }
        let dir = try await fetchDirectory()
        struct NewAccount: Encodable {
            var termsOfServiceAgreed = true
            var contact: [String]?
        }
        let response = try await post(dir.newAccount, NewAccount(contact: email.map { ["mailto:" + $0] }), signer: .jwk)
        guard let location = response.header("Location") else {
            throw ACMEError.badResponse(url: dir.newAccount, reason: "no Location header with the account URL")
        }
        accountURL = location
        return location
    }

    /// Obtains a certificate for `names` by HTTP-01, answers published in `tokens`.
    public func obtainCertificate(request: CertificateRequest, email: String?, tokens: HTTP01Tokens) async throws
        -> String
    {
        try await obtainCertificate(request: request, email: email, responder: .http01(tokens))
    }

    /// Obtains a certificate for `names`: order, `responder`'s challenge for each pending
    /// authorization (answers published there and withdrawn afterwards), finalize with
    /// `request`'s CSR. Returns the PEM chain, leaf first.
    public func obtainCertificate(request: CertificateRequest, email: String?, responder: ChallengeResponder)
        async throws -> String
    {
        let kid = try await register(email: email)
        let dir = try await fetchDirectory()
        struct NewOrder: Encodable { var identifiers: [ACMEIdentifier] }
        let created = try await post(
            dir.newOrder, NewOrder(identifiers: request.names.map { .dns($0) }), signer: .kid(kid))
        guard let orderURL = created.header("Location") else {
            throw ACMEError.badResponse(url: dir.newOrder, reason: "no Location header with the order URL")
        }
        var order = try decode(ACMEOrder.self, created, url: dir.newOrder)
        for authzURL in order.authorizations {
            try await authorize(authzURL, kid: kid, responder: responder)
        }
        order = try await poll(orderURL, kid: kid, what: "the order for \(request.names.joined(separator: ", "))") {
            (o: ACMEOrder) in o.status != "pending" && o.status != "processing" ? o : nil
        }
        guard order.status == "ready" || order.status == "valid" else { throw ACMEError.orderInvalid(order.error) }
        if order.status == "ready" {
            struct Finalize: Encodable { var csr: String }
            _ = try await post(order.finalize, Finalize(csr: Base64URL.encode(try request.der())), signer: .kid(kid))
            order = try await poll(orderURL, kid: kid, what: "issuing the certificate") { (o: ACMEOrder) in
                o.status == "ready" || o.status == "processing" ? nil : o
            }
        }
        guard order.status == "valid", let certURL = order.certificate else {
            throw ACMEError.orderInvalid(order.error)
        }
        let chain = try await post(
            certURL, nil as String?, signer: .kid(kid), accept: "application/pem-certificate-chain")
        let pem = String(decoding: chain.body, as: UTF8.self)
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw ACMEError.badResponse(url: certURL, reason: "the certificate download is not a PEM chain")
        }
        return pem
    }

    /// Proves control of one authorization's name with `responder`'s challenge, unless it is
    /// valid already.
    func authorize(_ url: String, kid: String, responder: ChallengeResponder) async throws {
        let authz = try decode(ACMEAuthorization.self, try await post(url, nil as String?, signer: .kid(kid)), url: url)
        let name = authz.identifier.value
        switch authz.status {
        case "valid": return
        case "pending": break
        default:
            throw ACMEError.validationFailed(
                name: name, authz.challenges.compactMap(\.error).first, challenge: responder.type)
        }
        let type = responder.type
        guard let challenge = authz.challenges.first(where: { $0.type == type }), let token = challenge.token
        else {
            throw ACMEError.noUsableChallenge(name: name, offered: authz.challenges.map(\.type), wanted: type)
        }
        let keyAuthorization = key.keyAuthorization(token: token)
        switch responder {
        case .http01(let tokens): tokens.publish(token: token, keyAuthorization: keyAuthorization)
        case .tlsALPN01(let challenges): try challenges.publish(name: name, keyAuthorization: keyAuthorization)
        }
        defer {
            switch responder {
            case .http01(let tokens): tokens.withdraw(token: token)
            case .tlsALPN01(let challenges): challenges.withdraw(name: name)
            }
        }
        struct Empty: Encodable {}
        _ = try await post(challenge.url, Empty(), signer: .kid(kid))
        let settled = try await poll(url, kid: kid, what: "validating \(name)") { (a: ACMEAuthorization) in
            a.status == "pending" ? nil : a
        }
        guard settled.status == "valid" else {
            let problem =
                settled.challenges.first(where: { $0.type == type })?.error
                ?? settled.challenges.compactMap(\.error).first
            throw ACMEError.validationFailed(name: name, problem, challenge: type)
        }
    }

    // MARK: Plumbing

    func fetchDirectory() async throws -> ACMEDirectory {
        if let directory { return directory }
        let response = try await transport.send(method: .GET, url: directoryURL, headers: [], body: nil)
        try check(response, url: directoryURL)
        let dir = try decode(ACMEDirectory.self, response, url: directoryURL)
        directory = dir
        return dir
    }

    func nonce() async throws -> String {
        if let n = nonces.popLast() { return n }
        let url = try await fetchDirectory().newNonce
        let response = try await transport.send(method: .GET, url: url, headers: [], body: nil)
        guard let n = response.header("Replay-Nonce") else {
            throw ACMEError.badResponse(url: url, reason: "no Replay-Nonce header")
        }
        return n
    }

    /// A signed POST (nil payload: POST-as-GET), sent again with a fresh nonce on badNonce
    /// (RFC 8555 §6.5). Any other problem is thrown.
    func post<P: Encodable>(_ url: String, _ payload: P?, signer: AccountKey.Signer, accept: String? = nil) async throws
        -> HTTPExchange.Response
    {
        let body = try payload.map { try JSONEncoder().encode($0) }
        var attempt = 0
        while true {
            let jws = try key.sign(payload: body, url: url, nonce: try await nonce(), signer: signer)
            var headers = [("Content-Type", "application/jose+json")]
            if let accept { headers.append(("Accept", accept)) }
            let response = try await transport.send(method: .POST, url: url, headers: headers, body: jws)
            if let n = response.header("Replay-Nonce") { nonces.append(n) }
            do {
                try check(response, url: url)
                return response
            } catch ACMEError.problem(_, _, let p) where p.shortType == "badNonce" && attempt < options.badNonceRetries
            {
                attempt += 1
            }
        }
    }

    /// Polls `url` until `done` returns a value, waiting Retry-After (bounded) or the poll
    /// interval between tries, for at most `pollTimeout`.
    func poll<R: Decodable>(_ url: String, kid: String, what: String, _ done: (R) -> R?) async throws -> R {
        var waited = Duration.zero
        while true {
            let response = try await post(url, nil as String?, signer: .kid(kid))
            if let result = done(try decode(R.self, response, url: url)) { return result }
            var pause = options.pollInterval
            if let text = response.header("Retry-After"), let seconds = Int(text.trimmingCharacters(in: .whitespaces)),
                seconds >= 0
            {
                pause = min(.seconds(seconds), options.maxRetryAfter)
            }
            guard waited + pause <= options.pollTimeout else {
                throw ACMEError.timedOut(what: what, seconds: Int(options.pollTimeout.components.seconds))
            }
            try await options.sleep(pause)
            waited += pause
        }
    }

    func check(_ response: HTTPExchange.Response, url: String) throws {
        guard response.status >= 400 else { return }
        let problem =
            (try? JSONDecoder().decode(ACMEProblem.self, from: Data(response.body)))
            ?? ACMEProblem(
                type: "about:blank", detail: String(decoding: response.body.prefix(200), as: UTF8.self),
                status: response.status)
        throw ACMEError.problem(url: url, status: response.status, problem)
    }

    func decode<R: Decodable>(_ type: R.Type, _ response: HTTPExchange.Response, url: String) throws -> R {
        do { return try JSONDecoder().decode(R.self, from: Data(response.body)) } catch {
            throw ACMEError.badResponse(url: url, reason: "cannot read the JSON: \(error)")
        }
    }
}

/// How the client proves control of a name (RFC 8555 §8), and where it publishes the answers.
public enum ChallengeResponder: Sendable {
    /// HTTP-01 (RFC 8555 §8.3): the CA fetches `http://NAME/.well-known/acme-challenge/TOKEN`
    /// on port 80.
    case http01(HTTP01Tokens)
    /// TLS-ALPN-01 (RFC 8737): the CA connects to NAME on port 443 offering ALPN `acme-tls/1`
    /// and checks the challenge certificate it is given.
    case tlsALPN01(TLSALPN01Challenges)

    /// The challenge's `type` in the authorization.
    public var type: String {
        switch self {
        case .http01: "http-01"
        case .tlsALPN01: "tls-alpn-01"
        }
    }
}
