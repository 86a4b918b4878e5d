import AdminModels
import Crypto
import Delivery
import Directory
import Foundation
import HTTPTypes
import Hummingbird
import LoginKit
import MailCore
import Mustache
import NIOCore
import IMAPMigration
import Outbound
import Doctor
import Storage
import Synchronization
import Webhooks

/// How the console signs people in and keeps them signed in.
public struct ConsoleSettings: Sendable {
    /// Cookies only over HTTPS: set when the admin listener serves TLS.
    public var secureCookies: Bool
    /// A session unused this long ends.
    public var idleTimeout: TimeInterval
    /// A session ends this long after sign-in, however busy.
    public var absoluteTimeout: TimeInterval
    /// Roles (`server-admin`, `domain-admin`, `user`) that must use a second factor: until
    /// they set one up, they see only the page that sets it up.
    public var requireTOTP: Set<String>
    /// The name authenticator apps show for the codes.
    public var issuer: String
    /// How long a failed sign-in waits before answering (SMTP and IMAP wait as long).
    public var failureDelay: Duration

    public init(
        secureCookies: Bool = false, idleTimeout: TimeInterval = 30 * 60, absoluteTimeout: TimeInterval = 12 * 3600,
        requireTOTP: Set<String> = [], issuer: String = "Mailroom", failureDelay: Duration = .seconds(1)
    ) {
        self.secureCookies = secureCookies
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.requireTOTP = requireTOTP
        self.issuer = issuer
        self.failureDelay = failureDelay
    }
}

/// Who is signed in to the console on this request.
public struct ConsoleUser: Sendable {
    public let account: AccountRecord
    let session: ConsoleSessionRecord
    /// The admin rights of the account; nil for a plain user.
    public let admin: AdminActor?
    let ip: String

    var roleName: String { admin?.role.rawValue ?? "user" }
}

/// The fields of a submitted form.
struct FormData: Sendable {
    private(set) var values: [String: [String]] = [:]

