import AdminModels
import Delivery
import Directory
import Foundation
import Hummingbird
import LoginKit
import MailCore
import Storage

// `/account`: what everyone with an account may do for themselves. Every operation here is
// given the signed-in account's own address and no other: nothing on these pages takes an
// address from the request.

/// Thrown by a page builder to answer with a redirect instead of a page (signing out).
struct ConsoleRedirect: Error {
    let location: String
    let cookie: String?
}

func addAccountPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let page: PageBuilder = { r in try accountSelfPage(c, r) }
    c.page(group, "account", .anyone, page)
    func act(_ path: RouterPath, _ body: @escaping @Sendable (ConsoleRequest, AdminActor) throws -> Page) {
        c.action(group, path, .anyone, fallback: page) { r in try body(r, c.dir.selfActor(r.user.account, sourceIP: r.user.ip)) }
    }
    act("account/password") { r, me in
        guard c.dir.authenticate(address: r.user.account.address.description, password: r.form["current"] ?? "", allowAppPassword: false) != nil else {
            throw AdminError.invalid("wrong_password", "Your current password is not right.")
        }
        guard let new = r.form["new"], new == r.form["repeat"] else {
            throw AdminError.invalid("mismatch", "The new password and its repetition differ.")
        }
        _ = try c.dir.setPassword(r.user.account.address.description, password: new, actor: me)
        // Other browsers signed in with the old password are signed out; this one stays.
        try c.dir.store.deleteConsoleSessions(accountID: r.user.account.id, idHash: nil)
        try c.dir.store.insertConsoleSession(r.user.session)
        var p = try accountSelfPage(c, r)
        p.notice = "Password changed. Your other console sessions have ended; mail programs need the new password (app passwords still work)."
        return p
    }
    act("account/app-passwords") { r, me in
        let name = r.form.text("name") ?? ""
        let secret = try c.dir.createAppPassword(r.user.account, name: name, actor: me)
        var p = try accountSelfPage(c, r)
        var s = Section(
            "App password for \(name)",
            text: ["Type this into the mail program as its password, with your address as the user name. It is shown only now."])
        s.secrets = [secret]
        p.sections.insert(s, at: 0)
        return p
    }
    act("account/app-passwords/:id/revoke") { r, me in
        guard let id = Int64(try r.param("id")) else { throw AdminError.notFound("not_found", "no such app password") }
        try c.dir.revokeAppPassword(r.user.account, id: id, actor: me)
        var p = try accountSelfPage(c, r)
        p.notice = "App password revoked: the device using it can no longer sign in."
        return p
    }
    act("account/totp") { r, _ in
        let totp = try c.dir.beginTOTP(r.user.account)
        return totpSetUpPage(c, r, totp)
    }
    act("account/totp/confirm") { r, me in
        guard let pending = try c.dir.pendingTOTP(r.user.account) else {
            throw AdminError.invalid("totp_not_started", "Start the set-up first.")
        }
        let codes: [String]
        do {
            codes = try c.dir.confirmTOTP(r.user.account, code: r.form.text("code") ?? "", actor: me)
        } catch let e as AdminError {
            var p = totpSetUpPage(c, r, pending)
            p.error = e.message
            return p
        }
        var p = try accountSelfPage(c, r)
        p.notice = "Two-factor sign-in is on."
        var s = Section(
            "Recovery codes",
            text: ["Keep these somewhere safe. Each signs you in once if you lose your phone. They are shown only now."])
        s.secrets = codes
        p.sections.insert(s, at: 0)
        return p
    }
    act("account/totp/off") { r, me in
        guard c.dir.authenticate(address: r.user.account.address.description, password: r.form["current"] ?? "", allowAppPassword: false) != nil else {
            throw AdminError.invalid("wrong_password", "Your current password is not right.")
        }
        if c.settings.requireTOTP.contains(r.user.roleName) {
            throw AdminError.invalid("totp_required", "Your role must use two-factor sign-in; set up a new device instead of turning it off.")
        }
        try c.dir.disableTOTP(r.user.account, actor: me)
        var p = try accountSelfPage(c, r)
        p.notice = "Two-factor sign-in is off."
        return p
    }
    act("account/vacation") { r, me in
        try setRule(c, r, "vacation", address: r.user.account.address.description, actor: me)
        var p = try accountSelfPage(c, r)
        p.notice = ruleNotice(r, "vacation")
        return p
    }
    act("account/forward") { r, me in
        try setRule(c, r, "forward", address: r.user.account.address.description, actor: me)
        var p = try accountSelfPage(c, r)
        p.notice = ruleNotice(r, "forward")
        return p
    }
    addSimpleRulePages(c, group)
    act("account/sign-out-everywhere") { r, _ in
        try c.dir.store.deleteConsoleSessions(accountID: r.user.account.id, idHash: nil)
        throw ConsoleRedirect(location: "/login", cookie: c.cookie("", maxAge: 0))
    }
}

