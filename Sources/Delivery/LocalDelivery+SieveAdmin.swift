import Directory
import Foundation
import MailCore
import Sieve
import Storage

/// The admin operations on accounts' Sieve scripts, written once for the API and the CLI:
/// role-checked like the account routes (a domain admin manages the accounts of their
/// domains), every change audited in its own transaction.
extension LocalDelivery {
    /// The name of the script `mailroom account vacation` writes.
    public static let vacationScriptName = "vacation"

    public func sieveScripts(_ address: String, actor: AdminActor) throws -> [SieveScriptView] {
        let account = try directory.managedAccount(address, actor: actor)
        return try store.sieveScripts(accountID: account.id).map {
            SieveScriptView(name: $0.name, active: $0.active, updatedAt: $0.updatedAt)
        }
    }

    public func sieveScript(_ address: String, name: String, actor: AdminActor) throws -> SieveScriptView {
        let account = try directory.managedAccount(address, actor: actor)
        let s = try script(account, name)
        return SieveScriptView(name: s.name, active: s.active, updatedAt: s.updatedAt, script: s.text)
    }

    /// Saves a script after checking it: one that does not compile is refused with the line
    /// and column of the error.
    public func putSieveScript(
        _ address: String, name: String, script: String, activate: Bool = false, actor: AdminActor
    ) throws -> SieveScriptView {
        let account = try directory.managedAccount(address, actor: actor)
        try Self.checkScriptName(name)
        try Self.compile(script, name: name)
        let audit = directory.auditEntry(
            actor, activate ? "sieve.put+activate" : "sieve.put", target: "script \"\(name)\" of \(account.address)",
            domain: account.address.domain)
        try store.putSieveScript(
            accountID: account.id, name: name, text: script, activate: activate, at: Date(), audit: [audit])
        return try sieveScript(address, name: name, actor: actor)
    }

    /// Makes `name` the script that runs at delivery (the one active before stops running).
    public func activateSieveScript(_ address: String, name: String, actor: AdminActor) throws -> SieveScriptView {
        let account = try directory.managedAccount(address, actor: actor)
        _ = try script(account, name)
        let audit = directory.auditEntry(
            actor, "sieve.activate", target: "script \"\(name)\" of \(account.address)", domain: account.address.domain)
        try store.setActiveSieveScript(accountID: account.id, name: name, audit: [audit])
        return try sieveScript(address, name: name, actor: actor)
    }

    /// No script runs for the account any more; the scripts stay.
    public func deactivateSieve(_ address: String, actor: AdminActor) throws -> [SieveScriptView] {
        let account = try directory.managedAccount(address, actor: actor)
        let audit = directory.auditEntry(
            actor, "sieve.deactivate", target: "rules of \(account.address)", domain: account.address.domain)
        try store.setActiveSieveScript(accountID: account.id, name: nil, audit: [audit])
        return try sieveScripts(address, actor: actor)
    }

    public func deleteSieveScript(_ address: String, name: String, actor: AdminActor) throws -> [SieveScriptView] {
        let account = try directory.managedAccount(address, actor: actor)
        let audit = directory.auditEntry(
            actor, "sieve.delete", target: "script \"\(name)\" of \(account.address)", domain: account.address.domain)
        do {
            try store.deleteSieveScript(accountID: account.id, name: name, audit: [audit])
        } catch SieveStoreError.noSuchScript {
            throw Self.noScript(account, name)
        }
        return try sieveScripts(address, actor: actor)
    }

    /// Gives a script another name; the active one stays active.
    public func renameSieveScript(_ address: String, name: String, to newName: String, actor: AdminActor) throws
        -> SieveScriptView
    {
        let account = try directory.managedAccount(address, actor: actor)
        try Self.checkScriptName(newName)
        let audit = directory.auditEntry(
            actor, "sieve.rename", target: "script \"\(name)\" of \(account.address) to \"\(newName)\"",
            domain: account.address.domain)
        do {
            try store.renameSieveScript(accountID: account.id, from: name, to: newName, audit: [audit])
        } catch SieveStoreError.noSuchScript {
            throw Self.noScript(account, name)
        } catch SieveStoreError.nameTaken {
            throw AdminError.conflict("script_exists", "\(account.address) already has a script \"\(newName)\"")
        }
        return try sieveScript(address, name: newName, actor: actor)
    }

    // MARK: Vacation

