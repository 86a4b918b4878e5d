import AdminModels
import Foundation
import MailCore
import Storage

extension DirectoryService {
    /// The stories of the messages matching the filters (at least one is required).
    /// `client`: the client's address, for what a sending host did (refusals at connection
    /// time, DNS blocklists among them, have no sender or recipient to find them by).
    public func trace(
        messageID: String?, sender: String?, recipient: String?, client: String? = nil, since: Date?, limit: Int, actor: AdminActor
    ) throws -> [TraceView] {
        guard messageID != nil || sender != nil || recipient != nil || client != nil else {
            throw AdminError.invalid("filter_required", "give --message-id, --sender, --recipient or --client")
        }
        guard (1...1000).contains(limit) else { throw AdminError.invalid("invalid_limit", "limit must be 1 to 1000") }
        let events = try store.traceEvents(
            messageID: messageID, sender: sender, recipient: recipient, client: client, since: since, limit: limit)
        let snap = snapshot
        var order: [String] = []
        var grouped: [String: [DeliveryEvent]] = [:]
        for e in events {
            // Refusals at RCPT share the id "-": each is its own story.
            let key = e.queueID == "-" ? "-\(e.id)" : e.queueID
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(e)
        }
        return order.compactMap { key in
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
    }
}
