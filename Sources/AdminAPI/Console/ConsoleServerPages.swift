import AdminModels
import Delivery
import Directory
import Foundation
import Hummingbird
import IMAPMigration
import MIME

// The server's own pages (server admins): mail migration from another IMAP server, backups,
// certificates, storage, and troubleshooting an address or a message without sending it.
// Each calls what the matching API route calls.

func addServerPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    addMigrationPages(c, group)
    addBackupAndStoragePages(c, group)
    addTroubleshootPages(c, group)
}

private func addMigrationPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    guard let migrations = c.migrations else { return }
    let form: PageBuilder = { r in
        try c.dir.requireServerAdmin(r.actor, "migrate mail")
        return Page(
            "Migrate mail",
            [
                Section(
                    text: [
                        "Copy every folder, message, flag and date of accounts from another IMAP server. Run it again to copy only what is new and bring flag changes and deletions made there; the final pass before a cutover also checks that every folder matches. See docs/migration.md for the cutover plan."
                    ],
                    forms: [
                        Form(
                            "/migrate",
                            [
                                .text("host", "Other server", required: true), .text("port", "Port", value: "993", type: "number"),
                                .select("security", "Security", [("tls", "TLS (imaps)"), ("starttls", "STARTTLS"), ("plain", "none (loopback only)")], selected: "tls"),
                                .textarea("accounts", "Accounts", hint: "one per line: login,password,address here"),
                                .text("master_user", "Master user", hint: "Dovecot: each account opened with AUTHENTICATE PLAIN as login, authorized by the master user"),
                                .password("master_password", "Master password", autocomplete: "off", required: false),
                                .checkbox("insecure", "Do not verify its certificate"), .checkbox("dry_run", "Only show what would be copied", checked: true),
                                .checkbox("final", "Final pass: check that every folder matches the source"),
                            ], submit: "Start")
                    ])
            ])
    }
    c.page(group, "migrate", .admin, form)
    c.action(group, "migrate", .admin, fallback: form) { r in
        let accounts = (r.form["accounts"] ?? "").split(whereSeparator: \.isNewline).compactMap { line -> (login: String, password: String?, address: String)? in
            let parts = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 3, !parts[0].isEmpty, parts[0] != "source_login" else { return nil }
            return (login: parts[0], password: parts[1].isEmpty ? nil : parts[1], address: parts[2])
        }
        let view = try migrations.start(
            host: r.form.text("host") ?? "", port: Int(r.form.text("port") ?? "") ?? 993, security: r.form.text("security") ?? "tls",
            insecure: r.form.bool("insecure"), accounts: accounts, masterUser: r.form.text("master_user"),
            masterPassword: r.form["master_password"].flatMap { $0.isEmpty ? nil : $0 }, dryRun: r.form.bool("dry_run"),
            final: r.form.bool("final"), actor: r.actor)
        return migrationPage(try migrations.view(view.id, actor: r.actor))
    }
    c.page(group, "migrate/:id", .admin) { r in migrationPage(try migrations.view(try r.param("id"), actor: r.actor)) }
}

private func migrationPage(_ v: IMAPMigrationView) -> Page {
    var page = Page("Migration \(v.id)")
    page.sections.append(
        Section(
            text: [v.state == "done" ? "Done." : "Running: reload this page to follow it."],
            table: Table(
                "Accounts", columns: ["Account", "State", "Folders", "Messages", "Bytes", "Problem"],
                rows: v.accounts.map { a in
                    .init([
                        Cell(a.address), Cell(a.state), Cell("\(a.foldersDone) of \(a.folders.count)"), Cell("\(a.messagesDone) of \(a.messagesTotal)"),
                        Cell("\(size(a.bytesDone)) of \(size(a.bytesTotal))"), Cell(a.error ?? (a.hasFailures ? "some messages failed" : "")),
                    ])
                }),
            links: [Link(label: "Reload", href: "/migrate/\(pathPart(v.id))")]))
    for a in v.accounts where !a.folders.isEmpty {
        page.sections.append(
            Section(
                a.address,
                table: Table(
                    "Folders of \(a.address)",
                    columns: ["From", "To", "There", "Copied", "Already here", "Failed", "Flags changed", "Removed"] + (v.final == true ? ["Here", "Matches"] : []),
                    rows: a.folders.map { f in
                        .init(
                            [
                                Cell(f.source), Cell(f.excluded.map { "not copied: \($0)" } ?? f.target), Cell(String(f.sourceCount)), Cell(String(f.copied)),
                                Cell(String(f.skipped)), Cell(f.error ?? (f.failed > 0 ? f.failures.map { "UID \($0.uid): \($0.reason)" }.joined(separator: "; ") : "")),
                                Cell(String(f.flagsChanged)), Cell(String(f.expunged)),
                            ]
                                + (v.final == true
                                    ? [
                                        Cell(f.comparison.map { String($0.here) } ?? ""),
                                        Cell(f.excluded != nil ? "" : f.comparison.map { $0.matches ? "yes" : "no: \($0.sourceCount - $0.here) missing, \($0.sizeDiffers) of another size" } ?? "no"),
                                    ] : []))
                    })))
    }
    return page
}

