import AdminModels
import Delivery
import Directory
import Foundation
import Hummingbird
import MailCore
import Storage

/// Simple rules on a person's own page: "when From contains X, move it to folder Y". They are
/// a Sieve script named `rules`, like every rule here; each rule is also written as a
/// comment line the page reads back, so that the page never has to parse Sieve.
struct SimpleRule: Codable, Equatable {
    /// `from`, `to` (To or Cc) or `subject`.
    var field: String
    var contains: String
    var folder: String

    static let scriptName = "rules"
    static let fields = [("from", "From"), ("to", "To or Cc"), ("subject", "Subject")]
    private static let mark = "# rule: "

    /// The rules a script written by this page holds, in order.
    static func read(_ script: String?) -> [SimpleRule] {
        (script ?? "").split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix(mark) else { return nil }
            return try? JSONDecoder().decode(SimpleRule.self, from: Data(line.dropFirst(mark.count).utf8))
        }
    }

    /// The Sieve script for `rules`: the first that matches files the message and stops.
    static func script(_ rules: [SimpleRule]) -> String {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var text = "# Simple rules, written by the web console (My account). The page reads the rule lines back.\n"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for r in rules { text += mark + String(decoding: (try? encoder.encode(r)) ?? Data(), as: UTF8.self) + "\n" }
        text += "require [\"fileinto\", \"mailbox\"];\n"
        for r in rules {
            let header = r.field == "to" ? "[\"to\", \"cc\"]" : quoted(r.field)
            text += "if header :contains \(header) \(quoted(r.contains)) { fileinto :create \(quoted(r.folder)); stop; }\n"
        }
        return text
    }
}

/// The "Rules" section of My account.
func simpleRulesSection(_ c: Console, address: String, actor: AdminActor) throws -> Section? {
    guard let delivery = c.delivery else { return nil }
    let scripts = try delivery.sieveScripts(address, actor: actor)
    let current = scripts.contains { $0.name == SimpleRule.scriptName }
        ? try delivery.sieveScript(address, name: SimpleRule.scriptName, actor: actor) : nil
    let rules = SimpleRule.read(current?.script)
    let active = scripts.first { $0.active }?.name
    var text = ["Move mail into a folder by who sent it, who it is for, or its subject. The first rule that matches decides."]
    if let active, active != SimpleRule.scriptName {
        text.append("While your \(active) rules are on (\(active == "vacation" ? "the vacation reply" : active == "forward" ? "forwarding" : "a script") ), these rules run only if it runs them after itself.")
    }
    return Section(
        "Rules",
        text: text,
        table: Table(
            "Your rules", columns: ["When", "contains", "move to", ""],
            rows: rules.enumerated().map { i, r in
                .init([
                    Cell(SimpleRule.fields.first { $0.0 == r.field }?.1 ?? r.field), Cell(r.contains), Cell(r.folder),
                    Cell("", forms: [Form("/account/rules/remove", [.hidden("index", String(i))], submit: "Remove", label: "Remove the rule for \(r.contains)", danger: true, inline: true)]),
                ])
            }, empty: "No rules: mail goes to your INBOX."),
        forms: [
            Form(
                "/account/rules",
                [
                    .select("field", "When", SimpleRule.fields, selected: "from"), .text("contains", "contains", required: true),
                    .text("folder", "move to folder", required: true),
                ], submit: "Add rule")
        ])
}

/// Stores `rules` as the account's `rules` script, and makes it the active one unless another
/// (a vacation reply, forwarding) is: those run the script that was active before them.
func saveSimpleRules(_ c: Console, _ rules: [SimpleRule], address: String, actor: AdminActor) throws {
    guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "rules are not available") }
    let active = try delivery.sieveScripts(address, actor: actor).first { $0.active }?.name
    if rules.isEmpty {
        // No rules: no script (and none active, if it was).
        if active == SimpleRule.scriptName { _ = try delivery.deactivateSieve(address, actor: actor) }
        if try delivery.sieveScripts(address, actor: actor).contains(where: { $0.name == SimpleRule.scriptName }) {
            _ = try delivery.deleteSieveScript(address, name: SimpleRule.scriptName, actor: actor)
        }
        return
    }
    _ = try delivery.putSieveScript(
        address, name: SimpleRule.scriptName, script: SimpleRule.script(rules), activate: active == nil || active == SimpleRule.scriptName,
        actor: actor)
}

func addSimpleRulePages(_ c: Console, _ group: RouterGroup<AdminContext>) {
    let page: PageBuilder = { r in try accountSelfPage(c, r) }
    c.action(group, "account/rules", .anyone, fallback: page) { r in
        guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "rules are not available") }
        let me = c.dir.selfActor(r.user.account, sourceIP: r.user.ip)
        let address = r.user.account.address.description
        let field = r.form.text("field") ?? "from"
        guard SimpleRule.fields.contains(where: { $0.0 == field }) else { throw AdminError.invalid("invalid_field", "choose From, To or Subject") }
        guard let contains = r.form.text("contains"), let folder = r.form.text("folder") else {
            throw AdminError.invalid("rule_incomplete", "say what to look for and which folder to move the mail to")
        }
        let existing = try delivery.sieveScripts(address, actor: me).contains { $0.name == SimpleRule.scriptName }
            ? SimpleRule.read(try delivery.sieveScript(address, name: SimpleRule.scriptName, actor: me).script) : []
        try saveSimpleRules(c, existing + [SimpleRule(field: field, contains: contains, folder: folder)], address: address, actor: me)
        var p = try accountSelfPage(c, r)
        p.notice = "Rule added: mail whose \(field) contains “\(contains)” goes to \(folder)."
        return p
    }
    c.action(group, "account/rules/remove", .anyone, fallback: page) { r in
        guard let delivery = c.delivery else { throw AdminError.notFound("not_available", "rules are not available") }
        let me = c.dir.selfActor(r.user.account, sourceIP: r.user.ip)
        let address = r.user.account.address.description
        var rules = SimpleRule.read(try delivery.sieveScript(address, name: SimpleRule.scriptName, actor: me).script)
        guard let i = r.form.text("index").flatMap({ Int($0) }), rules.indices.contains(i) else {
            throw AdminError.notFound("rule_not_found", "that rule is gone already")
        }
        rules.remove(at: i)
        try saveSimpleRules(c, rules, address: address, actor: me)
        var p = try accountSelfPage(c, r)
        p.notice = "Rule removed."
        return p
    }
}
