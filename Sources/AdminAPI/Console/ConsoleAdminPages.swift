import AdminModels
import Delivery
import Directory
import Doctor
import Foundation
import Hummingbird
import MailCore
import Outbound
import Storage

// The administrator's pages. Each reads and acts through the same operations as the API
// (`DirectoryService`, `LocalDelivery`, `QueueAdmin`), with the signed-in admin as the actor,
// so a domain admin sees and changes only their domains whatever they type.

func when(_ date: Date?) -> String {
    guard let date else { return "—" }
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
    return f.string(from: date)
}

/// A size in use: `ByteSize` writes a quota, where 0 means unlimited.
func size(_ bytes: Int64) -> String { bytes == 0 ? "0 bytes" : ByteSize.format(bytes) }

func pathPart(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
}

func addAdminPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    c.page(group, "/", .anyone) { r in
        // Plain users have only their own page.
        guard r.user.admin != nil else { return try accountSelfPage(c, r) }
        return try dashboardPage(c, r)
    }
    addDomainPages(c, group)
    addAccountAdminPages(c, group)
    addAliasPages(c, group)
    addListPages(c, group)
    addQueuePages(c, group)
    addTracePages(c, group)
    addAuditAndTokenPages(c, group)
    addWebhookPages(c, group)
    addMorePages(c, group)
    addServerPages(c, group)
    addSettingsPages(c, group)
}

// MARK: Dashboard

func dashboardPage(_ c: Console, _ r: ConsoleRequest) throws -> Page {
    var page = Page("Dashboard")
    let actor = r.actor
    if actor.isServerAdmin {
        let now = Date()
        let firstHour = Int64(now.timeIntervalSince1970 / 3600) - 23
        c.delivery?.flushRefusals()  // refusals are batched in memory; count them too
        let counts = try c.dir.store.eventCountsPerHour(since: Date(timeIntervalSince1970: Double(firstHour) * 3600))
        let hours = (0..<24).map { firstHour + Int64($0) }
        let labels = hours.map { h -> String in
            let f = DateFormatter()
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "HH:00"
            return f.string(from: Date(timeIntervalSince1970: Double(h) * 3600))
        }
        let series: [(String, String)] = [("received", "#1f5fbf"), ("delivered", "#2e7d32"), ("bounced", "#b3261e"), ("refused", "#8e6c00")]
        let chart = Chart(
            title: "Mail per hour, last 24 hours (UTC)", groups: labels,
            series: series.map { name, colour in Chart.Series(name: name, colour: colour, values: hours.map { counts[name]?[$0] ?? 0 }) })
        var s = Section("Mail in the last 24 hours")
        s.svg = chart.svg()
        s.facts = series.map { name, _ in Fact(name.capitalized, String((counts[name] ?? [:]).values.reduce(0, +))) }
        page.sections.append(s)
        if let status = c.status?.status() {
            var st = Section("Server")
            let queued = status.queue.values.reduce(0, +)
            st.facts = [
                Fact("Host name", status.hostname), Fact("Version", status.version), Fact("Running since", when(status.startedAt)),
                Fact("Queued recipients", String(queued)), Fact("Banned addresses", String(status.bannedAddresses)),
            ]
            st.facts += status.certificates.map { Fact("Certificate \($0.names.joined(separator: ", "))", "expires \(when($0.notAfter))") }
            page.sections.append(st)
            var alerts = Section("Alerts")
            alerts.text = status.alerts.isEmpty ? ["No alerts."] : status.alerts.map { "\($0.name): \($0.summary) (since \(when($0.since)))" }
            page.sections.append(alerts)
            if let doctor = status.lastDoctor {
                var d = Section("Last doctor run")
                d.facts = [Fact("Run", when(doctor.at)), Fact("OK", String(doctor.ok)), Fact("Warnings", String(doctor.warnings)), Fact("Errors", String(doctor.errors))]
                d.text = doctor.problems
                page.sections.append(d)
            }
        }
    } else if let outbound = c.outbound {
        let summary = try outbound.queue.summary(actor: actor)
        page.sections.append(Section("Queue", facts: summary.byStatus.sorted { $0.key < $1.key }.map { Fact($0.key, String($0.value)) }))
    }
    let rows: [Table.Row] = c.dir.domains(actor: actor).map(domainRow)
    page.sections.append(Section("Your domains", table: Table("Domains", columns: ["Domain", "Accounts", "Aliases", "Lists", "MTA-STS"], rows: rows)))
    return page
}

private func domainRow(_ d: DomainView) -> Table.Row {
    let link = Cell(d.name, href: "/domains/" + pathPart(d.name))
    return Table.Row([link, Cell(String(d.accounts)), Cell(String(d.aliases)), Cell(String(d.lists)), Cell(d.mtaSts)])
}

// MARK: Domains

