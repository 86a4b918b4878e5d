import Directory
import Foundation
import MailCore
import Offload
import Storage

/// The quarantine: messages the inbound checks held instead of delivering. An administrator
/// lists them, reads one, releases it (delivered once, to the recipients it came for) or
/// deletes it; entries older than `[quarantine] keep` expire.
extension LocalDelivery {
    /// Holds `m` (its trace headers on top, as they would have been delivered); the caller may
    /// then say 250: the message is on stable storage.
    func holdInQuarantine(_ m: InboundMessage, reason: String, queueID: String) async throws -> String {
        let body = Array(m.receivedHeader.utf8) + m.data
        let hashes = try await BlockingPool.shared.run { try self.writeBodies([body]) }
        let headers = HeaderSummary(m.data)
        let now = DirectoryService.now()
        let entry = QuarantinedMessage(
            queueID: queueID, messageID: headers.messageID, sender: m.sender ?? "", recipients: m.recipients, blobHash: hashes[0],
            size: body.count, subject: headers.subject ?? "", reason: reason, checks: m.checks, clientIP: m.clientIP, helo: m.helo,
            heldAt: now)
        func event(_ kind: DeliveryEvent.Kind, _ recipient: String?, _ detail: String) -> DeliveryEvent {
            DeliveryEvent(
                at: now, queueID: queueID, messageID: headers.messageID, event: kind, sender: m.sender ?? "", recipient: recipient,
                clientIP: m.clientIP, helo: m.helo, tls: m.tls, authUser: m.authenticatedUser, detail: detail, reply: nil)
        }
        var events = [event(.received, nil, "\(m.recipients.count) recipient(s), \(m.data.count) bytes")]
        if let checks = m.checks { events.append(event(.checked, nil, checks)) }
        events += m.recipients.map { event(.quarantined, $0, "held in quarantine: \(reason)") }
        let (store, inline, recorded) = (self.store, body.count <= inlineLimit ? body : nil, events)
        _ = try await BlockingPool.shared.run { try store.quarantine(entry, inlineData: inline, events: recorded) }
        return queueID
    }

    /// Held messages the actor may see: every one for a server admin, those with a recipient
    /// in one of a domain admin's domains otherwise.
    public func quarantined(actor: AdminActor) throws -> [QuarantineView] {
        let snap = directory.snapshot
        return try store.quarantinedMessages().filter { may(actor, see: $0, snap) }.map(Self.view)
    }

    /// One held message with its text.
    public func quarantinedMessage(id: Int64, actor: AdminActor) throws -> QuarantineMessageView {
        let entry = try quarantineEntry(id, actor: actor)
        let bytes = try readBlob(entry.blobHash)
        return QuarantineMessageView(entry: Self.view(entry), message: String(decoding: bytes, as: UTF8.self))
    }

    /// Delivers a held message to the recipients it came for, exactly once, as if it had
    /// just arrived (aliases and lists resolved now).
    public func releaseFromQuarantine(id: Int64, actor: AdminActor) async throws -> QuarantineResult {
        let (entry, bytes) = try await BlockingPool.shared.run { () throws -> (QuarantinedMessage, [UInt8]) in
            let entry = try self.quarantineEntry(id, actor: actor)
            return (entry, try self.readBlob(entry.blobHash))
        }
        // The stored bytes already carry the trace headers written when the message arrived.
        var message = InboundMessage(
            sender: entry.sender.isEmpty ? nil : entry.sender, recipients: entry.recipients, data: bytes, receivedHeader: "",
            clientIP: entry.clientIP, helo: entry.helo, tls: nil, authenticatedUser: nil)
        message.checks = "released from quarantine by \(actor.name) (held for: \(entry.reason))"
        let prepared = try await prepare(message, queueID: entry.queueID)
        let audit = directory.auditEntry(actor, "quarantine.release", target: "quarantined message \(id) from <\(entry.sender)>")
        let store = self.store
        let finished = try await BlockingPool.shared.run {
            try store.finishQuarantine(id: id, release: prepared.commits, events: prepared.events, audit: audit)
        }
        guard finished else {
            throw AdminError.notFound("quarantine_not_found", "quarantined message \(id) was released or deleted meanwhile")
        }
        stored(prepared)
        return QuarantineResult(id: id, action: "released", recipients: entry.recipients.count)
    }

    /// Deletes a held message; the sender is not told.
    public func deleteFromQuarantine(id: Int64, actor: AdminActor) throws -> QuarantineResult {
        let entry = try quarantineEntry(id, actor: actor)
        let event = DeliveryEvent(
            at: DirectoryService.now(), queueID: entry.queueID, messageID: entry.messageID, event: .rejected, sender: entry.sender,
            recipient: entry.recipients.joined(separator: ", "), clientIP: nil, helo: nil, tls: nil, authUser: actor.name,
            detail: "deleted from quarantine by \(actor.name)", reply: nil)
        let audit = directory.auditEntry(actor, "quarantine.delete", target: "quarantined message \(id) from <\(entry.sender)>")
        guard try store.finishQuarantine(id: id, release: [], events: [event], audit: audit) else {
            throw AdminError.notFound("quarantine_not_found", "quarantined message \(id) was released or deleted meanwhile")
        }
        return QuarantineResult(id: id, action: "deleted", recipients: 0)
    }

    /// Deletes entries held longer than `keep` seconds; returns how many.
    public func expireQuarantine(keep: TimeInterval) throws -> Int {
        let old = try store.quarantinedBefore(DirectoryService.now().addingTimeInterval(-keep))
        for entry in old {
            let event = DeliveryEvent(
                at: DirectoryService.now(), queueID: entry.queueID, messageID: entry.messageID, event: .rejected, sender: entry.sender,
                recipient: entry.recipients.joined(separator: ", "), clientIP: nil, helo: nil, tls: nil, authUser: nil,
                detail: "expired from quarantine after \(Int(keep / 86400)) days", reply: nil)
            try store.finishQuarantine(id: entry.id, release: [], events: [event], audit: nil)
        }
        return old.count
    }

    private func quarantineEntry(_ id: Int64, actor: AdminActor) throws -> QuarantinedMessage {
        guard let entry = try store.quarantinedMessage(id: id) else {
            throw AdminError.notFound("quarantine_not_found", "no quarantined message \(id) — see `mailroom quarantine list`")
        }
        guard may(actor, see: entry, directory.snapshot) else {
            // The same answer as for a missing entry: a domain admin learns nothing of others' mail.
            throw AdminError.notFound("quarantine_not_found", "no quarantined message \(id) — see `mailroom quarantine list`")
        }
        return entry
    }

    private func may(_ actor: AdminActor, see entry: QuarantinedMessage, _ snap: DirectorySnapshot) -> Bool {
        entry.recipients.contains { r in (try? EmailAddress(r)).map { directory.may(actor, manageDomain: $0.domain, in: snap) } ?? false }
    }

    static func view(_ q: QuarantinedMessage) -> QuarantineView {
        QuarantineView(
            id: q.id, queueId: q.queueID, messageId: q.messageID, sender: q.sender, recipients: q.recipients, subject: q.subject,
            size: q.size, reason: q.reason, checks: q.checks, clientIp: q.clientIP, heldAt: q.heldAt)
    }
}