    /// Writes the `vacation` script and makes it active. The script that was active before
    /// is included after the reply (`include :optional`), so the account's other rules keep
    /// running; `clearVacation` makes it active again.
    /// `days` (default 7) is how long a sender waits for another reply; `from` and `until`,
    /// ISO dates (UTC), bound the days replies are sent.
    public func setVacation(
        _ address: String, subject: String, message: String, days: Int? = nil, from: String? = nil, until: String? = nil,
        actor: AdminActor
    ) throws -> VacationView {
        let account = try directory.managedAccount(address, actor: actor)
        let days = days ?? 7
        guard (1...365).contains(days) else {
            throw AdminError.invalid("invalid_days", "days must be from 1 to 365 (RFC 5230 §4.1)")
        }
        let from = try from.map { try Self.vacationDate($0, "from") }
        let until = try until.map { try Self.vacationDate($0, "until") }
        if let from, let until, until < from {
            throw AdminError.invalid("invalid_dates", "--until (\(until)) is before --from (\(from))")
        }
        let current = try store.activeSieveScript(accountID: account.id)
        // Setting the vacation again keeps including what the first one included.
        let previous = current?.name == Self.vacationScriptName ? Self.vacationIncludes(current!.text) : current?.name
        var text = "# Written by `mailroom account vacation set`. It answers mail, then runs the script\n"
        text += "# that was active before (if any); `mailroom account vacation clear` puts that one back.\n"
        // Dates bound the replies with RFC 5260 currentdate (days in UTC, the engine's zone),
        // compared as text by RFC 5231 :value: ISO dates sort as they read.
        var extensions = ["vacation"]
        if from != nil || until != nil { extensions += ["date", "relational"] }
        if previous != nil { extensions.append("include") }
        text += "require [" + extensions.map { "\"\($0)\"" }.joined(separator: ", ") + "];\n"
        let bounds = [
            from.map { "currentdate :value \"ge\" \"date\" \"\($0)\"" },
            until.map { "currentdate :value \"le\" \"date\" \"\($0)\"" },
        ].compactMap { $0 }
        let reply = "vacation :days \(days) :subject \(Self.quoted(subject)) \(Self.quoted(message));\n"
        switch bounds.count {
        case 0: text += reply
        case 1: text += "if \(bounds[0]) {\n    " + reply + "}\n"
        default: text += "if allof (" + bounds.joined(separator: ", ") + ") {\n    " + reply + "}\n"
        }
        if let previous { text += "include :personal :optional \(Self.quoted(previous));\n" }
        try Self.compile(text, name: Self.vacationScriptName)
        let audit = directory.auditEntry(
            actor, "vacation.set", target: "vacation reply of \(account.address)", domain: account.address.domain)
        try store.putSieveScript(
            accountID: account.id, name: Self.vacationScriptName, text: text, activate: true, at: Date(), audit: [audit]
        )
        return try vacation(address, actor: actor)
    }

    public func vacation(_ address: String, actor: AdminActor) throws -> VacationView {
        let account = try directory.managedAccount(address, actor: actor)
        guard let s = try store.sieveScript(accountID: account.id, name: Self.vacationScriptName) else {
            return VacationView(active: false)
        }
        var view = VacationView(active: s.active, includes: Self.vacationIncludes(s.text), script: s.text)
        if let parsed = try? SieveParser.parse(s.text) {
            (view.from, view.until) = Self.vacationDates(parsed.commands)
        }
        if let parsed = try? SieveParser.parse(s.text),
            let v = Self.vacationCommand(parsed.commands)
        {
            var i = 0
            while i < v.arguments.count {
                switch v.arguments[i].value {
                case .tag("subject"):
                    if i + 1 < v.arguments.count, case .string(let t) = v.arguments[i + 1].value {
                        view.subject = t; i += 1
                    }
                case .tag("days"):
                    if i + 1 < v.arguments.count, case .number(let n) = v.arguments[i + 1].value {
                        view.days = Int(n); i += 1
                    }
                case .tag(let t) where ["from", "addresses", "handle", "seconds"].contains(t):
                    i += 1
                case .string(let t):
                    view.message = t
                default: break
                }
                i += 1
            }
        }
        return view
    }

    /// Deletes the `vacation` script and makes the script it included active again.
    public func clearVacation(_ address: String, actor: AdminActor) throws -> VacationView {
        let account = try directory.managedAccount(address, actor: actor)
        guard let s = try store.sieveScript(accountID: account.id, name: Self.vacationScriptName) else {
            throw AdminError.notFound("no_vacation", "\(account.address) has no vacation reply set")
        }
        let audit = directory.auditEntry(
            actor, "vacation.clear", target: "vacation reply of \(account.address)", domain: account.address.domain)
        try store.deleteSieveScript(accountID: account.id, name: Self.vacationScriptName, audit: [audit])
        if s.active, let previous = Self.vacationIncludes(s.text),
            (try store.sieveScript(accountID: account.id, name: previous)) != nil
        {
            try store.setActiveSieveScript(accountID: account.id, name: previous, audit: [])
        }
        return VacationView(active: false)
    }

    /// The vacation command, at the top or in the `if` that bounds it by dates.
    static func vacationCommand(_ commands: [SieveCommand]) -> SieveCommand? {
        for c in commands {
            if c.identifier == "vacation" { return c }
            if let found = c.block.flatMap(vacationCommand) { return found }
        }
        return nil
    }

