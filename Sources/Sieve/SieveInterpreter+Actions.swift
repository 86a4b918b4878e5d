import MIME

extension SieveInterpreter {
    /// Adds an action, dropping duplicates (RFC 5228 §2.10.3) and refusing conflicts
    /// (RFC 5429 §2.1: reject with an action that delivers or replies; RFC 5230 §4.7: one vacation).
    mutating func add(_ action: SieveAction, at: SieveLocation) throws(SieveError) {
        func mailbox(_ a: SieveAction) -> String? {
            switch a {
            case .keep: "INBOX"
            case .fileinto(let m, _, _, _): m.uppercased() == "INBOX" ? "INBOX" : m
            default: nil
            }
        }
        func delivers(_ a: SieveAction) -> Bool {
            switch a {
            case .keep, .fileinto, .redirect, .vacation: true
            default: false
            }
        }
        let rejected = actions.contains { if case .reject = $0 { true } else { false } }
        switch action {
        case .reject:
            if rejected { throw SieveError(.runtime, at, "a second reject/ereject is not allowed") }
            if let other = actions.first(where: delivers) {
                throw SieveError(.runtime, at, "reject conflicts with \(Self.describe(other)) earlier in the run")
            }
        case .vacation where actions.contains { if case .vacation = $0 { true } else { false } }:
            throw SieveError(.runtime, at, "only one vacation action may run")
        default:
            if rejected && delivers(action) {
                throw SieveError(.runtime, at, "\(Self.describe(action)) conflicts with the reject earlier in the run")
            }
        }
        if let m = mailbox(action), let i = actions.firstIndex(where: { mailbox($0) == m }) {
            actions[i] = action  // the same mailbox once; the later flags win, as in Pigeonhole
            return
        }
        if case .redirect(let to, _) = action {
            if actions.contains(where: { if case .redirect(let t, _) = $0 { Self.sameAddress(t, to) } else { false } })
            {
                return
            }
            redirects += 1
            guard redirects <= limits.maxRedirects else {
                throw SieveError(.limit, at, "more than \(limits.maxRedirects) redirects in one run")
            }
        }
        if action == .discard, actions.contains(.discard) { return }
        guard actions.count < limits.maxActions else {
            throw SieveError(.limit, at, "more than \(limits.maxActions) actions in one run")
        }
        actions.append(action)
    }

    static func sameAddress(_ a: String, _ b: String) -> Bool {
        let x = split(a), y = split(b)
        return x.local == y.local && x.domain?.lowercased() == y.domain?.lowercased()
    }

    static func split(_ address: String) -> (local: String, domain: String?) {
        guard let at = address.lastIndex(of: "@") else { return (address, nil) }
        return (String(address[..<at]), String(address[address.index(after: at)...]))
    }

    static func describe(_ a: SieveAction) -> String {
        switch a {
        case .keep: "keep"
        case .fileinto(let m, _, _, _): "fileinto \"\(m)\""
        case .redirect(let t, _): "redirect to \(t)"
        case .reject: "reject"
        case .discard: "discard"
        case .vacation: "vacation"
        }
    }

    mutating func vacation(_ spec: VacationSpec, at: SieveLocation) throws(SieveError) {
        let reason = expand(spec.reason), subject = spec.subject.map { expand($0) }, from = spec.from.map { expand($0) }
        // RFC 5230 §4.1: at least one day; RFC 6131 §2: seconds may be 0 (always answer).
        let seconds = spec.seconds.map { max(0, $0) } ?? max(1, spec.days ?? 7) * 86400
        // RFC 5230 §4.2 leaves the default handle to us; this is Pigeonhole's, so that a
        // script moved between the two keeps its reply history.
        let handle =
            spec.handle.map { expand($0) }
            ?? reason + (subject ?? "<default-subject>") + (from ?? "<default-from>")
            + (spec.mime ? "<MIME>" : "<NO-MIME>")
        try add(
            .vacation(
                SieveVacation(
                    reason: reason, subject: subject, from: from, addresses: expand(spec.addresses), mime: spec.mime,
                    handle: handle,
                    seconds: seconds, recipient: context.envelopeFrom, refusal: vacationRefusal(expand(spec.addresses)))
            ), at: at)
    }

    /// RFC 5230 §4.5 (reply only to mail addressed to the user) and §4.6 (never to bounces,
    /// automatic or list mail, nor to the user).
    func vacationRefusal(_ extra: [String]) -> String? {
        let sender = context.envelopeFrom
        guard !sender.isEmpty else { return "the sender is empty (a bounce)" }
        let local = Self.split(sender).local.lowercased()
        if local == "mailer-daemon" || local == "listserv" || local == "majordomo" || local.hasPrefix("owner-")
            || local.hasSuffix("-request")
        {
            return "the sender \(sender) is a mail system or list address"
        }
        let own = (context.accountAddresses + extra + [context.envelopeTo]).filter { !$0.isEmpty }
        if own.contains(where: { $0.lowercased() == sender.lowercased() }) {
            return "the sender \(sender) is the account itself"
        }
        func value(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }.map { Self.decoded($0.value).lowercased() }
        }
        if let auto = value("auto-submitted"), !auto.hasPrefix("no") {
            return "the message is automatic (Auto-Submitted: \(auto))"
        }
        if let precedence = value("precedence"), ["bulk", "list", "junk"].contains(precedence) {
            return "the message is bulk mail (Precedence: \(precedence))"
        }
        if headers.contains(where: { $0.name.lowercased().hasPrefix("list-") }) {
            return "the message comes from a mailing list"
        }
        let recipients = ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"].flatMap { name in
            headers.filter { $0.name.lowercased() == name }.flatMap {
                HeaderMailboxes.parseAsWritten(Array($0.value.utf8))
            }
        }
        let addressed = recipients.contains { r in
            own.contains { $0.lowercased() == (r.domain.map { d in r.local + "@" + d } ?? r.local).lowercased() }
        }
        return addressed
            ? nil : "the message is not addressed to the account (none of its addresses is in To, Cc or Bcc)"
    }

    mutating func include(_ name: String, global: Bool, once: Bool, optional: Bool, at: SieveLocation)
        throws(SieveError) -> Flow
    {
        let key = (global ? "global:" : "personal:") + name
        if once && included.contains(key) { return .next }
        guard !frames.contains(where: { $0.name == key }) else {
            throw SieveError(.runtime, at, "include \"\(name)\" includes itself (directly or through other scripts)")
        }
        guard frames.count <= limits.maxIncludeDepth else {
            throw SieveError(.limit, at, "includes are nested more than \(limits.maxIncludeDepth) deep")
        }
        includeCount += 1
        guard includeCount <= limits.maxIncludes else {
            throw SieveError(.limit, at, "more than \(limits.maxIncludes) scripts included in one run")
        }
        guard let text = context.includeScript(name, global) else {
            if optional { return .next }
            throw SieveError(
                .runtime, at, "the \(global ? "global" : "personal") script \"\(name)\" to include does not exist")
        }
        let program: SieveProgram
        do { program = try SieveProgram(text, limits: limits) } catch {
            throw SieveError(.runtime, at, "the included script \"\(name)\" is invalid: \(error)")
        }
        included.insert(key)
        frames.append(Frame(program: program, variables: Variables(limits: limits), name: key))
        defer { frames.removeLast() }
        let flow = try execute(program.commands)
        return flow == .stop ? .stop : .next
    }
}
