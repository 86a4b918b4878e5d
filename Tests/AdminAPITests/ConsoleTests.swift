import AdminModels
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import AdminAPI
@testable import Delivery
@testable import Directory
@testable import LoginKit
@testable import Storage
import Synchronization
import Webhooks
import IMAPMigration

/// A browser, as far as the console can tell: it keeps the session cookie and sends each form
/// with the token the last page carried.
struct Browser {
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String?

    struct Page {
        let status: Int
        let headers: HTTPFields
        let body: String
        var location: String? { headers[.location] }
    }

    init(_ client: some TestClientProtocol) { self.client = client }

    mutating func get(_ path: String) async throws -> Page {
        try await send(.get, path, nil, headers: [:])
    }

    /// Submits a form; the session's CSRF token is added unless `csrf` says otherwise.
    mutating func post(_ path: String, _ fields: [(String, String)] = [], csrf: String? = nil, headers: HTTPFields = [:]) async throws -> Page {
        var all = fields
        if let token = csrf ?? self.csrf { all.append(("csrf", token)) }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = all.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        var h = headers
        h[.contentType] = "application/x-www-form-urlencoded"
        return try await send(.post, path, body, headers: h)
    }

    private mutating func send(_ method: HTTPRequest.Method, _ path: String, _ body: String?, headers: HTTPFields) async throws -> Page {
        var h = headers
        if let cookie { h[.cookie] = cookie }
        let page = try await client.execute(uri: path, method: method, headers: h, body: body.map { ByteBuffer(string: $0) }) {
            Page(status: Int($0.status.code), headers: $0.headers, body: String(buffer: $0.body))
        }
        if let set = page.headers[.setCookie] {
            let pair = String(set.prefix { $0 != ";" })
            cookie = pair.hasSuffix("=") ? nil : pair
        }
        if let token = Self.first(#"name="csrf" value="([^"]+)""#, in: page.body) { csrf = token }
        return page
    }

    mutating func signIn(_ address: String, _ password: String) async throws -> Page {
        try await post("/login", [("address", address), ("password", password), ("next", "/")])
    }

    static func first(_ pattern: String, in text: String) -> String? {
        guard let re = try? NSRegularExpression(pattern: pattern),
            let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), m.numberOfRanges > 1,
            let r = Range(m.range(at: 1), in: text)
        else { return nil }
        return String(text[r])
    }

    static func all(_ pattern: String, in text: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            Range(m.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}

/// The harness's directory with people who sign in: a server admin, a domain admin of
/// other.org and a plain user of example.org.
func consoleHarness(_ settings: ConsoleSettings = ConsoleSettings(failureDelay: .milliseconds(1))) throws -> Harness {
    let h = try Harness(console: settings)
    let admin = AdminActor(name: "setup", role: .serverAdmin)
    _ = try h.dir.addAccount("root@example.org", password: "root-password-1", actor: admin)
    _ = try h.dir.addAccount("dana@other.org", password: "dana-password-1", actor: admin)
    _ = try h.dir.setRole("root@example.org", role: "server-admin", domains: [], actor: admin)
    _ = try h.dir.setRole("dana@other.org", role: "domain-admin", domains: ["other.org"], actor: admin)
    _ = try h.dir.setPassword("bob@other.org", password: "bob-password-1", actor: admin)
    return h
}

@Suite struct ConsoleTests {
    @Test func signingInSetsAStrictCookieAndWrongPasswordsAreRecorded() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            let first = try await b.get("/")
            #expect(first.status == 303)
            #expect(first.location?.hasPrefix("/login") == true)

            let wrong = try await b.signIn("root@example.org", "not-the-password")
            #expect(wrong.status == 401)
            #expect(wrong.body.contains("Wrong address or password."))
            #expect(b.cookie == nil)
            let failures = try h.dir.store.loginHistory(accountID: h.dir.activeAccount("root@example.org")!.id).failures
            #expect(failures.first?.protocol == "console")

            let ok = try await b.signIn("root@example.org", "root-password-1")
            #expect(ok.status == 303)
            let set = try #require(ok.headers[.setCookie])
            #expect(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"))
            #expect(!set.contains("Secure"), "no Secure flag without TLS, or the browser would drop the cookie")
            let dashboard = try await b.get("/")
            #expect(dashboard.status == 200)
            #expect(dashboard.body.contains("<h1>Dashboard</h1>"))
            #expect(dashboard.body.contains("<svg"))
        }
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            for path in ["/login", "/", "/console.css"] {
                let p = try await b.get(path)
                let csp = try #require(p.headers[.contentSecurityPolicy])
                #expect(!csp.contains("unsafe-inline"))
                #expect(csp.contains("frame-ancestors 'none'"))
                #expect(p.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    @Test func everythingShownIsEscaped() async throws {
        let h = try consoleHarness()
        _ = try h.dir.updateAccount("alice@example.org", name: "<script>alert(1)</script>", actor: .system)
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            for path in ["/accounts", "/accounts/alice%40example.org"] {
                let page = try await b.get(path)
                #expect(page.status == 200)
                #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
                #expect(!page.body.contains("<script>"))
            }
        }
    }

