import AdminModels
import Directory
import Foundation
import Hummingbird

// Settings of domains, accounts and lists beyond the everyday ones, and accounts in bulk
// (CSV): a domain's catch-all and MTA-STS mode, removing a domain, renaming an account, a
// list's name, description, subject prefix, Reply-To and owners.

/// The domain page's settings section.
func domainSettingsSection(_ d: DomainView) -> Section {
    let path = "/domains/" + pathPart(d.name)
    return Section(
        "Settings",
        forms: [
            Form(
                path + "/settings",
                [
                    .text("catch_all", "Catch-all address", value: d.catchAll ?? "", hint: "mail for unknown addresses goes here; empty for none"),
                    .select("mta_sts", "MTA-STS", [("none", "none"), ("testing", "testing"), ("enforce", "enforce")], selected: d.mtaSts),
                ], submit: "Save"),
            Form(path + "/remove", submit: "Remove the domain", label: "Remove the domain \(d.name) (only when empty)", danger: true),
        ])
}

func addSettingsPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let domain: PageBuilder = { r in
        // Back to the domain's page, whose builder lives with the other domain pages.
        throw ConsoleRedirect(location: "/domains/" + pathPart(try r.param("name")), cookie: nil)
    }
    c.action(group, "domains/:name/settings", .admin, fallback: { _ in Page("Domain") }) { r in
        let name = try r.param("name")
        _ = try c.dir.updateDomain(name, catchAll: r.form["catch_all"] ?? "", mtaSts: r.form.text("mta_sts"), actor: r.actor)
        return try domain(r)
    }
    c.action(group, "domains/:name/remove", .admin, fallback: { _ in Page("Domain") }) { r in
        try c.dir.removeDomain(try r.param("name"), actor: r.actor)
        throw ConsoleRedirect(location: "/domains", cookie: nil)
    }
    c.action(group, "accounts/:address/rename", .admin, fallback: { r in try accountDetail(c, r, address: try r.param("address")) }) { r in
        let renamed = try c.dir.renameAccount(
            try r.param("address"), to: r.form.text("new_address") ?? "", keepAlias: r.form.bool("keep_alias"), actor: r.actor)
        var page = try accountDetail(c, r, address: renamed.address)
        page.notice = "Renamed to \(renamed.address); its mail, lists and aliases followed."
        return page
    }
    c.action(group, "lists/:address/settings", .admin, fallback: { r in try listDetail(c, r, address: try r.param("address")) }) { r in
        let address = try r.param("address")
        _ = try c.dir.updateList(
            address, name: r.form["name"], description: r.form["description"], owners: r.form.list("owners"),
            subjectPrefix: r.form["subject_prefix"], replyTo: r.form.text("reply_to"), hiddenMembers: r.form.bool("hidden_members"),
            actor: r.actor)
        var page = try listDetail(c, r, address: address)
        page.notice = "Saved."
        return page
    }
    c.action(group, "lists/:address/remove", .admin, fallback: { r in try listDetail(c, r, address: try r.param("address")) }) { r in
        try c.dir.deleteList(try r.param("address"), actor: r.actor)
        throw ConsoleRedirect(location: "/lists", cookie: nil)
    }
    // Accounts in bulk: the same CSV as `mailroom account import|export`.
    c.page(group, "accounts.csv", .admin) { r in
        throw ConsoleDownload(body: try c.dir.exportAccounts(domain: r.query("domain"), actor: r.actor), contentType: "text/csv; charset=utf-8", name: "accounts.csv")
    }
    let imports: PageBuilder = { _ in
        Page(
            "Import accounts",
            [
                Section(
                    text: ["CSV with a header line: address, and optionally name, quota, password or password_hash (as `mailroom account export` writes). All or nothing unless you allow partial imports."],
                    forms: [
                        Form("/accounts/import", [.textarea("csv", "CSV"), .checkbox("partial", "Import the good lines even if some are wrong")], submit: "Import"),
                    ],
                    links: [Link(label: "Export accounts as CSV", href: "/accounts.csv")])
            ])
    }
    c.page(group, "accounts/import", .admin, imports)
    c.action(group, "accounts/import", .admin, fallback: imports) { r in
        let report = try c.dir.importAccounts(csv: (r.form["csv"] ?? "").replacingOccurrences(of: "\r\n", with: "\n"), partial: r.form.bool("partial"), actor: r.actor)
        var page = try imports(r)
        page.sections.insert(
            Section(
                "Imported \(report.imported) account(s)",
                table: Table("Refused lines", columns: ["Line", "Why"], rows: report.errors.map { .init([Cell(String($0.line)), Cell($0.message)]) }, empty: "No line was refused.")),
            at: 0)
        if report.imported == 0 && !report.errors.isEmpty {
            page.error = "Nothing was imported."
            page.refused = true
        }
        return page
    }
}

/// Thrown by a page builder to answer with a file instead of a page.
struct ConsoleDownload: Error {
    let body: String
    let contentType: String
    let name: String
}