    /// The first and last day of the replies, as the `currentdate` tests of the `if` around
    /// the vacation command say them.
    static func vacationDates(_ commands: [SieveCommand]) -> (from: String?, until: String?) {
        guard let c = commands.first(where: { $0.identifier == "if" && ($0.block.flatMap(vacationCommand) != nil) }),
            let tests = c.tests
        else { return (nil, nil) }
        var list: [SieveTest]
        switch tests {
        case .single(let t): list = [t]
        case .list(let ts): list = ts
        }
        if list.count == 1, list[0].identifier == "allof", case .list(let inner)? = list[0].tests { list = inner }
        var (from, until): (String?, String?) = (nil, nil)
        for t in list where t.identifier == "currentdate" {
            let strings = t.arguments.compactMap { a -> String? in
                switch a.value {
                case .string(let s): s
                case .stringList(let l): l.first
                default: nil
                }
            }
            // :value "ge"|"le" "date" "YYYY-MM-DD"
            guard strings.count == 3, strings[1] == "date" else { continue }
            if strings[0] == "ge" { from = strings[2] } else if strings[0] == "le" { until = strings[2] }
        }
        return (from, until)
    }

    /// An ISO date (`2026-12-24`), checked.
    static func vacationDate(_ text: String, _ name: String) throws -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        guard text.count == 10, let d = f.date(from: text), f.string(from: d) == text else {
            throw AdminError.invalid(
                "invalid_date", "--\(name) must be a date like 2026-12-24 (ISO 8601), not \"\(text)\"")
        }
        return text
    }

    static func vacationIncludes(_ text: String) -> String? {
        (try? SieveProgram(text))?.includes.first { !$0.global }?.name
    }

    // MARK: Dry run

    /// What the account's active script would do with `message`, without storing or sending
    /// anything (vacation history and duplicate sightings are read, not written).
    /// `from` is the envelope sender; without it, the From field's address.
    public func testRules(
        _ address: String, message: String, from: String? = nil, actor: AdminActor
    ) throws -> RulesTestView {
        let account = try directory.managedAccount(address, actor: actor)
        let data = Array(SieveNotice.crlf(message).utf8)
        // Without --from, the envelope sender is the From field's address.
        let from =
            from
            ?? HeaderSummary(data).from.map { f in
                guard let open = f.lastIndex(of: "<"), let close = f.lastIndex(of: ">"), open < close else {
                    return f.trimmingASCIISpaces()
                }
                return String(f[f.index(after: open)..<close])
            }
        let m = InboundMessage(
            sender: from ?? "", recipients: [account.address.description], data: data, receivedHeader: "",
            clientIP: nil, helo: nil,
            tls: nil, authenticatedUser: nil)
        guard
            let d = sieveDecision(
                accountID: account.id, accountAddress: account.address.description,
                envelopeTo: account.address.description, message: m,
                data: data, headerPrefix: [], junkUse: nil, now: Date(), dryRun: true)
        else {
            return RulesTestView(
                script: nil, actions: [], outcome: ["stored in INBOX (the account has no active script)"])
        }
        let copies = d.copies.map { c in
            "stored in " + (c.mailbox ?? (c.specialUse == nil ? "INBOX" : "Junk"))
                + (c.create ? " (created if missing)" : "")
                + (c.flags.isEmpty ? "" : " with flags " + c.flags.joined(separator: " "))
        }
        return RulesTestView(script: d.script, actions: d.actions.map(Self.describe), outcome: copies + d.notes)
    }

    static func describe(_ a: SieveAction) -> String {
        switch a {
        case .keep(let flags): "keep" + (flags.isEmpty ? "" : " :flags \(flags.joined(separator: " "))")
        case .fileinto(let m, let flags, let copy, let create):
            "fileinto" + (copy ? " :copy" : "") + (create ? " :create" : "")
                + (flags.isEmpty ? "" : " :flags \(flags.joined(separator: " "))") + " \"\(m)\""
        case .redirect(let to, let copy): "redirect" + (copy ? " :copy" : "") + " \(to)"
        case .reject(let reason, let extended): (extended ? "ereject" : "reject") + " \"\(reason)\""
        case .discard: "discard"
        case .vacation(let v):
            "vacation to \(v.recipient.isEmpty ? "<>" : v.recipient)" + (v.refusal.map { " (not sent: \($0))" } ?? "")
        }
    }

    // MARK: Helpers

    func script(_ account: AccountRecord, _ name: String) throws -> SieveScriptRecord {
        guard let s = try store.sieveScript(accountID: account.id, name: name) else {
            throw Self.noScript(account, name)
        }
        return s
    }

    static func noScript(_ account: AccountRecord, _ name: String) -> AdminError {
        AdminError.notFound(
            "no_such_script",
            "\(account.address) has no script \"\(name)\" — see `mailroom sieve list \(account.address)`")
    }

    static func checkScriptName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 128,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw AdminError.invalid(
                "invalid_script_name", "a script name is 1 to 128 characters, without control characters")
        }
    }

    /// Refuses a script that does not compile, with the line and column of the error.
    static func compile(_ text: String, name: String) throws {
        do { _ = try SieveProgram(text) } catch {
            throw AdminError.invalid("invalid_script", "script \"\(name)\" does not compile: \(error)")
        }
    }

    /// A Sieve quoted string (RFC 5228 §2.4.2): `\` and `"` escaped.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