    @Test func formsWithoutTheSessionTokenOrFromAnotherSiteAreRefused() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            _ = try await b.get("/accounts")
            let forged = try await b.post("/accounts/new", [("address", "eve@example.org"), ("password", "eve-password-1")], csrf: "wrong")
            #expect(forged.status == 403)
            let crossSite = try await b.post(
                "/accounts/new", [("address", "eve@example.org"), ("password", "eve-password-1")],
                headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == 403)
            #expect(h.dir.activeAccount("eve@example.org") == nil)
            let real = try await b.post("/accounts/new", [("address", "eve@example.org"), ("password", "eve-password-1")])
            #expect(real.status == 200)
            #expect(h.dir.activeAccount("eve@example.org") != nil)
        }
    }

    /// Every admin page and form target the console registers (not a hand-kept list), tried
    /// by a domain admin of another domain and by a plain user, with fields that would make
    /// each action succeed for a server admin: each is refused, and nothing they did reaches
    /// the audit log.
    @Test(arguments: ["dana@other.org", "bob@other.org"])
    func everyRegisteredAdminRouteRefusesWhoMayNotManage(_ person: String) async throws {
        let h = try consoleHarness()
        let console = Console(
            dir: h.dir, delivery: h.delivery, outbound: nil, setup: nil, status: nil, bans: AuthLimiter(maxFailures: 10, ban: 60),
            webhooks: Webhooks(store: h.store, directory: h.dir), migrations: IMAPMigrations(delivery: h.delivery, maxMessageSize: 1 << 20), settings: ConsoleSettings())
        console.addRoutes(to: Router(context: AdminContext.self))
        let routes = console.registered.withLock { $0 }.filter { $0.audience == .admin }
        #expect(routes.count > 40, "\(routes.count) admin routes")
        @Sendable func concrete(_ path: String) -> String {
            var p = path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
            if p.hasPrefix("/lists/") || p.hasPrefix("lists/") {
                p = p.replacingOccurrences(of: ":address", with: "eng%40example.org")
            }
            p = p.replacingOccurrences(of: "accounts/:address/sieve/:name", with: "accounts/alice%40example.org/sieve/x")
            p = p.replacingOccurrences(of: ":address", with: "alice%40example.org").replacingOccurrences(of: ":name", with: "example.org")
            p = p.replacingOccurrences(of: ":id", with: "1")
            return p.hasPrefix("/") ? p : "/" + p
        }
        let fields: [(String, String)] = [
            ("address", "mallory@example.org"), ("name", "x"), ("password", "mallory-pass-1"), ("targets", "x@evil.org"), ("members", "x@evil.org"),
            ("do", "add"), ("role", "server-admin"), ("posting_policy", "anyone"), ("script", "keep;"), ("message", "Subject: x\n\nx\n"),
            ("subject", "Away"), ("to", "x@evil.org"), ("url", "http://127.0.0.1:9/h"), ("event-delivered", "on"), ("text", "sales@example.org x@evil.org"),
            ("confirm", "alice@example.org"), ("state", "disabled"), ("quota", "1G"), ("ip", "127.0.0.1"), ("domains", "example.org"),
            ("algorithm", "ed25519"), ("activate", "on"), ("dir", "/tmp/mailroom-console-authz-backup"), ("path", "/tmp/mailroom-console-authz.mbox"),
            ("host", "127.0.0.1"), ("port", "9"), ("security", "plain"), ("accounts", "a,b,alice@example.org"),
        ]
        let password = person == "dana@other.org" ? "dana-password-1" : "bob-password-1"
        try await h.app.test(.router) { client in
            var b = Browser(client)
            #expect(try await b.signIn(person, password).status == 303)
            _ = try await b.get("/account")
            for route in routes {
                let path = concrete(route.path)
                let page = route.method == "GET" ? try await b.get(path) : try await b.post(path, fields)
                // A domain admin may see their own lists of things (filtered); everything that
                // names example.org's objects, and every server-admin page, is refused.
                if person == "dana@other.org", route.method == "GET", !route.path.contains("{") {
                    #expect([200, 403, 404].contains(page.status), "\(person): GET \(path) answered \(page.status)")
                } else {
                    #expect([403, 404, 422].contains(page.status), "\(person): \(route.method) \(path) answered \(page.status)")
                }
                #expect(!page.body.contains("alice@example.org"), "\(person) saw alice on \(route.method) \(path)")
                #expect(!page.body.contains("postmaster@example.org"), "\(person) saw example.org's alias on \(route.method) \(path)")
            }
        }
        let audit = try h.dir.auditLog(since: nil, target: nil, limit: 1000, actor: .system)
        #expect(audit.filter { $0.actor == person }.isEmpty, "\(person) changed: \(audit.filter { $0.actor == person }.map(\.action))")
        #expect(try h.store.webhooks().isEmpty)
    }

    @Test func aDomainAdminManagesTheirOwnDomain() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("dana@other.org", "dana-password-1")
            _ = try await b.get("/accounts")
            let created = try await b.post("/accounts/new", [("address", "carol@other.org"), ("password", "")])
            #expect(created.status == 200)
            // A generated password is shown once.
            #expect(Browser.first(#"<code class="secret">([^<]+)</code>"#, in: created.body) != nil)
            let reset = try await b.post("/accounts/carol%40other.org/password", [("password", "")])
            let password = try #require(Browser.first(#"<code class="secret">([^<]+)</code>"#, in: reset.body))
            #expect(h.dir.authenticate(address: "carol@other.org", password: password) != nil)
        }
        let audit = try h.dir.auditLog(since: nil, target: "carol@other.org", limit: 100, actor: .system)
        #expect(Set(audit.map(\.action)).isSuperset(of: ["account.add", "account.passwd"]))
        #expect(audit.allSatisfy { $0.actor == "dana@other.org" })
    }

    @Test func aResetLinkSetsAPasswordOnce() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var admin = Browser(client)
            _ = try await admin.signIn("root@example.org", "root-password-1")
            _ = try await admin.get("/accounts/alice%40example.org")
            let made = try await admin.post("/accounts/alice%40example.org/reset-link")
            let link = try #require(Browser.first(#"<code class="secret">https?://[^/]*(/reset/[0-9a-f]{64})</code>"#, in: made.body))
            var alice = Browser(client)
            let form = try await alice.get(link)
            #expect(form.status == 200)
            #expect(form.body.contains("For alice@example.org."))
            #expect(try await alice.post(link, [("new", "short"), ("repeat", "short")]).status == 422)
            #expect(try await alice.post(link, [("new", "alice-new-pass-1"), ("repeat", "different-pass-1")]).status == 422)
            let done = try await alice.post(link, [("new", "alice-new-pass-1"), ("repeat", "alice-new-pass-1")])
            #expect(done.body.contains("Your password is set."))
            #expect(try await alice.get(link).status == 404)
            #expect(try await alice.post(link, [("new", "alice-other-pass-1"), ("repeat", "alice-other-pass-1")]).status == 404)
        }
        #expect(h.dir.authenticate(address: "alice@example.org", password: "alice-new-pass-1") != nil)
        let actions = try h.dir.auditLog(since: nil, target: "alice@example.org", limit: 10, actor: .system).map(\.action)
        #expect(actions.contains("account.reset-link") && actions.contains("account.passwd"))
    }

    @Test func anAdminSetsAnAccountsVacationAndForwarding() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            _ = try await b.get("/accounts/alice%40example.org")
            let on = try await b.post("/accounts/alice%40example.org/vacation", [("subject", "Away"), ("message", "Back <soon>"), ("days", "3")])
            #expect(on.body.contains("Vacation reply is on."))
            #expect(on.body.contains("Back &lt;soon&gt;"))
            let fwd = try await b.post("/accounts/alice%40example.org/forward", [("to", "alice@elsewhere.test"), ("keep_copy", "on")])
            #expect(fwd.body.contains("Forwarding is on."))
            #expect(fwd.body.contains("On (after the forwarding copy)."))
        }
        #expect(try h.delivery.forward("alice@example.org", actor: .system).includes == "vacation")
        #expect(try h.delivery.forward("alice@example.org", actor: .system).to == ["alice@elsewhere.test"])
    }

    @Test func anAdminWritesAndTestsAnAccountsSieveScript() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            _ = try await b.get("/accounts/alice%40example.org")
            let bad = try await b.post("/accounts/alice%40example.org/sieve", [("name", "sort"), ("script", "fileinto \"x\"")])
            #expect(bad.status == 422)
            let script = "require \"fileinto\";\nif header :contains \"subject\" \"invoice\" { fileinto \"Invoices\"; }\n"
            let saved = try await b.post("/accounts/alice%40example.org/sieve", [("name", "sort"), ("script", script), ("activate", "on")])
            #expect(saved.body.contains("Script sort saved."))
            let tested = try await b.post(
                "/accounts/alice%40example.org/rules-test", [("from", "bob@elsewhere.test"), ("message", "Subject: invoice 42\n\nPay.\n")])
            #expect(tested.body.contains("Script sort:"), "\(tested.body)")
            #expect(tested.body.contains("Invoices"))
            let imported = try await b.post("/import/postfix-virtual", [("text", "sales@example.org alice@example.org"), ("dry_run", "on")])
            #expect(imported.body.contains("What the import would do (nothing changed)"))
            #expect(imported.body.contains("sales@example.org"))
        }
        #expect(try h.delivery.sieveScripts("alice@example.org", actor: .system).contains { $0.name == "sort" && $0.active })
    }

    @Test func aUserSetsSimpleRulesThatAreSieveUnderneath() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("bob@other.org", "bob-password-1")
            _ = try await b.get("/account")
            let added = try await b.post("/account/rules", [("field", "subject"), ("contains", "invoice \"Q4\""), ("folder", "Bills")])
            #expect(added.body.contains("Rule added"), "\(added.body)")
            _ = try await b.post("/account/rules", [("field", "from"), ("contains", "boss@example.org"), ("folder", "Work/Boss")])
            let page = try await b.get("/account")
            #expect(page.body.contains("invoice &quot;Q4&quot;") && page.body.contains("Work/Boss"))
        }
        let scripts = try h.delivery.sieveScripts("bob@other.org", actor: .system)
        #expect(scripts.contains { $0.name == "rules" && $0.active })
        let test = try h.delivery.testRules(
            "bob@other.org", message: "From: boss@example.org\r\nSubject: invoice \"Q4\" due\r\n\r\nPay.\r\n", actor: .system)
        #expect(test.actions.first?.contains("Bills") == true, "\(test.actions)")
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("bob@other.org", "bob-password-1")
            _ = try await b.get("/account")
            _ = try await b.post("/account/rules/remove", [("index", "0")])
            _ = try await b.post("/account/rules/remove", [("index", "0")])
        }
        #expect(try h.delivery.sieveScripts("bob@other.org", actor: .system).isEmpty)
    }

    @Test func theServerPages() async throws {
        let h = try consoleHarness()
        let dir = Scratch.url("mailroom-console").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            #expect(try await b.get("/storage").body.contains("Mailbox entries"))
            _ = try await b.get("/backups")
            let backup = try await b.post("/backups", [("dir", dir + "/backups")])
            #expect(backup.body.contains("Backed up."), "\(backup.body)")
            let resolved = try await b.get("/troubleshoot?address=eng%40example.org")
            #expect(resolved.body.contains("alice@example.org"))
            _ = try await b.get("/accounts/alice%40example.org")
            let exported = try await b.post("/accounts/alice%40example.org/mailbox-export", [("path", dir + "/alice.mbox"), ("format", "mbox")])
            #expect(exported.body.contains("Exported to"), "\(exported.status)")
            let migrateForm = try await b.get("/migrate")
            #expect(migrateForm.body.contains(#"name="final""#), "the migrate form has no final-pass checkbox")
            let migration = try await b.post("/migrate", [("host", "127.0.0.1"), ("port", "9"), ("security", "plain"), ("accounts", "ann,secret-1,alice@example.org"), ("dry_run", "on")])
            #expect(migration.body.contains("Migration "), "\(migration.status) \(migration.body.prefix(500))")
        }
        #expect(FileManager.default.fileExists(atPath: dir + "/alice.mbox"))
    }

    @Test func settingsRenamesAndAccountsInBulk() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            _ = try await b.get("/domains/example.org")
            let saved = try await b.post("/domains/example.org/settings", [("catch_all", "alice@example.org"), ("mta_sts", "enforce")])
            #expect(saved.location == "/domains/example.org")
            _ = try await b.get("/lists/eng%40example.org")
            let list = try await b.post("/lists/eng%40example.org/settings", [("name", "Engineering"), ("subject_prefix", "[eng]"), ("reply_to", "list")])
            #expect(list.body.contains("Saved."), "\(list.status)")
            _ = try await b.get("/accounts/alice%40example.org")
            let renamed = try await b.post("/accounts/alice%40example.org/rename", [("new_address", "alicia@example.org"), ("keep_alias", "on")])
            #expect(renamed.body.contains("Renamed to alicia@example.org"))
            let csv = try await b.get("/accounts.csv?domain=example.org")
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.body.contains("alicia@example.org"))
            _ = try await b.get("/accounts/import")
            let imported = try await b.post("/accounts/import", [("csv", "address,name\ncarl@example.org,Carl\n")])
            #expect(imported.body.contains("Imported 1 account(s)"), "\(imported.body.prefix(300))")
        }
        #expect(try h.dir.domain("example.org", actor: .system).mtaSts == "enforce")
        #expect(try h.dir.list("eng@example.org", actor: .system).subjectPrefix == "[eng]")
        #expect(h.dir.activeAccount("carl@example.org") != nil)
    }

    @Test func webhooksAreAddedAndRemovedFromTheConsole() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            _ = try await b.get("/webhooks")
            let added = try await b.post("/webhooks", [("url", "https://hooks.example.net/in"), ("event-bounced", "on"), ("event-refused", "on")])
            #expect(Browser.first(#"<code class="secret">(whsec_[0-9a-f]{64})</code>"#, in: added.body) != nil)
            #expect(added.body.contains("bounced, refused"))
            let log = try await b.get("/webhooks/1")
            #expect(log.body.contains("Nothing sent yet."))
            let removed = try await b.post("/webhooks/1/remove")
            #expect(removed.body.contains("Webhook removed."))
        }
    }

    @Test func twoFactorSignIn() async throws {
        let h = try consoleHarness()
        let account = try #require(h.dir.activeAccount("root@example.org"))
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            _ = try await b.get("/account")
            let setup = try await b.post("/account/totp")
            let key = try #require(Browser.first(#"<code class="secret">([A-Z2-7]+)</code>"#, in: setup.body))
            let totp = TOTP(secret: try #require(Base32.decode(key)))
            let wrong = try await b.post("/account/totp/confirm", [("code", "000000" == totp.code(step: totp.step(at: Date())) ? "111111" : "000000")])
            #expect(wrong.body.contains("not the app"))
            #expect(!h.dir.totpEnabled(account))
            let on = try await b.post("/account/totp/confirm", [("code", totp.code(step: totp.step(at: Date())))])
            #expect(on.body.contains("Two-factor sign-in is on."))
            let recovery = Browser.all(#"<code class="secret">([a-z0-9]{10})</code>"#, in: on.body)
            #expect(recovery.count == 10)

            // A new sign-in needs the second step; the password alone reaches no page.
            var fresh = Browser(client)
            let signIn = try await fresh.signIn("root@example.org", "root-password-1")
            #expect(signIn.location?.hasPrefix("/login/code") == true)
            #expect(try await fresh.get("/accounts").location == "/login/code")
            #expect(try await fresh.post("/login/code", [("code", "12345x")]).status == 401)
            // The code used to turn it on was spent: the next one (a step on) is needed.
            let next = totp.code(step: totp.step(at: Date()) + 1)
            #expect(try await fresh.post("/login/code", [("code", next)]).status == 303)
            #expect(try await fresh.get("/accounts").status == 200)
            // …and a code is never accepted twice.
            var replay = Browser(client)
            _ = try await replay.signIn("root@example.org", "root-password-1")
            #expect(try await replay.post("/login/code", [("code", next)]).status == 401)
            // A recovery code works once.
            #expect(try await replay.post("/login/code", [("code", recovery[0])]).status == 303)
            var again = Browser(client)
            _ = try await again.signIn("root@example.org", "root-password-1")
            #expect(try await again.post("/login/code", [("code", recovery[0])]).status == 401)
        }
        let history = try h.dir.store.loginHistory(accountID: account.id)
        #expect(history.failures.contains { $0.reason == LoginFailureReason.wrongCode.rawValue })
    }

    @Test func aRoleThatMustUseTwoFactorSeesOnlyItsSetUp() async throws {
        let h = try consoleHarness(ConsoleSettings(requireTOTP: ["server-admin"], failureDelay: .milliseconds(1)))
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("root@example.org", "root-password-1")
            #expect(try await b.get("/accounts").location == "/account?setup=totp")
            let own = try await b.get("/account")
            #expect(own.body.contains("must use two-factor sign-in"))
            // A domain admin is not required to.
            var dana = Browser(client)
            _ = try await dana.signIn("dana@other.org", "dana-password-1")
            let danaPage = try await dana.get("/accounts")
            #expect(danaPage.status == 200, "\(danaPage.status) \(danaPage.location ?? "") \(danaPage.body.prefix(300))")
        }
    }

    @Test func appPasswordsSignInMailProgramsButNotTheConsole() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("bob@other.org", "bob-password-1")
            _ = try await b.get("/account")
            let created = try await b.post("/account/app-passwords", [("name", "Phone")])
            let password = try #require(Browser.first(#"<code class="secret">([a-z-]{19})</code>"#, in: created.body))
            #expect(h.dir.authenticate(address: "bob@other.org", password: password) != nil)
            #expect(h.dir.authenticate(address: "bob@other.org", password: password, allowAppPassword: false) == nil)
            var other = Browser(client)
            #expect(try await other.signIn("bob@other.org", password).status == 401)
            let listed = try await b.get("/account")
            #expect(listed.body.contains("Phone"))
            let id = try #require(Browser.first(#"/account/app-passwords/(\d+)/revoke"#, in: listed.body))
            _ = try await b.post("/account/app-passwords/\(id)/revoke")
            #expect(h.dir.authenticate(address: "bob@other.org", password: password) == nil)
        }
    }

    @Test func changingOnesPasswordNeedsTheCurrentOne() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var b = Browser(client)
            _ = try await b.signIn("bob@other.org", "bob-password-1")
            _ = try await b.get("/account")
            let wrong = try await b.post("/account/password", [("current", "guess-guess-1"), ("new", "new-password-22"), ("repeat", "new-password-22")])
            #expect(wrong.status == 422)
            let ok = try await b.post("/account/password", [("current", "bob-password-1"), ("new", "new-password-22"), ("repeat", "new-password-22")])
            #expect(ok.body.contains("Password changed."))
            // This browser stays signed in.
            #expect(try await b.get("/account").status == 200)
        }
        #expect(h.dir.authenticate(address: "bob@other.org", password: "new-password-22") != nil)
    }

    @Test func sessionsEndWhenIdleAndEverywhereOnRequest() async throws {
        let h = try consoleHarness()
        try await h.app.test(.router) { client in
            var laptop = Browser(client)
            var phone = Browser(client)
            _ = try await laptop.signIn("bob@other.org", "bob-password-1")
            _ = try await phone.signIn("bob@other.org", "bob-password-1")
            // Idle past the timeout (30 minutes by default).
            let id = try #require(laptop.cookie?.split(separator: "=", maxSplits: 1).last.map(String.init))
            try h.dir.store.touchConsoleSession(idHash: DirectoryService.tokenHash(id), at: Date().addingTimeInterval(-31 * 60), verified: true)
            #expect(try await laptop.get("/account").status == 303)
            #expect(try await phone.get("/account").status == 200)
            _ = try await laptop.signIn("bob@other.org", "bob-password-1")
            _ = try await laptop.get("/account")
            let out = try await laptop.post("/account/sign-out-everywhere")
            #expect(out.location == "/login")
            #expect(try await phone.get("/account").status == 303)
        }
    }

    @Test func failedSignInsShareTheBanOfMailLogins() async throws {
        let bans = AuthLimiter(maxFailures: 3, ban: 600)
        let h = try consoleHarness()
        let app = Application(
            router: buildAdminRouter(directory: h.dir, metrics: AdminMetrics(), bans: bans, console: ConsoleSettings(failureDelay: .milliseconds(1))))
        try await app.test(.router) { client in
            var b = Browser(client)
            for _ in 0..<3 { _ = try await b.signIn("bob@other.org", "wrong-password") }
            // Banned: even the right password is refused now, as IMAP and SMTP would.
            let banned = try await b.signIn("bob@other.org", "bob-password-1")
            #expect(banned.status == 429)
        }
        #expect(bans.isBanned("unknown"))
    }

    @Test func rolesAreSetThroughTheAPIAndAudited() async throws {
        let h = try Harness()
        try await h.app.test(.router) { client in
            let (status, body) = try await h.request(
                client, .put, "/api/v1/accounts/alice%40example.org/role", token: h.serverToken, body: #"{"role":"domain-admin","domains":["example.org"]}"#)
            #expect(status == 200)
            #expect(body.contains(#""role":"domain-admin""#))
            let (refused, _) = try await h.request(
                client, .put, "/api/v1/accounts/bob%40other.org/role", token: h.otherDomainToken, body: #"{"role":"server-admin"}"#)
            #expect(refused == 403)
            let (bad, badBody) = try await h.request(
                client, .put, "/api/v1/accounts/alice%40example.org/role", token: h.serverToken, body: #"{"role":"domain-admin"}"#)
            #expect(bad == 400)
            #expect(badBody.contains("domains_required"))
        }
        #expect(try h.dir.auditLog(since: nil, target: "alice@example.org", limit: 10, actor: .system).contains { $0.action == "account.role" })
    }
}

@Suite struct TOTPTests {
    /// RFC 6238 Appendix B, SHA-1 rows (8 digits; the app default of 6 is the same number's
    /// last six digits).
    @Test(arguments: [
        (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func rfc6238Vectors(_ time: Int, _ code: String) {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        let step = totp.step(at: Date(timeIntervalSince1970: Double(time)))
        #expect(totp.code(step: step) == code)
        #expect(TOTP(secret: Array("12345678901234567890".utf8)).code(step: step) == String(code.suffix(6)))
    }

    @Test func acceptsOneStepOfDriftOnly() {
        let totp = TOTP(secret: TOTP.newSecret())
        let now = Date()
        let step = totp.step(at: now)
        #expect(totp.matchingStep(totp.code(step: step - 1), at: now) == step - 1)
        #expect(totp.matchingStep(totp.code(step: step + 1), at: now) == step + 1)
        let far = totp.code(step: step - 5)
        if ![step - 1, step, step + 1].contains(where: { totp.code(step: $0) == far }) {
            #expect(totp.matchingStep(far, at: now) == nil)
        }
    }

    @Test(arguments: ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "      "])
    func malformedCodesMatchNothing(_ code: String) {
        #expect(TOTP(secret: TOTP.newSecret()).matchingStep(code, at: Date()) == nil)
    }

    @Test(arguments: [[], [0], [0xff, 0x00, 0x10], Array("12345678901234567890".utf8), (0...255).map { UInt8($0) }] as [[UInt8]])
    func base32RoundTrips(_ bytes: [UInt8]) {
        #expect(Base32.decode(Base32.encode(bytes)) == bytes)
    }

    @Test func base32KnownAndMalformed() {
        // RFC 4648 §10.
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("mzxw 6ytb-oi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil)
        #expect(Base32.decode("MZ!W") == nil)
    }

    @Test func otpauthURINamesIssuerAndAccount() {
        let uri = TOTP(secret: Array("12345678901234567890".utf8)).uri(issuer: "Mailroom mail.example.org", account: "a@example.org")
        #expect(uri == "otpauth://totp/Mailroom%20mail.example.org:a@example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Mailroom%20mail.example.org&digits=6&period=30")
    }
}

@Suite struct ConsoleFormTests {
    @Test(arguments: [
        ("a=1&b=2", "a", "1"), ("a=hello+world", "a", "hello world"), ("a=%3Cb%3E", "a", "<b>"), ("a=&b=2", "a", ""),
        ("a", "a", ""), ("a=1&a=2", "a", "1"), ("x=%E2%9C%93", "x", "✓"),
    ])
    func parsesURLEncodedForms(_ body: String, _ name: String, _ value: String) {
        #expect(FormData(body)[name] == value)
    }

    @Test(arguments: ["%", "a=%zz", "=&=&", "&&&", "a=%C0%80", String(repeating: "a=b&", count: 1000)])
    func malformedFormsParseWithoutCrashing(_ body: String) {
        _ = FormData(body)
    }

    @Test func listsSplitOnLinesCommasAndSpaces() {
        #expect(FormData("m=a%40x.org%0D%0Ab%40x.org,c%40x.org+d%40x.org").list("m") == ["a@x.org", "b@x.org", "c@x.org", "d@x.org"])
    }

    @Test(arguments: [
        ("/accounts", "/accounts"), ("//evil.org", nil), ("https://evil.org", nil), ("/\\evil.org", nil), ("evil", nil), ("/a?b=c", "/a?b=c"),
    ] as [(String, String?)])
    func redirectsStayOnTheConsole(_ path: String, _ expected: String?) {
        #expect(Console.safePath(path) == expected)
    }
}