private func addDomainPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let list: PageBuilder = { r in
        var page = Page("Domains")
        let rows: [Table.Row] = c.dir.domains(actor: r.actor).map(domainRow)
        page.sections.append(Section(table: Table("Domains", columns: ["Domain", "Accounts", "Aliases", "Lists", "MTA-STS"], rows: rows)))
        if r.actor.isServerAdmin {
            page.sections.append(Section("Add a domain", forms: [Form("/domains", [.text("name", "Domain name", required: true)], submit: "Add domain")]))
        }
        return page
    }
    c.page(group, "domains", .admin, list)
    c.action(group, "domains", .admin, fallback: list) { r in
        let d = try c.dir.addDomain(r.form.text("name") ?? "", actor: r.actor)
        var page = try list(r)
        page.notice = "Added \(d.name). Publish its DNS records next: see its page."
        return page
    }
    let detail: PageBuilder = { r in
        let d = try c.dir.domain(try r.param("name"), actor: r.actor)
        var page = Page(d.name)
        page.sections.append(
            Section(
                facts: [
                    Fact("Accounts", String(d.accounts)), Fact("Aliases", String(d.aliases)), Fact("Lists", String(d.lists)),
                    Fact("Catch-all", d.catchAll ?? "none"), Fact("Domain aliases", d.domainAliases.isEmpty ? "none" : d.domainAliases.joined(separator: ", ")),
                    Fact("MTA-STS", d.mtaSts), Fact("Added", when(d.createdAt)),
                ],
                links: [Link(label: "Accounts of \(d.name)", href: "/accounts?domain=" + pathPart(d.name))]))
        page.sections.append(domainSettingsSection(d))
        if let outbound = c.outbound {
            let keys = try outbound.dkim.list(actor: r.actor).filter { $0.domain == d.name }
            var dk = Section(
                "DKIM keys",
                table: Table(
                    "DKIM keys", columns: ["Selector", "Algorithm", "Signing", "Publish at", "Record"],
                    rows: keys.map { k in .init([Cell(k.selector), Cell(k.algorithm), Cell(k.active ? "yes" : "no"), Cell(k.dnsName), Cell(k.dnsRecord)]) },
                    empty: "No DKIM key: mail from this domain is not signed."))
            dk.forms = [
                Form(
                    "/domains/\(pathPart(d.name))/dkim",
                    [.select("algorithm", "Algorithm", [("rsa-2048", "RSA 2048"), ("ed25519", "Ed25519")], selected: "rsa-2048")],
                    submit: "Generate a new key")
            ]
            page.sections.append(dk)
            if let setup = c.setup {
                let records = PublishedRecords.records(
                    domain: d.name, facts: setup.facts, dkim: keys, mtaSTS: MTASTSMode(rawValue: d.mtaSts) ?? .testing)
                page.sections.append(
                    Section(
                        "DNS records to publish",
                        text: ["Publish these at your DNS provider, then check them."],
                        table: Table(
                            "Records", columns: ["Name", "Type", "Value", "Purpose"],
                            rows: records.map { .init([Cell($0.name), Cell($0.type), Cell($0.value), Cell($0.purpose)]) }),
                        forms: [Form("/domains/\(pathPart(d.name))/check", submit: "Check the published records")]))
            }
        }
        return page
    }
    c.page(group, "domains/:name", .admin, detail)
    c.asyncAction(group, "domains/:name/check", .admin, fallback: detail) { r in
        guard let outbound = c.outbound, let setup = c.setup else { throw AdminError.notFound("no_doctor", "the doctor is not available here") }
        let findings = try await runDoctor(c.dir, outbound, setup, domains: [try r.param("name")], actor: r.actor)
        var page = try await blocking { try detail(r) }
        page.sections.insert(
            Section(
                "What is published",
                table: Table(
                    "Checks", columns: ["Check", "Result", "Detail", "Fix"],
                    rows: findings.map { .init([Cell($0.check), Cell($0.status), Cell($0.detail), Cell($0.fix ?? "")]) })), at: 1)
        let problems = findings.filter { $0.status != "ok" }.count
        page.notice = problems == 0 ? "Every check passed." : "\(problems) check(s) need attention."
        return page
    }
    c.action(group, "domains/:name/dkim", .admin, fallback: detail) { r in
        guard let outbound = c.outbound else { throw AdminError.notFound("no_outbound", "outbound mail is not set up") }
        let key = try outbound.dkim.generate(domain: try r.param("name"), algorithm: r.form.text("algorithm"), actor: r.actor)
        var page = try detail(r)
        page.notice = "New key \(key.selector) generated. Publish its record before it signs."
        return page
    }
}

// MARK: Accounts

