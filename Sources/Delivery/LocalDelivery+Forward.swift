import Directory
import Foundation
import MailCore
import Sieve
import Storage

/// `mailroom account forward`: forwarding as a Sieve script named `forward` that the user can
/// see and change, like the vacation reply. Without a kept copy the script is the account's
/// whole rule (mail goes on and nothing stays); with one, it redirects a copy and then runs
/// the script that was active before, which `forward --off` makes active again. Forwarded
/// mail leaves with an SRS sender (see ``SRS``).
extension LocalDelivery {
    public static let forwardScriptName = "forward"

    /// Forwards the account's mail to `targets` (one to four addresses); with `keepCopy`, a
    /// copy stays and the account's other rules still run.
    public func setForward(
        _ address: String, to targets: [String], keepCopy keep: Bool = false, actor: AdminActor
    ) throws -> ForwardView {
        let account = try directory.managedAccount(address, actor: actor)
        let targets = try targets.map { text -> String in
            guard let a = try? EmailAddress(text) else { throw AdminError.invalid("invalid_address", "\(text) is not an e-mail address") }
            guard a.key != account.address.key else {
                throw AdminError.invalid("forward_loop", "\(account.address) cannot forward to itself")
            }
            return a.description
        }
        guard !targets.isEmpty, targets.count <= 4 else {
            throw AdminError.invalid("invalid_targets", "give one to four addresses to forward to (each one is a redirect; Sieve allows few)")
        }
        let current = try store.activeSieveScript(accountID: account.id)
        let previous = current?.name == Self.forwardScriptName ? Self.activeBefore(current!.text) : current?.name
        var text = "# Written by `mailroom account forward`; `mailroom account forward --off` removes it"
        text += keep ? " and puts back\n# the script that was active before (which runs after the copy).\n" : ".\n"
        let include = keep && previous != nil
        // Named here even when not included, so that --off can put it back.
        if let previous { text += "\(Self.activeBeforeMark)\(Self.quoted(previous))\n" }
        let requires = (keep ? ["\"copy\""] : []) + (include ? ["\"include\""] : [])
        if !requires.isEmpty { text += "require [\(requires.joined(separator: ", "))];\n" }
        for target in targets { text += "redirect \(keep ? ":copy " : "")\(Self.quoted(target));\n" }
        if include, let previous { text += "include :personal :optional \(Self.quoted(previous));\n" }
        try Self.compile(text, name: Self.forwardScriptName)
        let audit = directory.auditEntry(
            actor, "forward.set", target: "forwarding of \(account.address) to \(targets.joined(separator: ", "))",
            domain: account.address.domain)
        try store.putSieveScript(accountID: account.id, name: Self.forwardScriptName, text: text, activate: true, at: Date(), audit: [audit])
        return try forward(address, actor: actor)
    }

    public func forward(_ address: String, actor: AdminActor) throws -> ForwardView {
        let account = try directory.managedAccount(address, actor: actor)
        guard let s = try store.sieveScript(accountID: account.id, name: Self.forwardScriptName) else { return ForwardView(active: false) }
        var view = ForwardView(active: s.active, includes: Self.vacationIncludes(s.text), script: s.text)
        for command in (try? SieveParser.parse(s.text))?.commands ?? [] where command.identifier == "redirect" {
            for argument in command.arguments {
                switch argument.value {
                case .tag("copy"): view.keepCopy = true
                case .string(let target): view.to.append(target)
                default: break
                }
            }
        }
        return view
    }

    /// Deletes the `forward` script and makes the script it included active again.
    public func clearForward(_ address: String, actor: AdminActor) throws -> ForwardView {
        let account = try directory.managedAccount(address, actor: actor)
        guard let s = try store.sieveScript(accountID: account.id, name: Self.forwardScriptName) else {
            throw AdminError.notFound("no_forward", "\(account.address) does not forward its mail")
        }
        let audit = directory.auditEntry(actor, "forward.clear", target: "forwarding of \(account.address)", domain: account.address.domain)
        try store.deleteSieveScript(accountID: account.id, name: Self.forwardScriptName, audit: [audit])
        if s.active, let previous = Self.activeBefore(s.text), (try store.sieveScript(accountID: account.id, name: previous)) != nil {
            try store.setActiveSieveScript(accountID: account.id, name: previous, audit: [])
        }
        return ForwardView(active: false)
    }

    static let activeBeforeMark = "# Active before: "

    /// The script that was active before forwarding was set (from the mark the script carries).
    static func activeBefore(_ text: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(activeBeforeMark) }) else { return nil }
        let quoted = line.dropFirst(activeBeforeMark.count)
        guard quoted.hasPrefix("\""), quoted.hasSuffix("\""), quoted.count >= 2 else { return nil }
        return String(quoted.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
    }
}
