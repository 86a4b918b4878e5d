import AdminModels
import Directory
import Foundation
import Hummingbird
import LoginKit
import MailCore
import Storage
import Synchronization

typealias PageBuilder = @Sendable (ConsoleRequest) throws -> Page
typealias AsyncPageBuilder = @Sendable (ConsoleRequest) async throws -> Page

extension Console {
    /// Adds the console's routes to the admin router.
    func addRoutes(to router: Router<AdminContext>) {
        let group = router.group().add(middleware: ConsoleMiddleware(console: self))
        group.get("console.css") { _, _ in
            var r = JSONBody.text(ConsoleTemplates.css, contentType: "text/css; charset=utf-8")
            r.headers[.cacheControl] = "max-age=3600"
            return r
        }
        group.get("favicon.svg") { _, _ in
            var r = JSONBody.text(ConsoleTemplates.icon, contentType: "image/svg+xml")
            r.headers[.cacheControl] = "max-age=86400"
            return r
        }
        addSignIn(group)
        addResetLinks(group)
        addAdminPages(self, group)
        addAccountPages(self, group)
    }

    // MARK: Route helpers

    enum Audience: Sendable { case admin, anyone }

    /// A page or form target, as registered (the authorisation tests try each one).
    struct ConsoleRoute: Sendable {
        let method: String
        let path: String
        let audience: Audience
    }

    /// A page for signed-in people (admins only unless `anyone`), built off the async
    /// executors because it reads the store.
    func page(_ group: RouterGroup<AdminContext>, _ path: RouterPath, _ audience: Audience, _ build: @escaping PageBuilder) {
        registered.withLock { $0.append(ConsoleRoute(method: "GET", path: path.description, audience: audience)) }
        group.get(path) { req, ctx in
            try await self.serve(req, ctx, audience, form: FormData()) { r in try await blocking { try build(r) } } fallback: { _ in nil }
        }
    }

    /// A form's target. What `act` returns is shown; when it fails, the page `fallback` builds
    /// is shown again with the reason.
    func action(
        _ group: RouterGroup<AdminContext>, _ path: RouterPath, _ audience: Audience, fallback: @escaping PageBuilder,
        _ act: @escaping PageBuilder
    ) {
        asyncAction(group, path, audience, fallback: fallback) { r in try await blocking { try act(r) } }
    }

    func asyncAction(
        _ group: RouterGroup<AdminContext>, _ path: RouterPath, _ audience: Audience, fallback: @escaping PageBuilder,
        _ act: @escaping AsyncPageBuilder
    ) {
        registered.withLock { $0.append(ConsoleRoute(method: "POST", path: path.description, audience: audience)) }
        group.post(path) { req, ctx in
            let (req, form) = try await Self.readForm(req)
            return try await self.serve(req, ctx, audience, form: form, act) { r in try await blocking { try fallback(r) } }
        }
    }