private func addAccountAdminPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let list: PageBuilder = { r in
        var page = Page("Accounts")
        let search = r.query("q")?.lowercased()
        let domain = r.query("domain")
        let pageNumber = max(1, Int(r.query("page") ?? "") ?? 1)
        // A domain admin's accounts are those of each of their domains.
        let domains: [String?] = domain.map { [$0] } ?? (r.actor.isServerAdmin ? [nil] : c.dir.domains(actor: r.actor).map(\.name))
        var all: [AccountView] = []
        var total = 0
        for d in domains {
            let found = try c.dir.accounts(domain: d, page: pageNumber, limit: 1000, actor: r.actor)
            all += found.items
            total += found.total
        }
        let accounts = all.filter { a in search.map { a.address.lowercased().contains($0) || a.name.lowercased().contains($0) } ?? true }
            .map { a -> AccountView in
                var a = a
                if a.storedBytes == nil, let delivery = c.delivery, let record = c.dir.activeAccount(a.address) {
                    a.storedBytes = delivery.usage(of: record.id)
                }
                return a
            }
        page.sections.append(
            Section(
                forms: [
                    Form(
                        "/accounts", [.text("q", "Search", value: r.query("q") ?? "", type: "search"), .text("domain", "Domain", value: domain ?? "")],
                        submit: "Search", inline: true, get: true)
                ]))
        page.sections.append(
            Section(
                table: Table(
                    "Accounts", columns: ["Address", "Name", "State", "Quota used"],
                    rows: accounts.map { a in
                        .init([
                            Cell(a.address, href: "/accounts/" + pathPart(a.address)), Cell(a.name), Cell(a.state),
                            a.quota > 0
                                ? Cell(size(a.storedBytes ?? 0) + " of " + ByteSize.format(a.quota), meter: Meter(value: a.storedBytes ?? 0, max: a.quota, label: "quota used"))
                                : Cell(size(a.storedBytes ?? 0) + " (no limit)"),
                        ])
                    }, empty: search == nil ? "No accounts yet." : "No account matches.")))
        if total > pageNumber * 1000 {
            let query = (domain.map { "domain=\(pathPart($0))&" } ?? "") + "page=\(pageNumber + 1)"
            page.sections.append(Section(links: [Link(label: "Next 1000 accounts", href: "/accounts?" + query)]))
        }
        page.sections.append(
            Section(
                "Add an account",
                forms: [
                    Form(
                        "/accounts/new",
                        [
                            .text("address", "Address", type: "email", required: true), .text("name", "Full name"),
                            .text("quota", "Quota", hint: "for example 5G; empty for no limit"),
                            .password("password", "Password", autocomplete: "new-password", hint: "or leave empty to generate one", required: false),
                        ], submit: "Add account")
                ], links: [Link(label: "Import or export accounts as CSV", href: "/accounts/import")]))
        return page
    }
    c.page(group, "accounts", .admin, list)
    c.action(group, "accounts/new", .admin, fallback: list) { r in
        let password = r.form["password"].flatMap { $0.isEmpty ? nil : $0 }
        let created = try c.dir.addAccount(
            r.form.text("address") ?? "", password: password, generatePassword: password == nil, name: r.form.text("name") ?? "",
            quota: r.form.text("quota"), actor: r.actor)
        var page = try accountDetail(c, r, address: created.account.address)
        page.notice = "Account \(created.account.address) added."
        if let generated = created.generatedPassword {
            var s = Section("Password", text: ["Give this password to the person; it is shown only now."])
            s.secrets = [generated]
            page.sections.insert(s, at: 0)
        }
        return page
    }
    let detail: PageBuilder = { r in try accountDetail(c, r, address: try r.param("address")) }
    c.page(group, "accounts/:address", .admin, detail)
    c.action(group, "accounts/:address", .admin, fallback: detail) { r in
        let address = try r.param("address")
        _ = try c.dir.updateAccount(
            address, name: r.form["name"], quota: r.form.text("quota") ?? "0", state: r.form.text("state"), actor: r.actor)
        var page = try accountDetail(c, r, address: address)
        page.notice = "Saved."
        return page
    }
    c.action(group, "accounts/:address/password", .admin, fallback: detail) { r in
        let address = try r.param("address")
        let typed = r.form["password"].flatMap { $0.isEmpty ? nil : $0 }
        let generated = try c.dir.setPassword(address, password: typed, generate: typed == nil, actor: r.actor)
        var page = try accountDetail(c, r, address: address)
        page.notice = "Password changed."
        if let generated {
            var s = Section("New password", text: ["Give this password to the person; it is shown only now."])
            s.secrets = [generated]
            page.sections.insert(s, at: 0)
        }
        return page
    }
    c.action(group, "accounts/:address/reset-link", .admin, fallback: detail) { r in
        let address = try r.param("address")
        let token = try c.dir.createResetToken(address, actor: r.actor)
        var page = try accountDetail(c, r, address: address)
        let origin = (c.settings.secureCookies ? "https://" : "http://") + (r.request.head.authority ?? "localhost")
        var s = Section("Reset link", text: ["Send this link to the person. It sets a new password once, within 24 hours; it is shown only now."])
        s.secrets = [origin + "/reset/" + token]
        page.sections.insert(s, at: 0)
        return page
    }
    c.action(group, "accounts/:address/role", .admin, fallback: detail) { r in
        let address = try r.param("address")
        _ = try c.dir.setRole(address, role: r.form.text("role") ?? "", domains: r.form.list("domains"), actor: r.actor)
        var page = try accountDetail(c, r, address: address)
        page.notice = "Role changed. The account's console sessions have ended."
        return page
    }
    c.action(group, "accounts/:address/totp-off", .admin, fallback: detail) { r in
        let address = try r.param("address")
        let account = try c.dir.managedAccount(address, actor: r.actor)
        try c.dir.disableTOTP(account, actor: r.actor)
        var page = try accountDetail(c, r, address: address)
        page.notice = "Two-factor sign-in is off for \(address); they can set it up again from their account page."
        return page
    }
    for rule in ["vacation", "forward"] {
        c.action(group, RouterPath(stringLiteral: "accounts/:address/\(rule)"), .admin, fallback: detail) { r in
            let address = try r.param("address")
            try setRule(c, r, rule, address: address, actor: r.actor)
            var page = try accountDetail(c, r, address: address)
            page.notice = ruleNotice(r, rule)
            return page
        }
    }
    c.action(group, "accounts/:address/delete", .admin, fallback: detail) { r in
        let address = try r.param("address")
        guard r.form.text("confirm")?.lowercased() == address.lowercased() else {
            throw AdminError.invalid("confirm", "type the account's address to confirm removing it and all its mail")
        }
        _ = try c.dir.removeAccount(address, actor: r.actor)
        var page = try list(r)
        page.notice = "Account \(address) removed."
        return page
    }
}