func accountSelfPage(_ c: Console, _ r: ConsoleRequest) throws -> Page {
    let account = r.user.account
    let me = c.dir.selfActor(account, sourceIP: r.user.ip)
    let view = try c.dir.account(account.address.description, actor: me)
    var page = Page("My account")
    if c.mustSetUpTOTP(r.user) {
        page.error = "Your role must use two-factor sign-in. Set it up below before using the rest of the console."
    }
    let used = view.storedBytes ?? 0
    page.sections.append(
        Section(
            facts: [
                Fact("Address", view.address), Fact("Name", view.name.isEmpty ? "—" : view.name), Fact("Role", r.user.roleName),
                view.quota > 0
                    ? Fact("Mailbox", "\(size(used)) of \(ByteSize.format(view.quota))", meter: Meter(value: used, max: view.quota, label: "mailbox used"))
                    : Fact("Mailbox", size(used) + " (no limit)"),
            ]))
    page.sections.append(
        Section(
            "Change password",
            forms: [
                Form(
                    "/account/password",
                    [
                        .password("current", "Current password"), .password("new", "New password", autocomplete: "new-password", hint: "at least 10 characters"),
                        .password("repeat", "New password again", autocomplete: "new-password"),
                    ], submit: "Change password")
            ]))
    let apps = try c.dir.appPasswords(account)
    page.sections.append(
        Section(
            "App passwords",
            text: ["A separate password for each mail program or phone, so that losing one device means revoking one password."],
            table: Table(
                "App passwords", columns: ["Device", "Created", "Last used", ""],
                rows: apps.map { a in
                    .init([
                        Cell(a.name), Cell(when(a.createdAt)), Cell(when(a.lastUsedAt)),
                        Cell("", forms: [Form("/account/app-passwords/\(a.id)/revoke", submit: "Revoke", label: "Revoke the app password for \(a.name)", danger: true, inline: true)]),
                    ])
                }, empty: "No app passwords."),
            forms: [Form("/account/app-passwords", [.text("name", "Device name", required: true, hint: "for example “Phone”")], submit: "Create app password")]))
    var totp = Section("Two-factor sign-in")
    if c.dir.totpEnabled(account) {
        totp.text = ["On: signing in here asks for a code from your authenticator app."]
        totp.forms = [Form("/account/totp/off", [.password("current", "Current password")], submit: "Turn off two-factor sign-in", danger: true)]
    } else {
        totp.text = ["Off. With it on, signing in here also asks for a code from an authenticator app on your phone."]
        totp.forms = [Form("/account/totp", submit: "Set up two-factor sign-in")]
    }
    page.sections.append(totp)
    page.sections += try ruleSections(c, address: view.address, actor: me, base: "/account")
    if let rules = try simpleRulesSection(c, address: view.address, actor: me) { page.sections.append(rules) }
    page.sections.append(
        Section(
            "Sessions",
            text: ["Signed in somewhere you should not be? This ends every console session of your account, this one too."],
            forms: [Form("/account/sign-out-everywhere", submit: "Sign out everywhere", danger: true)]))
    return page
}