private func addBackupAndStoragePages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    guard let delivery = c.delivery else { return }
    let backups: PageBuilder = { r in
        try c.dir.requireServerAdmin(r.actor, "back up the server")
        return Page(
            "Backups",
            [
                Section(
                    text: ["A backup while the server runs: the database and every message file, incremental in a folder that holds earlier backups. Restore with `mailroom backup restore`."],
                    forms: [Form("/backups", [.text("dir", "Backup folder on the server", required: true)], submit: "Back up now")])
            ])
    }
    c.page(group, "backups", .admin, backups)
    c.action(group, "backups", .admin, fallback: backups) { r in
        let b = try delivery.backup(into: r.form.text("dir") ?? "", actor: r.actor)
        var page = try backups(r)
        page.sections.insert(
            Section(
                "Backup \(b.name)",
                facts: [
                    Fact("Database", size(Int64(b.databaseBytes))), Fact("Message files", String(b.files)), Fact("Copied now", String(b.filesCopied)),
                    Fact("Already in the folder", String(b.filesReused)),
                ]), at: 0)
        page.notice = "Backed up."
        return page
    }
    let storage: PageBuilder = { r in
        let u = try delivery.storageUsage(actor: r.actor)
        var sections = [
            Section(
                facts: [
                    Fact("Database", "\(size(u.databaseBytes)), of which \(size(u.freeBytes)) free"),
                    Fact("Mailbox entries", "\(u.mailboxEntries) (\(u.storedMessages) distinct messages)"),
                    Fact("Messages in the database", size(u.inlineBytes)), Fact("Message files", "\(u.files), \(size(u.fileBytes))"),
                    Fact("Awaiting removal", String(u.awaitingRemoval)), Fact("Search index backlog", String(u.indexBacklog)),
                ],
                forms: [Form("/storage/sweep", submit: "Remove unreferenced message files now")])
        ]
        if let tls = c.tls {
            let status = tls.status()
            sections.append(
                Section(
                    "Certificates",
                    table: Table(
                        "Certificates", columns: ["Names", "Issuer", "Expires", "Source", "Next renewal"],
                        rows: status.certificates.map {
                            .init([Cell($0.names.joined(separator: ", ")), Cell($0.issuer), Cell(when($0.notAfter)), Cell($0.source), Cell(when($0.nextRenewal))])
                        }),
                    forms: [Form("/tls/renew", submit: "Renew the ACME certificate now")]))
        }
        return Page("Storage and certificates", sections)
    }
    c.page(group, "storage", .admin, storage)
    c.action(group, "storage/sweep", .admin, fallback: storage) { r in
        let report = try delivery.sweepBlobs(actor: r.actor)
        var page = try storage(r)
        page.notice = "Swept: \(report.unreferenced) unreferenced message(s), \(report.filesRemoved) file(s) removed."
        return page
    }
    c.asyncAction(group, "tls/renew", .admin, fallback: storage) { r in
        guard let tls = c.tls else { throw AdminError.notFound("no_tls", "certificates are not managed here") }
        try c.dir.requireServerAdmin(r.actor, "renew certificates")
        _ = try await tls.renew()
        var page = try await blocking { try storage(r) }
        page.notice = "Renewed."
        return page
    }
}

private func addTroubleshootPages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let page: PageBuilder = { r in
        var p = Page("Troubleshoot")
        p.sections.append(
            Section(
                "Where does an address go?",
                forms: [Form("/troubleshoot", [.text("address", "Address", value: r.query("address") ?? "", required: true)], submit: "Resolve", get: true)]))
        if let address = r.query("address") {
            let v = try c.dir.resolveView(address, actor: r.actor)
            p.sections.append(
                Section(
                    "\(v.input): \(v.kind)" + (v.deliverable ? "" : " (not deliverable)"),
                    text: [v.error, v.canonical.map { "Canonical address \($0)" }, v.viaDomainAlias.map { "Through the domain alias \($0)" }].compactMap { $0 },
                    table: Table(
                        "Recipients", columns: ["Address", "Here", "Through"],
                        rows: v.recipients.map { .init([Cell($0.address), Cell($0.local ? "yes" : "no, sent on"), Cell($0.path.joined(separator: " → "))]) }
                            + v.skipped.map { .init([Cell($0.address), Cell("skipped: \($0.reason)"), Cell($0.path.joined(separator: " → "))]) })))
        }
        if c.dryRun != nil {
            p.sections.append(
                Section(
                    "What would happen to a message?",
                    text: ["The whole flow — policy, checks, spam verdict, lists, rules, folders and routes — without delivering anything."],
                    forms: [
                        Form(
                            "/troubleshoot/dry-run",
                            [
                                .text("from", "Envelope sender", required: true), .text("to", "Recipients", required: true, hint: "separated by spaces"),
                                .text("client", "Sending host's address", hint: "empty: a host on the Internet is not assumed"),
                                .textarea("message", "Message", hint: "headers and body; empty for a minimal message"),
                            ], submit: "Try it")
                    ]))
        }
        return p
    }
    c.page(group, "troubleshoot", .admin, page)
    c.asyncAction(group, "troubleshoot/dry-run", .admin, fallback: page) { r in
        guard let dryRun = c.dryRun else { throw AdminError.notFound("no_dry_run", "dry runs are not available here") }
        let recipients = r.form.list("to")
        try await blocking { try c.dir.authorizeDryRun(recipients: recipients, actor: r.actor) }
        let message = r.form["message"].flatMap { $0.isEmpty ? nil : $0.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n") }
        let steps = await dryRun.dryRun(
            DryRunTransaction(sender: r.form.text("from") ?? "", recipients: recipients, message: message, clientIP: r.form.text("client"), helo: nil, authenticatedUser: nil))
        var p = try await blocking { try page(r) }
        p.sections.append(
            Section(
                "The flow",
                table: Table(
                    "Steps", columns: ["Step", "Recipient", "Detail", "Reply"],
                    rows: steps.map { .init([Cell($0.step), Cell($0.recipient ?? ""), Cell($0.detail ?? ""), Cell($0.reply ?? "")]) })))
        return p
    }
}