func accountDetail(_ c: Console, _ r: ConsoleRequest, address: String) throws -> Page {
    let a = try c.dir.account(address, actor: r.actor)
    let path = "/accounts/" + pathPart(a.address)
    var page = Page(a.address)
    let used = a.storedBytes ?? 0
    page.sections.append(
        Section(
            facts: [
                Fact("Name", a.name.isEmpty ? "—" : a.name), Fact("State", a.state), Fact("Messages", String(a.messages ?? 0)),
                a.quota > 0
                    ? Fact("Quota", "\(size(used)) of \(ByteSize.format(a.quota))", meter: Meter(value: used, max: a.quota, label: "quota used"))
                    : Fact("Stored", size(used) + " (no limit)"),
                Fact("Member of", (a.memberOf ?? []).isEmpty ? "no lists or aliases" : (a.memberOf ?? []).joined(separator: ", ")),
                Fact("Role", try c.dir.role(a.address, actor: r.actor).role),
                Fact("Two-factor sign-in", (try? c.dir.managedAccount(a.address, actor: r.actor)).map { c.dir.totpEnabled($0) } ?? false ? "on" : "off"),
                Fact("Created", when(a.createdAt)),
            ]))
    page.sections.append(
        Section(
            "Recent sign-ins",
            table: Table(
                "Logins", columns: ["When", "Protocol", "From", "Result"],
                rows: (a.lastLogins ?? []).map { .init([Cell(when($0.at)), Cell($0.protocol), Cell($0.ip), Cell("ok")]) }
                    + (a.loginFailures ?? []).map { .init([Cell(when($0.at)), Cell($0.protocol), Cell($0.ip), Cell($0.reason ?? "failed")]) },
                empty: "No logins recorded.")))
    page.sections.append(
        Section(
            "Edit",
            forms: [
                Form(
                    path,
                    [
                        .text("name", "Full name", value: a.name), .text("quota", "Quota", value: a.quota > 0 ? ByteSize.format(a.quota) : "", hint: "empty for no limit"),
                        .select("state", "State", [("active", "Active"), ("disabled", "Disabled")], selected: a.state),
                    ], submit: "Save"),
                Form(
                    path + "/password",
                    [.password("password", "New password", autocomplete: "new-password", hint: "or leave empty to generate one", required: false)],
                    submit: "Reset password"),
                Form(path + "/reset-link", submit: "Create a one-time reset link"),
            ]))
    var security = Section("Console access")
    if r.actor.isServerAdmin {
        let role = try c.dir.role(a.address, actor: r.actor)
        security.forms.append(
            Form(
                path + "/role",
                [
                    .select("role", "Role", [("user", "User"), ("domain-admin", "Domain admin"), ("server-admin", "Server admin")], selected: role.role),
                    .text("domains", "Domains (domain admin)", value: role.domains.joined(separator: " ")),
                ], submit: "Set role"))
    }
    security.forms.append(Form(path + "/totp-off", submit: "Turn off two-factor sign-in", label: "Turn off two-factor sign-in for \(a.address)", danger: true))
    page.sections.append(security)
    page.sections += try ruleSections(c, address: a.address, actor: r.actor, base: path)
    page.sections += try accountRuleSections(c, r, address: a.address, path: path)
    page.sections.append(
        Section(
            "Remove",
            text: ["Renaming keeps the mail; lists, aliases and catch-alls naming the old address follow. Removing an account deletes its mail: type its address to confirm."],
            forms: [
                Form(path + "/rename", [.text("new_address", "New address", type: "email", required: true), .checkbox("keep_alias", "Keep the old address as an alias")], submit: "Rename"),
                Form(path + "/delete", [.text("confirm", "Address")], submit: "Remove account", danger: true),
            ]))
    return page
}

// MARK: Aliases

