import Directory
import Foundation
import MailCore
import Storage

/// Held list messages: listed, approved (distributed to the list as if just posted) or rejected.
/// Server admins, and domain admins of the list's domain, may moderate.
extension LocalDelivery {
    public func heldMessages(list: String?, actor: AdminActor) throws -> [HeldView] {
        let snap = directory.snapshot
        let only = try list.map { text in
            guard let a = try? EmailAddress(text) else { throw AdminError.invalid("invalid_address", "\(text) is not a list address") }
            return a.key
        }
        return try store.heldMessages().filter { h in
            guard let a = try? EmailAddress(h.listAddress) else { return false }
            if let only, a.key != only { return false }
            return directory.may(actor, manageDomain: a.domain, in: snap)
        }.map {
            HeldView(id: $0.id, list: $0.listAddress, sender: $0.sender, subject: $0.subject, size: $0.size, queueId: $0.queueID, heldAt: $0.createdAt)
        }
    }

    /// One held message with its text, for a moderator to read before deciding.
    public func heldMessage(id: Int64, actor: AdminActor) throws -> (HeldView, String) {
        guard let held = try store.heldMessage(id: id), let listAddress = try? EmailAddress(held.listAddress),
            directory.may(actor, manageDomain: listAddress.domain, in: directory.snapshot)
        else {
            // Someone else's list looks the same as no list: nothing leaks across domains.
            throw AdminError.notFound("held_not_found", "no held message \(id) — see `mailroom moderation list`")
        }
        let view = HeldView(
            id: held.id, list: held.listAddress, sender: held.sender, subject: held.subject, size: held.size, queueId: held.queueID, heldAt: held.createdAt)
        return (view, String(decoding: try readBlob(held.blobHash), as: UTF8.self))
    }

    public func moderate(id: Int64, approve: Bool, actor: AdminActor) throws -> ModerationResult {
        guard let held = try store.heldMessage(id: id), let listAddress = try? EmailAddress(held.listAddress) else {
            throw AdminError.notFound("held_not_found", "no held message \(id) — see `mailroom moderation list`")
        }
        let snap = directory.snapshot
        guard directory.may(actor, manageDomain: listAddress.domain, in: snap) else {
            throw AdminError.forbidden("this token may not moderate \(listAddress.displayForm)")
        }
        let now = DirectoryService.now()
        func event(_ kind: DeliveryEvent.Kind, _ recipient: String?, _ detail: String) -> DeliveryEvent {
            DeliveryEvent(
                at: now, queueID: held.queueID, messageID: nil, event: kind, sender: held.sender, recipient: recipient, clientIP: nil,
                helo: nil, tls: nil, authUser: actor.name, detail: detail, reply: nil)
        }
        guard approve else {
            try store.finishModeration(id: id, release: [], events: [event(.rejected, held.listAddress, "rejected by moderator \(actor.name)")])
            return ModerationResult(id: id, action: "rejected", recipients: 0)
        }
        guard case .list(let list)? = snap.resolvedEntry(listAddress) else {
            throw AdminError.conflict("list_gone", "\(listAddress.displayForm) is no longer a list; reject the message instead")
        }
        let original = try readBlob(held.blobHash)
        let body = ListHeaders.apply(list, to: original)
        let inline = body.count <= inlineLimit
        let hash = inline ? BlobStore.hash(body) : try blobs.put(body)
        var local: [MessageCommit.LocalCopy] = []
        var remote: [MessageCommit.RemoteCopy] = []
        var events = [event(.expanded, held.listAddress, "approved by moderator \(actor.name)")]
        // Expand the members as the list itself would, without its moderation.
        var unmoderated = snap
        var open = list
        open.postingPolicy = .anyone
        unmoderated.upsert(.list(open))
        for target in unmoderated.resolve(list.address.description, limits: directory.limits).recipients {
            if let account = target.accountID {
                local.append(.init(accountID: account, headerPrefix: held.headerPrefix))
                events.append(event(.stored, target.address, "INBOX via " + target.path.joined(separator: " → ")))
            } else {
                remote.append(.init(recipient: target.address, headerPrefix: []))
                events.append(event(.queued, target.address, "via " + target.path.joined(separator: " → ")))
            }
        }
        let commit = MessageCommit(
            queueID: held.queueID, messageID: HeaderSummary(original).messageID, sender: held.sender, blobHash: hash,
            blobSize: body.count, inlineData: inline ? body : nil, receivedAt: now, local: local, remote: remote, held: [], events: events)
        try store.finishModeration(id: id, release: [commit], events: [])
        return ModerationResult(id: id, action: "approved", recipients: local.count + remote.count)
    }
}
