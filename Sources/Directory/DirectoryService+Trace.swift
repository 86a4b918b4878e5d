import Foundation
import MailCore
import Storage

extension DirectoryService {
    /// The stories of the messages matching the filters (at least one is required).
    /// `client`: the client's address, for what a sending host did (refusals at connection
    /// time, DNS blocklists among them, have no sender or recipient to find them by).
    /// `account`: everything an account did and received — its messages (as sender, recipient
    /// or authenticated user) and its logins, failed ones with their reason.
    public func trace(
        messageID: String?, sender: String?, recipient: String?, client: String? = nil, account: String? = nil, since: Date?, limit: Int,
        actor: AdminActor
    ) throws -> [TraceView] {
        guard messageID != nil || sender != nil || recipient != nil || client != nil || account != nil else {
            throw AdminError.invalid("filter_required", "give --message-id, --sender, --recipient, --client or --account")
        }
        guard (1...1000).contains(limit) else { throw AdminError.invalid("invalid_limit", "limit must be 1 to 1000") }
        var logins: TraceView?
        if let account {
            let record = try existingAccount(account, actor, in: snapshot)  // exists, and the actor manages it
            logins = try loginStory(record, since: since)
        }
        let events = try store.traceEvents(
            messageID: messageID, sender: sender, recipient: recipient, client: client, account: account, since: since, limit: limit)
        let snap = snapshot
        var order: [String] = []
        var grouped: [String: [DeliveryEvent]] = [:]
        for e in events {
            // Refusals at RCPT share the id "-": each is its own story.
            let key = e.queueID == "-" ? "-\(e.id)" : e.queueID
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(e)
        }
        let stories: [TraceView] = order.compactMap { key in
            let evs = grouped[key]!
            // A domain admin sees a message only if it involves one of their domains.
            if !actor.isServerAdmin {
                let domains = evs.flatMap { [$0.sender, $0.recipient] }.compactMap { $0 }.compactMap { try? EmailAddress($0).domain }
                guard domains.contains(where: { may(actor, manage: $0, in: snap) }) else { return nil }
            }
            return TraceView(
                queueId: evs[0].queueID, messageId: evs.first(where: { $0.messageID != nil })?.messageID,
                events: evs.map {
                    TraceEventView(
                        at: $0.at, event: $0.event.rawValue, sender: $0.sender, recipient: $0.recipient, clientIp: $0.clientIP, helo: $0.helo,
                        tls: $0.tls, authUser: $0.authUser, detail: $0.detail, reply: $0.reply)
                })
        }
        return (logins.map { [$0] } ?? []) + stories
    }

    /// An account's logins as a story of their own: the last success per protocol and the
    /// recent failures, in time order.
    func loginStory(_ account: AccountRecord, since: Date?) throws -> TraceView? {
        let history = try store.loginHistory(accountID: account.id)
        let events = (history.successes.map { ($0, "login") } + history.failures.map { ($0, "login failed") })
            .filter { since == nil || $0.0.at >= since! }
            .sorted { $0.0.at < $1.0.at }
            .map { login, event in
                TraceEventView(
                    at: login.at, event: event, sender: nil, recipient: account.address.description, clientIp: login.ip, helo: nil, tls: nil,
                    authUser: nil, detail: login.protocol.uppercased() + (login.reason.map { ": \($0)" } ?? ""), reply: nil)
            }
        return events.isEmpty ? nil : TraceView(queueId: "logins", messageId: nil, events: events)
    }
}

extension DirectoryService {
    /// Who may try a message with `mailroom trace --dry-run`: a server admin, or a domain admin
    /// when every recipient is in a domain they manage (what it shows is those domains'
    /// resolution and rules).
    public func authorizeDryRun(recipients: [String], actor: AdminActor) throws {
        guard !recipients.isEmpty else { throw AdminError.invalid("recipient_required", "give at least one recipient (--to)") }
        guard recipients.count <= 100 else { throw AdminError.invalid("too_many_recipients", "a dry run takes at most 100 recipients") }
        guard !actor.isServerAdmin else { return }
        let snap = snapshot
        for r in recipients {
            guard let a = try? EmailAddress(r), snap.domain(a.domain) != nil, may(actor, manage: a.domain, in: snap) else {
                throw AdminError.forbidden("this token may try only mail to the domains it manages, and \(r) is not in one")
            }
        }
    }
}