private func addAliasPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let list: PageBuilder = { r in
        var page = Page("Aliases")
        let aliases = try c.dir.aliases(domain: r.query("domain"), actor: r.actor)
        page.sections.append(
            Section(
                table: Table(
                    "Aliases", columns: ["Address", "Delivers to", ""],
                    rows: aliases.map { a in
                        .init([
                            Cell(a.address), Cell(a.targets.joined(separator: ", ")),
                            Cell(
                                "",
                                forms: [
                                    Form("/aliases/remove", [.hidden("address", a.address)], submit: "Remove", label: "Remove alias \(a.address)", danger: true, inline: true)
                                ]),
                        ])
                    }, empty: "No aliases.")))
        page.sections.append(
            Section(
                "Add an alias",
                forms: [
                    Form(
                        "/aliases",
                        [.text("address", "Alias address", type: "email", required: true), .textarea("targets", "Delivers to", hint: "addresses, one per line")],
                        submit: "Add alias")
                ]))
        return page
    }
    c.page(group, "aliases", .admin, list)
    c.action(group, "aliases", .admin, fallback: list) { r in
        let a = try c.dir.addAlias(r.form.text("address") ?? "", targets: r.form.list("targets"), actor: r.actor)
        var page = try list(r)
        page.notice = "Alias \(a.address) added."
        return page
    }
    c.action(group, "aliases/remove", .admin, fallback: list) { r in
        let address = r.form.text("address") ?? ""
        let alias = try c.dir.alias(address, actor: r.actor)
        _ = try c.dir.removeAlias(address, targets: alias.targets, actor: r.actor)
        var page = try list(r)
        page.notice = "Alias \(address) removed."
        return page
    }
}

// MARK: Lists and moderation

private func addListPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let list: PageBuilder = { r in
        var page = Page("Lists")
        let lists = try c.dir.lists(domain: r.query("domain"), actor: r.actor)
        page.sections.append(
            Section(
                table: Table(
                    "Distribution lists", columns: ["Address", "Name", "Members", "Who may post"],
                    rows: lists.map { l in
                        .init([Cell(l.address, href: "/lists/" + pathPart(l.address)), Cell(l.name), Cell(String(l.memberCount)), Cell(l.postingPolicy)])
                    }, empty: "No lists.")))
        page.sections.append(
            Section(
                "Create a list",
                forms: [
                    Form(
                        "/lists", [.text("address", "List address", type: "email", required: true), .text("name", "Name"), .textarea("members", "Members", hint: "addresses, one per line")],
                        submit: "Create list")
                ]))
        return page
    }
    c.page(group, "lists", .admin, list)
    c.action(group, "lists", .admin, fallback: list) { r in
        let l = try c.dir.createList(
            r.form.text("address") ?? "", name: r.form.text("name") ?? "", members: r.form.list("members"), actor: r.actor)
        var page = try listDetail(c, r, address: l.address)
        page.notice = "List \(l.address) created."
        return page
    }
    let detail: PageBuilder = { r in try listDetail(c, r, address: try r.param("address")) }
    c.page(group, "lists/:address", .admin, detail)
    c.action(group, "lists/:address/members", .admin, fallback: detail) { r in
        let address = try r.param("address")
        let members = r.form.list("members")
        let remove = r.form["do"] == "remove"
        _ = remove ? try c.dir.removeMembers(address, members, actor: r.actor) : try c.dir.addMembers(address, members, actor: r.actor)
        var page = try listDetail(c, r, address: address)
        page.notice = remove ? "Removed \(members.count) member(s)." : "Added \(members.count) member(s)."
        return page
    }
    c.action(group, "lists/:address/policy", .admin, fallback: detail) { r in
        let address = try r.param("address")
        _ = try c.dir.updateList(
            address, postingPolicy: r.form.text("posting_policy"), allowedSenders: r.form.list("allowed_senders"),
            moderators: r.form.list("moderators"), actor: r.actor)
        var page = try listDetail(c, r, address: address)
        page.notice = "Saved."
        return page
    }

    let moderation: PageBuilder = { r in
        guard let delivery = c.delivery else { return Page("Moderation") }
        let held = try delivery.heldMessages(list: nil, actor: r.actor)
        return Page(
            "Moderation",
            [
                Section(
                    text: ["Messages held for a list's moderators. Approving sends the message to the list as if just posted."],
                    table: Table(
                        "Held messages", columns: ["List", "From", "Subject", "Held", ""],
                        rows: held.map { h in
                            .init([
                                Cell(h.list), Cell(h.sender), Cell(h.subject.isEmpty ? "(no subject)" : h.subject, href: "/moderation/\(h.id)"), Cell(when(h.heldAt)),
                                Cell("", forms: moderationButtons(h)),
                            ])
                        }, empty: "Nothing is waiting for a moderator."))
            ])
    }
    c.page(group, "moderation", .admin, moderation)
    c.page(group, "moderation/:id", .admin) { r in
        guard let delivery = c.delivery, let id = Int64(try r.param("id")) else { throw AdminError.notFound("held_not_found", "no such held message") }
        let (h, text) = try delivery.heldMessage(id: id, actor: r.actor)
        var s = Section(facts: [Fact("List", h.list), Fact("From", h.sender), Fact("Subject", h.subject), Fact("Size", size(Int64(h.size)))])
        s.forms = moderationButtons(h)
        var preview = Section("Message")
        preview.pre = String(text.prefix(100_000))
        return Page("Held message \(h.id)", [s, preview])
    }
    for approve in [true, false] {
        c.action(group, RouterPath(stringLiteral: approve ? "moderation/:id/approve" : "moderation/:id/reject"), .admin, fallback: moderation) { r in
            guard let delivery = c.delivery, let id = Int64(try r.param("id")) else { throw AdminError.notFound("held_not_found", "no such held message") }
            let result = try delivery.moderate(id: id, approve: approve, actor: r.actor)
            var page = try moderation(r)
            page.notice = approve ? "Approved: sent to \(result.recipients) recipient(s)." : "Rejected."
            return page
        }
    }
}