    private func serve(
        _ req: Request, _ ctx: AdminContext, _ audience: Audience, form: FormData, _ build: AsyncPageBuilder,
        fallback: @escaping @Sendable (ConsoleRequest) async throws -> Page?
    ) async throws -> Response {
        let ip = ctx.remoteAddress?.ipAddress ?? "unknown"
        let path = req.uri.path
        guard let user = try await blocking({ self.user(req, ip: ip) }) else {
            return Self.redirect("/login?next=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        }
        if !user.session.verified { return Self.redirect("/login/code") }
        if req.method == .post {
            // The token in every form of this session: another site cannot know it.
            guard let token = form["csrf"], constantTimeEqual(Array(token.utf8), Array(user.session.csrf.utf8)) else {
                return render(
                    Page("Refused", error: "This form has expired or did not come from this console. Go back, reload the page and try again."),
                    user: user, path: path, status: .forbidden)
            }
        }
        if audience == .admin {
            guard user.admin != nil else {
                return render(Page("Not allowed", error: "This page is for administrators."), user: user, path: path, status: .forbidden)
            }
            if mustSetUpTOTP(user) { return Self.redirect("/account?setup=totp") }
        }
        let r = ConsoleRequest(request: req, context: ctx, user: user, form: form)
        do {
            let page = try await build(r)
            return render(page, user: user, path: path, status: page.refused ? .unprocessableContent : .ok)
        } catch let redirect as ConsoleRedirect {
            return Self.redirect(redirect.location, cookie: redirect.cookie)
        } catch let file as ConsoleDownload {
            var r = JSONBody.text(file.body, contentType: file.contentType)
            r.headers[.contentDisposition] = "attachment; filename=\"\(file.name)\""
            return r
        } catch let e as AdminError {
            let status: HTTPResponse.Status = e.status == 403 ? .forbidden : e.status == 404 ? .notFound : .unprocessableContent
            var page = (try? await fallback(r)) ?? Page(e.status == 404 ? "Not found" : "Could not do that")
            page.notice = nil
            page.error = e.message
            return render(page, user: user, path: path, status: status)
        }
    }

    // MARK: Signing in

    private func addSignIn(_ group: RouterGroup<AdminContext>) {
        group.get("login") { req, ctx in
            let ip = ctx.remoteAddress?.ipAddress ?? "unknown"
            if let user = try await blocking({ self.user(req, ip: ip) }), user.session.verified { return Self.redirect("/") }
            return self.render(self.signInPage(next: Self.safeNext(req)), user: nil, path: "/login")
        }
        group.post("login") { req, ctx in
            let (req, form) = try await Self.readForm(req)
            let ip = ctx.remoteAddress?.ipAddress ?? "unknown"
            let address = form.text("address") ?? ""
            let password = form["password"] ?? ""
            let next = form.text("next").flatMap(Self.safePath) ?? "/"
            if self.bans?.isBanned(ip) ?? false {
                _ = try? await blocking { self.dir.recordLoginFailure(login: address, protocol: "console", ip: ip, reason: .banned) }
                return self.render(
                    self.signInPage(next: next, error: "Too many failed sign-ins from your address. Wait a while, or ask an administrator to lift the ban."),
                    user: nil, path: "/login", status: .tooManyRequests)
            }
            let account = try await blocking { self.dir.authenticate(address: address, password: password, allowAppPassword: false) }
            guard let account else {
                _ = try? await blocking { self.dir.recordLoginFailure(login: address, protocol: "console", ip: ip) }
                self.bans?.recordFailure(ip)
                try? await Task.sleep(for: self.settings.failureDelay)
                return self.render(
                    self.signInPage(next: next, error: "Wrong address or password."), user: nil, path: "/login", status: .unauthorized)
            }
            let twoFactor = self.dir.totpEnabled(account)
            let cookie = try await blocking { try self.startSession(account, verified: !twoFactor, ip: ip) }
            if twoFactor { return Self.redirect("/login/code?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"), cookie: cookie) }
            self.bans?.recordSuccess(ip)
            _ = try? await blocking { self.dir.recordLoginSuccess(account, protocol: "console", ip: ip) }
            return Self.redirect(next, cookie: cookie)
        }
        group.get("login/code") { req, ctx in
            let ip = ctx.remoteAddress?.ipAddress ?? "unknown"
            guard let user = try await blocking({ self.user(req, ip: ip) }) else { return Self.redirect("/login") }
            if user.session.verified { return Self.redirect("/") }
            return self.render(self.codePage(next: Self.safeNext(req)), user: nil, path: "/login/code")
        }
        group.post("login/code") { req, ctx in
            let (req, form) = try await Self.readForm(req)
            let ip = ctx.remoteAddress?.ipAddress ?? "unknown"
            let next = form.text("next").flatMap(Self.safePath) ?? "/"
            guard let user = try await blocking({ self.user(req, ip: ip) }) else { return Self.redirect("/login") }
            if self.bans?.isBanned(ip) ?? false {
                return self.render(
                    self.codePage(next: next, error: "Too many failed sign-ins from your address. Wait a while and try again."), user: nil,
                    path: "/login/code", status: .tooManyRequests)
            }
            let ok = try await blocking { self.dir.verifySecondFactor(user.account, code: form.text("code") ?? "") }
            guard ok else {
                _ = try? await blocking {
                    self.dir.recordLoginFailure(login: user.account.address.description, protocol: "console", ip: ip, reason: .wrongCode)
                }
                self.bans?.recordFailure(ip)
                try? await Task.sleep(for: self.settings.failureDelay)
                return self.render(
                    self.codePage(next: next, error: "That code is not right, or was used already. Codes change every 30 seconds."), user: nil,
                    path: "/login/code", status: .unauthorized)
            }
            self.bans?.recordSuccess(ip)
            try await blocking {
                try self.dir.store.touchConsoleSession(idHash: user.session.idHash, at: Date(), verified: true)
                self.dir.recordLoginSuccess(user.account, protocol: "console", ip: ip)
            }
            return Self.redirect(next)
        }
        group.post("logout") { req, ctx in
            let (req, form) = try await Self.readForm(req)
            let ip = ctx.remoteAddress?.ipAddress ?? "unknown"
            if let user = try await blocking({ self.user(req, ip: ip) }), let token = form["csrf"], constantTimeEqual(Array(token.utf8), Array(user.session.csrf.utf8)) {
                try await blocking { _ = try self.dir.store.deleteConsoleSessions(accountID: user.account.id, idHash: user.session.idHash) }
            }
            return Self.redirect("/login", cookie: self.cookie("", maxAge: 0))
        }
    }

    /// `/reset/TOKEN`: a one-time link an admin made; it sets a new password without the old.
    func addResetLinks(_ group: RouterGroup<AdminContext>) {
        group.get("reset/:token") { _, ctx in
            let token = try param(ctx, "token")
            guard let account = try await blocking({ self.dir.resetAccount(token: token) }) else {
                return self.render(Page("Reset link", error: "This link has expired or was used already. Ask your administrator for a new one."), user: nil, path: "", status: .notFound)
            }
            return self.render(self.resetPage(token: token, address: account.address.displayForm), user: nil, path: "")
        }
        group.post("reset/:token") { req, ctx in
            let token = try param(ctx, "token")
            let (_, form) = try await Self.readForm(req)
            guard let account = try await blocking({ self.dir.resetAccount(token: token) }) else {
                return self.render(Page("Reset link", error: "This link has expired or was used already. Ask your administrator for a new one."), user: nil, path: "", status: .notFound)
            }
            guard let password = form["new"], password == form["repeat"] else {
                return self.render(
                    self.resetPage(token: token, address: account.address.displayForm, error: "The new password and its repetition differ."), user: nil, path: "",
                    status: .unprocessableContent)
            }
            do {
                _ = try await blocking { try self.dir.resetPassword(token: token, password: password) }
            } catch let e as AdminError {
                return self.render(self.resetPage(token: token, address: account.address.displayForm, error: e.message), user: nil, path: "", status: .unprocessableContent)
            }
            var page = self.signInPage(next: "/")
            page.notice = "Your password is set. Sign in with it."
            return self.render(page, user: nil, path: "/login")
        }
    }

    func resetPage(token: String, address: String, error: String? = nil) -> Page {
        Page(
            "Choose a new password", error: error,
            [
                Section(
                    text: ["For \(address). This link works once."],
                    forms: [
                        Form(
                            "/reset/" + token,
                            [
                                .password("new", "New password", autocomplete: "new-password", hint: "at least 10 characters"),
                                .password("repeat", "New password again", autocomplete: "new-password"),
                            ], submit: "Set password")
                    ])
            ])
    }

    func signInPage(next: String, error: String? = nil) -> Page {
        Page(
            "Sign in", error: error,
            [
                Section(
                    text: ["Sign in with your email address and its password. App passwords are for mail programs, not for this page."],
                    forms: [
                        Form(
                            "/login",
                            [
                                .text("address", "Email address", type: "email", required: true, autocomplete: "username"),
                                .password("password", "Password"), .hidden("next", next),
                            ], submit: "Sign in")
                    ])
            ])
    }

    func codePage(next: String, error: String? = nil) -> Page {
        Page(
            "Two-factor sign-in", error: error,
            [
                Section(
                    text: ["Enter the 6-digit code your authenticator app shows for Mailroom, or one of your recovery codes."],
                    forms: [
                        Form(
                            "/login/code", [.text("code", "Code", required: true, autocomplete: "one-time-code"), .hidden("next", next)],
                            submit: "Continue")
                    ])
            ])
    }

    static func readForm(_ req: Request) async throws -> (Request, FormData) {
        var req = req
        let body = try await req.collectBody(upTo: 64 * 1024)
        return (req, FormData(String(decoding: body.readableBytesView, as: UTF8.self)))
    }

    static func safeNext(_ req: Request) -> String {
        req.uri.queryParameters["next"].flatMap { safePath(String($0).removingPercentEncoding ?? "") } ?? "/"
    }

    /// Only a path on this console: never another site (an open redirect).
    static func safePath(_ path: String) -> String? {
        guard path.hasPrefix("/"), !path.hasPrefix("//"), !path.contains("\\"), !path.contains("://") else { return nil }
        return path
    }
}
