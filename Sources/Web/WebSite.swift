import EmailAuth
import MailCore

/// A request as the web listener hands it to ``WebSite``.
public struct WebRequest: Sendable {
    public var method: String
    public var path: String
    /// Query parameters, percent-decoded.
    public var query: [String: String]
    /// The Host header without its port.
    public var host: String?
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], host: String? = nil, body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.host = host
        self.body = body
    }
}

public struct WebResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String
    /// The methods a path takes, with 405.
    public var allow: String?
    public var contentDisposition: String?

    static func text(_ status: Int, _ body: String) -> WebResponse {
        WebResponse(status: status, contentType: "text/plain; charset=utf-8", body: body + "\n")
    }

    /// The one answer for every name or address this server does not serve, so that it tells
    /// no more than that.
    static let notFound = text(404, "not found")
}

/// What the web listener serves, as a function of the request and of the directory at that
/// moment:
///
/// - `GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt`: the MTA-STS policy (RFC 8461 §3.3)
///   of each domain served here, chosen by the Host header;
/// - `GET /mail/config-v1.1.xml?emailaddress=` and `/.well-known/autoconfig/mail/config-v1.1.xml`:
///   Thunderbird's autoconfiguration, on any host;
/// - `POST /autodiscover/autodiscover.xml` (or `/Autodiscover/Autodiscover.xml`): Outlook's;
/// - `GET /apple/mobileconfig?emailaddress=`: an Apple configuration profile.
///
/// Client settings are given only for addresses in a domain served here; any other is 404.
public struct WebSite: Sendable {
    /// The MTA-STS mode of a domain served here; nil for any other.
    let mode: @Sendable (DomainName) -> MTASTSMode?
    /// The policy a mode stands for (the host names and max_age come from the server).
    let policy: @Sendable (MTASTSMode) -> MTASTSPolicy
    /// The listeners as they are bound now.
    let settings: @Sendable () -> ClientSettings

    /// The largest request body read (an autodiscover request is a few hundred bytes).
    public static let maxBodySize = 16 * 1024

    public init(
        mode: @escaping @Sendable (DomainName) -> MTASTSMode?, policy: @escaping @Sendable (MTASTSMode) -> MTASTSPolicy,
        settings: @escaping @Sendable () -> ClientSettings
    ) {
        self.mode = mode
        self.policy = policy
        self.settings = settings
    }

    typealias Handler = @Sendable (WebSite, WebRequest) -> WebResponse

    /// Path → the one method it answers, and how.
    static let routes: [String: (method: String, handler: Handler)] = {
        let autoconfig: Handler = { $0.autoconfig($1) }
        let autodiscover: Handler = { $0.autodiscover($1) }
        return [
            "/.well-known/mta-sts.txt": ("GET", { $0.mtaSTS($1) }),
            "/mail/config-v1.1.xml": ("GET", autoconfig),
            "/.well-known/autoconfig/mail/config-v1.1.xml": ("GET", autoconfig),
            "/autodiscover/autodiscover.xml": ("POST", autodiscover),
            "/Autodiscover/Autodiscover.xml": ("POST", autodiscover),
            "/apple/mobileconfig": ("GET", { $0.appleProfile($1) }),
        ]
    }()

    public func answer(_ request: WebRequest) -> WebResponse {
        guard let route = Self.routes[request.path] else { return .notFound }
        guard request.method == route.method else {
            var r = WebResponse.text(405, "\(request.method) is not allowed here; use \(route.method)")
            r.allow = route.method
            return r
        }
        return route.handler(self, request)
    }

    func mtaSTS(_ request: WebRequest) -> WebResponse {
        // A fully qualified Host (with the root's dot) names the same host.
        let host = request.host.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }?.lowercased() ?? ""
        guard host.hasPrefix("mta-sts."), let domain = try? DomainName(String(host.dropFirst("mta-sts.".count))),
            let mode = mode(domain)
        else { return .notFound }
        // RFC 8461 §3.3: served as text/plain; some senders refuse any other type.
        return WebResponse(status: 200, contentType: "text/plain", body: policy(mode).text)
    }

    enum AddressCheck {
        case served(EmailAddress)
        case refused(WebResponse)
    }

    /// The address of `emailaddress=` when its domain is served here; else the answer to give.
    func check(_ text: String?) -> AddressCheck {
        guard let text, !text.isEmpty else {
            return .refused(.text(400, "give the address: ?emailaddress=alice@example.org"))
        }
        guard let address = try? EmailAddress(text) else {
            return .refused(.text(400, "\"\(text)\" is not an e-mail address"))
        }
        guard mode(address.domain) != nil else { return .refused(.notFound) }
        return .served(address)
    }

    func autoconfig(_ request: WebRequest) -> WebResponse {
        switch check(request.query["emailaddress"]) {
        case .refused(let response): return response
        case .served(let address):
            return WebResponse(
                status: 200, contentType: "application/xml; charset=utf-8",
                body: Autoconfig.document(domain: address.domain.ascii, settings: settings()))
        }
    }

    func autodiscover(_ request: WebRequest) -> WebResponse {
        switch Autodiscover.emailAddress(inRequest: request.body) {
        case .failure(let why): return .text(400, "malformed autodiscover request: \(why)")
        case .success(let text):
            switch check(text) {
            case .refused(let response): return response
            case .served(let address):
                return WebResponse(
                    status: 200, contentType: "application/xml; charset=utf-8",
                    body: Autodiscover.document(address: address.description, settings: settings()))
            }
        }
    }

    func appleProfile(_ request: WebRequest) -> WebResponse {
        switch check(request.query["emailaddress"]) {
        case .refused(let response): return response
        case .served(let address):
            var r = WebResponse(
                status: 200, contentType: AppleProfile.contentType,
                body: AppleProfile.document(address: address.description, settings: settings()))
            r.contentDisposition = "attachment; filename=\"\(address.domain.ascii).mobileconfig\""
            return r
        }
    }
}