private func moderationButtons(_ h: HeldView) -> [Form] {
    [
        Form("/moderation/\(h.id)/approve", submit: "Approve", label: "Approve message \(h.id) from \(h.sender)", inline: true),
        Form("/moderation/\(h.id)/reject", submit: "Reject", label: "Reject message \(h.id) from \(h.sender)", danger: true, inline: true),
    ]
}

func listDetail(_ c: Console, _ r: ConsoleRequest, address: String) throws -> Page {
    let l = try c.dir.list(address, actor: r.actor)
    let path = "/lists/" + pathPart(l.address)
    let search = r.query("q")?.lowercased()
    let members = (l.members ?? []).filter { m in search.map { m.address.lowercased().contains($0) } ?? true }
    var page = Page(l.address)
    page.sections.append(
        Section(
            facts: [
                Fact("Name", l.name), Fact("Members", String(l.memberCount)), Fact("Who may post", l.postingPolicy),
                Fact("Moderators", l.moderators.isEmpty ? "none" : l.moderators.joined(separator: ", ")),
            ]))
    page.sections.append(
        Section(
            "Members",
            table: Table(
                "Members", columns: ["Address", "Kind", ""],
                rows: members.map { m in
                    .init([
                        Cell(m.address), Cell(m.kind),
                        Cell(
                            "",
                            forms: [
                                Form(
                                    path + "/members", [.hidden("members", m.address), .hidden("do", "remove")], submit: "Remove",
                                    label: "Remove \(m.address) from the list", danger: true, inline: true)
                            ]),
                    ])
                }, empty: search == nil ? "No members." : "No member matches."),
            forms: [
                Form(path, [.text("q", "Search members", value: r.query("q") ?? "", type: "search")], submit: "Search", inline: true, get: true),
                Form(
                    path + "/members", [.textarea("members", "Addresses", hint: "one per line, or separated by commas"), .hidden("do", "add")],
                    submit: "Add members"),
                Form(
                    path + "/members", [.textarea("members", "Addresses to remove", hint: "one per line"), .hidden("do", "remove")],
                    submit: "Remove members", danger: true),
            ]))
    page.sections.append(
        Section(
            "Posting",
            forms: [
                Form(
                    path + "/policy",
                    [
                        .select("posting_policy", "Who may post", PostingPolicy.allCases.map { ($0.rawValue, $0.rawValue) }, selected: l.postingPolicy),
                        .textarea("allowed_senders", "Allowed senders", value: l.allowedSenders.joined(separator: "\n"), hint: "for “senders”"),
                        .textarea("moderators", "Moderators", value: l.moderators.joined(separator: "\n")),
                    ], submit: "Save posting rules")
            ]))
    page.sections.append(
        Section(
            "Settings",
            forms: [
                Form(
                    path + "/settings",
                    [
                        .text("name", "Name", value: l.name), .text("description", "Description", value: l.description),
                        .text("subject_prefix", "Subject prefix", value: l.subjectPrefix),
                        .select("reply_to", "Replies go to", [("list", "the list"), ("sender", "the sender")], selected: l.replyTo),
                        .textarea("owners", "Owners", value: l.owners.joined(separator: "\n")), .checkbox("hidden_members", "Hide the members from them", checked: l.hiddenMembers),
                    ], submit: "Save settings"),
                Form(path + "/remove", submit: "Remove the list", label: "Remove the list \(l.address)", danger: true),
            ]))
    return page
}

// MARK: Queue and quarantine