    init(_ body: String = "") {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            values[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    subscript(_ name: String) -> String? { values[name]?.first }

    /// A field's value without surrounding spaces; nil when missing or blank.
    func text(_ name: String) -> String? {
        guard let v = values[name]?.first?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
        return v
    }

    func bool(_ name: String) -> Bool { values[name]?.first == "on" }

    /// Addresses typed one per line or separated by commas.
    func list(_ name: String) -> [String] {
        (values[name] ?? []).flatMap { $0.split(whereSeparator: { $0.isNewline || $0.isWhitespace || $0 == "," }) }.map(String.init)
    }
}

/// One console request with its signed-in person and submitted form.
struct ConsoleRequest: Sendable {
    let request: Request
    let context: AdminContext
    let user: ConsoleUser
    let form: FormData

    /// The actor admin pages act as; they are only routed for admins.
    var actor: AdminActor { user.admin! }

    func query(_ name: String) -> String? {
        guard let v = request.uri.queryParameters[Substring(name)] else { return nil }
        let text = (String(v).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(v))
            .trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    func param(_ name: String) throws -> String { try AdminAPI.param(context, name) }
}

/// The web console on the admin listener: server-rendered pages for administrators and
/// self-service for everyone with an account. Each action calls the same operation as the
/// API and the CLI, so rights, validation and the audit log are the same.
final class Console: Sendable {
    let dir: DirectoryService
    let delivery: LocalDelivery?
    let outbound: OutboundAdmin?
    let setup: SetupContext?
    let status: (any StatusSource)?
    let bans: AuthLimiter?
    let webhooks: Webhooks?
    let migrations: IMAPMigrations?
    let tls: (any TLSAdmin)?
    let dryRun: (any DryRunSource)?
    /// IMAP's largest APPEND: mailbox file imports refuse larger messages one by one.
    let maxMessageSize: Int
    let settings: ConsoleSettings
    /// Every page and form target registered, in order.
    let registered = Mutex<[ConsoleRoute]>([])

    init(
        dir: DirectoryService, delivery: LocalDelivery?, outbound: OutboundAdmin?, setup: SetupContext?, status: (any StatusSource)?,
        bans: AuthLimiter?, webhooks: Webhooks? = nil, migrations: IMAPMigrations? = nil, tls: (any TLSAdmin)? = nil,
        dryRun: (any DryRunSource)? = nil, maxMessageSize: Int = 50 * 1024 * 1024, settings: ConsoleSettings
    ) {
        self.maxMessageSize = maxMessageSize
        self.migrations = migrations
        self.tls = tls
        self.dryRun = dryRun
        self.dir = dir
        self.delivery = delivery
        self.outbound = outbound
        self.setup = setup
        self.status = status
        self.bans = bans
        self.webhooks = webhooks
        self.settings = settings
    }

    var cookieName: String { settings.secureCookies ? "__Host-mailroom" : "mailroom_session" }

    // MARK: Sessions

    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &g) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The signed-in person of a request, if its cookie names a live session. Sessions past
    /// their idle or absolute time end here.
    func user(_ request: Request, ip: String) -> ConsoleUser? {
        guard let cookie = request.cookies[cookieName]?.value, cookie.utf8.count < 100 else { return nil }
        let hash = DirectoryService.tokenHash(cookie)
        guard let session = try? dir.store.consoleSession(idHash: hash) else { return nil }
        let now = Date()
        if now.timeIntervalSince(session.lastSeenAt) > settings.idleTimeout || now.timeIntervalSince(session.createdAt) > settings.absoluteTimeout {
            try? dir.store.deleteConsoleSessions(accountID: session.accountID, idHash: hash)
            return nil
        }
        guard let account = dir.activeAccount(id: session.accountID) else { return nil }
        // Seen at most once a minute is precise enough for a 30-minute timeout.
        if now.timeIntervalSince(session.lastSeenAt) > 60 {
            try? dir.store.touchConsoleSession(idHash: hash, at: now, verified: session.verified)
        }
        return ConsoleUser(account: account, session: session, admin: dir.consoleActor(account, sourceIP: ip), ip: ip)
    }

    /// Starts a session; returns the cookie header value.
    func startSession(_ account: AccountRecord, verified: Bool, ip: String) throws -> String {
        let id = Self.randomToken()
        let now = Date()
        try dir.store.expireConsoleSessions(
            idleBefore: now.addingTimeInterval(-settings.idleTimeout), createdBefore: now.addingTimeInterval(-settings.absoluteTimeout))
        try dir.store.insertConsoleSession(
            ConsoleSessionRecord(
                idHash: DirectoryService.tokenHash(id), accountID: account.id, csrf: Self.randomToken(), verified: verified, createdAt: now, lastSeenAt: now,
                ip: ip))
        return cookie(id, maxAge: Int(settings.absoluteTimeout))
    }

    func cookie(_ value: String, maxAge: Int) -> String {
        "\(cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (settings.secureCookies ? "; Secure" : "")
    }

    /// Whether this person must set up a second factor before doing anything else.
    func mustSetUpTOTP(_ user: ConsoleUser) -> Bool {
        settings.requireTOTP.contains(user.roleName) && !dir.totpEnabled(user.account)
    }

    // MARK: Rendering

    func navigation(_ user: ConsoleUser?, path: String) -> [NavItem] {
        guard let user else { return [] }
        var items: [(String, String)] = []
        if let admin = user.admin, !mustSetUpTOTP(user) {
            items += [("Dashboard", "/"), ("Domains", "/domains"), ("Accounts", "/accounts"), ("Aliases", "/aliases"), ("Lists", "/lists")]
            if delivery != nil { items += [("Moderation", "/moderation"), ("Quarantine", "/quarantine")] }
            if outbound != nil { items += [("Queue", "/queue")] }
            items += [("Trace", "/trace"), ("Troubleshoot", "/troubleshoot"), ("Import", "/import"), ("Audit log", "/audit")]
            if admin.isServerAdmin, migrations != nil { items += [("Migrate", "/migrate")] }
            if admin.isServerAdmin, delivery != nil { items += [("Backups", "/backups"), ("Storage", "/storage")] }
            if admin.isServerAdmin, bans != nil { items += [("Bans", "/bans")] }
            if admin.isServerAdmin { items += [("Tokens", "/tokens")] }
            if admin.isServerAdmin, webhooks != nil { items += [("Webhooks", "/webhooks")] }
        }
        items.append(("My account", "/account"))
        return items.map { label, href in
            NavItem(label: label, href: href, current: href == "/" ? path == "/" : path == href || path.hasPrefix(href + "/"))
        }
    }

    func render(_ page: Page, user: ConsoleUser?, path: String, status: HTTPResponse.Status = .ok) -> Response {
        var page = page
        page.user = user.map { "\($0.account.address.displayForm) (\($0.roleName))" }
        page.csrf = user?.session.csrf ?? ""
        page.nav = navigation(user, path: path)
        let html = ConsoleTemplates.library.render(page, withTemplate: "page") ?? "template error"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }
}

/// Headers every console response carries, and the CSRF check every console form passes.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = AdminContext
    let console: Console

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if request.method == .post, !Self.sameOrigin(request) {
            response = console.render(
                Page("Refused", error: "This form came from another site, so it was not acted on."), user: nil, path: "", status: .forbidden)
        } else {
            response = try await next(request, context)
        }
        // Nothing inline, nothing from elsewhere, never in a frame.
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "same-origin"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// A browser says where a form came from (`Sec-Fetch-Site`, `Origin`); a form from another
    /// site is refused before any token is looked at. Clients that send neither (curl) still
    /// need the session's CSRF token.
    static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] {
            return site == "same-origin" || site == "none"
        }
        if let origin = request.headers[.origin], let host = request.head.authority {
            return origin == "null" ? false : URL(string: origin).map { u in
                let port = u.port.map { ":\($0)" } ?? ""
                return (u.host ?? "") + port == host
            } ?? false
        }
        return true
    }
}

extension HTTPField.Name {
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