func totpSetUpPage(_ c: Console, _ r: ConsoleRequest, _ totp: TOTP) -> Page {
    var s = Section(
        "Set up your authenticator app",
        text: [
            "In your authenticator app, add an account by key (or paste the link below) with this key. Then type the 6-digit code it shows.",
        ])
    s.secrets = [Base32.encode(totp.secret)]
    s.facts = [Fact("Link", totp.uri(issuer: c.settings.issuer, account: r.user.account.address.description))]
    s.forms = [Form("/account/totp/confirm", [.text("code", "Code from the app", required: true, autocomplete: "one-time-code")], submit: "Turn on")]
    return Page("Two-factor sign-in", [s])
}

// MARK: Vacation and forwarding (a person's own, or an admin's for an account)

/// Vacation reply and forwarding, with forms posting to `base`/vacation and `base`/forward.
func ruleSections(_ c: Console, address: String, actor: AdminActor, base: String) throws -> [Section] {
    guard let delivery = c.delivery else { return [] }
    let vacation = try delivery.vacation(address, actor: actor)
    let forward = try delivery.forward(address, actor: actor)
    // Forwarding that keeps a copy runs the rules active before it, the vacation reply too.
    let replying = vacation.active || (forward.active && forward.includes == LocalDelivery.vacationScriptName)
    return [
        Section(
            "Vacation reply",
            text: [vacation.active ? "On." : replying ? "On (after the forwarding copy)." : "Off."],
            forms: [
                Form(
                    base + "/vacation",
                    [
                        .text("subject", "Subject", value: vacation.subject ?? "", required: true), .textarea("message", "Message", value: vacation.message ?? ""),
                        .text("days", "Reply to each sender once every", value: String(vacation.days ?? 7), type: "number", hint: "days"),
                    ], submit: replying ? "Update vacation reply" : "Turn on vacation reply")
            ] + (replying ? [Form(base + "/vacation", [.hidden("do", "off")], submit: "Turn off vacation reply", danger: true)] : [])),
        Section(
            "Forwarding",
            text: [forward.active ? "On: to \(forward.to.joined(separator: ", "))." : "Off."],
            forms: [
                Form(
                    base + "/forward",
                    [
                        .text("to", "Forward to", value: forward.to.joined(separator: " "), required: true),
                        .checkbox("keep_copy", "Keep a copy here", checked: forward.active ? forward.keepCopy : true),
                    ], submit: forward.active ? "Update forwarding" : "Turn on forwarding")
            ] + (forward.active ? [Form(base + "/forward", [.hidden("do", "off")], submit: "Turn off forwarding", danger: true)] : [])),
    ]
}

/// Applies a submitted vacation or forwarding form (`do=off` turns it off).
func setRule(_ c: Console, _ r: ConsoleRequest, _ rule: String, address: String, actor: AdminActor) throws {
    guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "rules are not available") }
    switch (rule, r.form["do"] == "off") {
    case ("vacation", true): _ = try delivery.clearVacation(address, actor: actor)
    case ("vacation", false):
        _ = try delivery.setVacation(
            address, subject: r.form.text("subject") ?? "", message: r.form["message"] ?? "", days: r.form.text("days").flatMap { Int($0) },
            actor: actor)
    case (_, true): _ = try delivery.clearForward(address, actor: actor)
    default: _ = try delivery.setForward(address, to: r.form.list("to"), keepCopy: r.form.bool("keep_copy"), actor: actor)
    }
}

func ruleNotice(_ r: ConsoleRequest, _ rule: String) -> String {
    let name = rule == "vacation" ? "Vacation reply" : "Forwarding"
    return r.form["do"] == "off" ? "\(name) is off." : "\(name) is on."
}