private func addQueuePages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let queue: PageBuilder = { r in
        guard let outbound = c.outbound else { return Page("Queue") }
        var selection = QueueSelection(domain: r.query("domain"), sender: r.query("sender"), recipient: r.query("recipient"))
        selection.status = r.query("status").flatMap(QueueEntry.Status.init(rawValue:))
        let entries = try outbound.queue.list(selection, limit: 500, actor: r.actor)
        return Page(
            "Queue",
            [
                Section(
                    forms: [
                        Form(
                            "/queue",
                            [
                                .text("recipient", "Recipient", value: r.query("recipient") ?? ""), .text("sender", "Sender", value: r.query("sender") ?? ""),
                                .text("domain", "Domain", value: r.query("domain") ?? ""),
                                .select("status", "Status", [("", "any")] + QueueEntry.Status.allCases.map { ($0.rawValue, $0.rawValue) }, selected: r.query("status") ?? ""),
                            ], submit: "Filter", inline: true, get: true)
                    ]),
                Section(
                    table: Table(
                        "Queued messages", columns: ["Queue id", "From", "To", "Status", "Attempts", "Next attempt", "Last reply", ""],
                        rows: entries.map { e in
                            .init([
                                Cell(e.queueId, href: "/trace?queue_id=" + pathPart(e.queueId)), Cell(e.sender), Cell(e.recipient), Cell(e.status), Cell(String(e.attempts)),
                                Cell(when(e.nextAttempt)), Cell(e.lastReply ?? ""),
                                Cell(
                                    "",
                                    forms: ["retry", "hold", "release", "delete"].map { a in
                                        Form(
                                            "/queue/\(pathPart(e.queueId))/\(a)", submit: a.capitalized, label: "\(a.capitalized) \(e.queueId) to \(e.recipient)",
                                            danger: a == "delete", inline: true)
                                    }),
                            ])
                        }, empty: "The queue is empty."))
            ])
    }
    c.page(group, "queue", .admin, queue)
    for action in QueueAction.allCases {
        c.action(group, RouterPath(stringLiteral: "queue/:id/\(action.rawValue)"), .admin, fallback: queue) { r in
            guard let outbound = c.outbound else { throw AdminError.notFound("no_outbound", "outbound mail is not set up") }
            let result = try outbound.queue.act(action, QueueSelection(queueID: try r.param("id")), actor: r.actor)
            var page = try queue(r)
            page.notice = "\(action.rawValue.capitalized): \(result.recipients) recipient(s)."
            return page
        }
    }
    c.asyncAction(group, "queue/:id/delete", .admin, fallback: queue) { r in
        guard let outbound = c.outbound else { throw AdminError.notFound("no_outbound", "outbound mail is not set up") }
        let result = try await outbound.queue.delete(queueID: try r.param("id"), bounce: false, actor: r.actor)
        var page = try await blocking { try queue(r) }
        page.notice = "Deleted: \(result.recipients) recipient(s)."
        return page
    }

    let quarantine: PageBuilder = { r in
        guard let delivery = c.delivery else { return Page("Quarantine") }
        let held = try delivery.quarantined(actor: r.actor)
        return Page(
            "Quarantine",
            [
                Section(
                    text: ["Messages the inbound checks held back. Release delivers a message as if it had just arrived."],
                    table: Table(
                        "Quarantined messages", columns: ["From", "To", "Subject", "Why", "Held", ""],
                        rows: held.map { q in
                            .init([
                                Cell(q.sender), Cell(q.recipients.joined(separator: ", ")), Cell(q.subject.isEmpty ? "(no subject)" : q.subject, href: "/quarantine/\(q.id)"),
                                Cell(q.reason), Cell(when(q.heldAt)), Cell("", forms: quarantineButtons(q)),
                            ])
                        }, empty: "Nothing is in quarantine."))
            ])
    }
    c.page(group, "quarantine", .admin, quarantine)
    c.page(group, "quarantine/:id", .admin) { r in
        guard let delivery = c.delivery, let id = Int64(try r.param("id")) else { throw AdminError.notFound("not_found", "no such message") }
        let m = try delivery.quarantinedMessage(id: id, actor: r.actor)
        var s = Section(facts: [Fact("From", m.entry.sender), Fact("To", m.entry.recipients.joined(separator: ", ")), Fact("Why", m.entry.reason), Fact("Checks", m.entry.checks ?? "")])
        s.forms = quarantineButtons(m.entry)
        var preview = Section("Message")
        preview.pre = String(m.message.prefix(100_000))
        return Page("Quarantined message \(id)", [s, preview])
    }
    c.asyncAction(group, "quarantine/:id/release", .admin, fallback: quarantine) { r in
        guard let delivery = c.delivery, let id = Int64(try r.param("id")) else { throw AdminError.notFound("not_found", "no such message") }
        _ = try await delivery.releaseFromQuarantine(id: id, actor: r.actor)
        var page = try await blocking { try quarantine(r) }
        page.notice = "Released."
        return page
    }
    c.action(group, "quarantine/:id/delete", .admin, fallback: quarantine) { r in
        guard let delivery = c.delivery, let id = Int64(try r.param("id")) else { throw AdminError.notFound("not_found", "no such message") }
        _ = try delivery.deleteFromQuarantine(id: id, actor: r.actor)
        var page = try quarantine(r)
        page.notice = "Deleted."
        return page
    }
}

private func quarantineButtons(_ q: QuarantineView) -> [Form] {
    [
        Form("/quarantine/\(q.id)/release", submit: "Release", label: "Release message \(q.id) from \(q.sender)", inline: true),
        Form("/quarantine/\(q.id)/delete", submit: "Delete", label: "Delete message \(q.id) from \(q.sender)", danger: true, inline: true),
    ]
}

// MARK: Trace

private func addTracePages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    c.page(group, "trace", .admin) { r in
        var page = Page("Trace")
        page.sections.append(
            Section(
                text: ["Find what happened to a message: give a sender, a recipient or a Message-ID, and how far back to look."],
                forms: [
                    Form(
                        "/trace",
                        [
                            .text("sender", "Sender", value: r.query("sender") ?? ""), .text("recipient", "Recipient", value: r.query("recipient") ?? ""),
                            .text("message_id", "Message-ID", value: r.query("message_id") ?? ""),
                            .select("since", "Within", [("1h", "the last hour"), ("24h", "the last day"), ("7d", "the last week"), ("30d", "the last 30 days")], selected: r.query("since") ?? "7d"),
                        ], submit: "Trace", get: true)
                ]))
        let queueID = r.query("queue_id")
        let (sender, recipient, messageID) = (r.query("sender"), r.query("recipient"), r.query("message_id"))
        guard sender != nil || recipient != nil || messageID != nil || queueID != nil else { return page }
        let seconds: TimeInterval = ["1h": 3600, "24h": 86_400, "7d": 604_800, "30d": 2_592_000][r.query("since") ?? "7d"] ?? 604_800
        var stories: [TraceView]
        if let queueID, let outbound = c.outbound {
            // A queued message's story: traced by its recipients, kept to its queue id.
            let entries = try outbound.queue.show(queueID: queueID, actor: r.actor)
            stories = try Set(entries.map(\.recipient)).flatMap {
                try c.dir.trace(messageID: nil, sender: nil, recipient: $0, since: nil, limit: 1000, actor: r.actor)
            }.filter { $0.queueId == queueID }
            stories = Array(stories.prefix(1))
        } else {
            stories = try c.dir.trace(
                messageID: messageID, sender: sender, recipient: recipient, since: Date().addingTimeInterval(-seconds), limit: 1000, actor: r.actor)
        }
        stories = Array(stories.suffix(50))
        if stories.isEmpty { page.sections.append(Section(text: ["No message matches."])) }
        for story in stories.reversed() {
            page.sections.append(
                Section(
                    "Message \(story.queueId)" + (story.messageId.map { " · \($0)" } ?? ""),
                    table: Table(
                        "Events of \(story.queueId)", columns: ["When", "Event", "From", "To", "Detail", "Reply"],
                        rows: story.events.map { e in
                            .init([
                                Cell(when(e.at)), Cell(e.event), Cell(e.sender ?? ""), Cell(e.recipient ?? ""),
                                Cell([e.detail, e.clientIp.map { "client \($0)" }, e.tls.map { "TLS \($0)" }].compactMap { $0 }.joined(separator: " · ")),
                                Cell(e.reply ?? ""),
                            ])
                        })))
        }
        return page
    }
}

// MARK: Audit log and tokens

private func addAuditAndTokenPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    c.page(group, "audit", .admin) { r in
        let entries = try c.dir.auditLog(since: nil, target: r.query("target"), limit: 500, actor: r.actor)
        return Page(
            "Audit log",
            [
                Section(forms: [Form("/audit", [.text("target", "Address or name", value: r.query("target") ?? "")], submit: "Filter", inline: true, get: true)]),
                Section(
                    table: Table(
                        "Changes, newest first", columns: ["When", "Who", "Action", "Target", "From"],
                        rows: entries.map { e in .init([Cell(when(e.at)), Cell(e.actor), Cell(e.action), Cell(e.target), Cell(e.sourceIp ?? "")]) },
                        empty: "No changes recorded.")),
            ])
    }
    let tokens: PageBuilder = { r in
        let tokens = try c.dir.tokens(actor: r.actor)
        return Page(
            "API tokens",
            [
                Section(
                    text: ["Tokens are for scripts and the command line; people sign in here with their own account."],
                    table: Table(
                        "Tokens", columns: ["Name", "Role", "Domains", "Created", "Last used", ""],
                        rows: tokens.map { t in
                            .init([
                                Cell(t.name), Cell(t.role), Cell(t.domains.joined(separator: ", ")), Cell(when(t.createdAt)), Cell(when(t.lastUsedAt)),
                                t.revokedAt != nil
                                    ? Cell("revoked \(when(t.revokedAt))")
                                    : Cell("", forms: [Form("/tokens/\(t.id)/revoke", submit: "Revoke", label: "Revoke token \(t.name)", danger: true, inline: true)]),
                            ])
                        })),
                Section(
                    "Create a token",
                    forms: [
                        Form(
                            "/tokens",
                            [
                                .text("name", "Name", required: true),
                                .select("role", "Role", [("server-admin", "Server admin"), ("domain-admin", "Domain admin")], selected: "domain-admin"),
                                .text("domains", "Domains", hint: "for a domain admin, separated by spaces"),
                            ], submit: "Create token")
                    ]),
            ])
    }
    c.page(group, "tokens", .admin, tokens)
    c.action(group, "tokens", .admin, fallback: tokens) { r in
        let created = try c.dir.createToken(
            name: r.form.text("name") ?? "", role: r.form.text("role") ?? "", domains: r.form.list("domains"), actor: r.actor)
        var page = try tokens(r)
        var s = Section("New token", text: ["Copy the secret now; it is not shown again."])
        s.secrets = [created.secret]
        page.sections.insert(s, at: 0)
        return page
    }
    c.action(group, "tokens/:id/revoke", .admin, fallback: tokens) { r in
        guard let id = Int64(try r.param("id")) else { throw AdminError.notFound("token_not_found", "no such token") }
        try c.dir.revokeToken(id, actor: r.actor)
        var page = try tokens(r)
        page.notice = "Token revoked."
        return page
    }
}
