import LoginKit
import Delivery
import Directory
import MailCore
import SMTP
import Storage

/// The SMTP server's decisions at MAIL and RCPT, from the directory snapshot: which recipients
/// exist, who may post to which list, what an authenticated user may send as. Nothing is
/// accepted that would later bounce for a local reason.
public struct DirectoryPolicy: SMTPPolicy {
    let directory: DirectoryService
    let delivery: LocalDelivery
    let hostname: String

    public init(directory: DirectoryService, delivery: LocalDelivery, hostname: String) {
        self.directory = directory
        self.delivery = delivery
        self.hostname = hostname
    }

    public func checkRecipient(
        _ recipient: SMTPMailbox?, sender: SMTPMailbox?, authenticatedUser: String?, mode: SMTPSessionConfig.Mode, trustedClient: Bool
    ) -> RecipientCheck {
        // Mail for other domains: only from our authenticated users and trusted networks (no open relay).
        let mayRelay = authenticatedUser != nil || trustedClient
        let snap = directory.snapshot
        guard let recipient else { return postmaster(snap) }
        let given = recipient.description
        if recipient.isAddressLiteral {
            return mayRelay ? .accept(SMTPRecipient(address: given, isLocal: false)) : .reject(relayDenied(given))
        }
        guard let domain = try? DomainName(recipient.domain) else {
            return .reject(SMTPReply(501, "5.1.3", "bad destination domain in \(given)"))
        }
        guard snap.isLocal(domain) else {
            return mayRelay ? .accept(SMTPRecipient(address: given, isLocal: false)) : .reject(relayDenied(given))
        }
        // A bounce to an address our forwarding made (SRS): it goes on to the original sender.
        let upper = recipient.localPart.uppercased()
        if upper.hasPrefix("SRS0=") || upper.hasPrefix("SRS1=") {
            guard let original = delivery.srs?.reverse(recipient.localPart) else {
                return .reject(SMTPReply(550, "5.7.1", "\(given) is not an address this server made for forwarded mail (SRS)"))
            }
            return .accept(SMTPRecipient(address: original, isLocal: false))
        }
        guard let address = try? EmailAddress(localPart: recipient.localPart, domain: domain) else {
            return .reject(SMTPReply(501, "5.1.3", "bad destination address \(given)"))
        }
        let r = snap.resolve(address.description, limits: directory.limits)
        switch r.kind {
        case .unknown, .invalid, .external:
            return .reject(SMTPReply(550, "5.1.1", "no such user here: \(address.displayForm)"))
        case .disabled:
            return .reject(SMTPReply(550, "5.2.1", "mailbox \(address.displayForm) is disabled"))
        case .account:
            if case .account(let a)? = snap.resolvedEntry(address), a.quotaBytes > 0, delivery.usage(of: a.id) >= a.quotaBytes {
                return .reject(SMTPReply(452, "4.2.2", "mailbox \(address.displayForm) is full, try again later"))
            }
        case .list:
            if case .list(let list)? = snap.resolvedEntry(address) {
                if let refusal = postingRefusal(list, sender: sender, recipients: r, snap: snap) { return .reject(refusal) }
                if list.postingPolicy == .moderated { return .accept(SMTPRecipient(address: address.description, isLocal: true)) }
            }
        case .alias, .catchAll:
            break
        }
        guard !r.recipients.isEmpty else {
            return .reject(SMTPReply(550, "5.1.1", "\(address.displayForm) has no deliverable recipients"))
        }
        return .accept(SMTPRecipient(address: address.description, isLocal: true))
    }

    private func postingRefusal(_ list: ListRecord, sender: SMTPMailbox?, recipients: Resolution, snap: DirectorySnapshot) -> SMTPReply? {
        let name = list.address.displayForm
        let from = sender.flatMap { try? EmailAddress($0.description) }
        switch list.postingPolicy {
        case .anyone, .moderated:
            return nil
        case .members:
            let keys = Set(recipients.recipients.compactMap { try? EmailAddress($0.address) }.map(\.key))
            if let from, keys.contains(from.key) || snap.resolvedEntry(from).map({ e in keys.contains(e.address.key) }) == true { return nil }
            return SMTPReply(550, "5.7.1", "only members may post to \(name)")
        case .organisation:
            if let from, snap.isLocal(from.domain) { return nil }
            return SMTPReply(550, "5.7.1", "only senders in this organisation may post to \(name)")
        case .senders:
            let allowed = Set(list.allowedSenders.compactMap { try? EmailAddress($0) }.map(\.key))
            if let from, allowed.contains(from.key) { return nil }
            return SMTPReply(550, "5.7.1", "you may not post to \(name)")
        }
    }

    private func postmaster(_ snap: DirectorySnapshot) -> RecipientCheck {
        // RFC 5321 §4.5.1: <Postmaster> without a domain is our postmaster.
        let candidates = ([try? DomainName(hostname)].compactMap { $0 } + snap.domainsByID.values.map(\.name).sorted())
        for d in candidates where snap.isLocal(d) {
            let address = "postmaster@\(d.ascii)"
            if snap.resolve(address, limits: directory.limits).isDeliverable {
                return .accept(SMTPRecipient(address: address, isLocal: true))
            }
        }
        return .reject(SMTPReply(550, "5.1.1", "no postmaster address is configured here"))
    }

    private func relayDenied(_ address: String) -> SMTPReply {
        SMTPReply(554, "5.7.1", "relay access denied for \(address): this server accepts mail only for its own domains")
    }

    public func scramCredentials(for user: String) -> SCRAMCredentials? { directory.scramCredentials(for: user) }

    public func checkSender(_ sender: SMTPMailbox?, authenticatedUser: String) -> SMTPReply? {
        guard let sender else { return SMTPReply(553, "5.7.1", "the null sender <> cannot be used for submission") }
        let snap = directory.snapshot
        guard let user = try? EmailAddress(authenticatedUser), case .account(let account)? = snap.resolvedEntry(user) else {
            return SMTPReply(553, "5.7.1", "your account is not in the directory")
        }
        let refusal = SMTPReply(553, "5.7.1", "\(authenticatedUser) may not send as \(sender.description)")
        guard let from = try? EmailAddress(sender.description) else { return refusal }
        switch snap.resolvedEntry(from) {
        case .account(let a)? where a.id == account.id:
            return nil
        case .alias(let alias)?:
            let targets = alias.targets.compactMap { try? EmailAddress($0) }.map(\.key)
            return targets.contains(account.address.key) ? nil : refusal
        case .list(let list)?:
            let senders = (list.owners + list.allowedSenders).compactMap { try? EmailAddress($0) }.map(\.key)
            return senders.contains(account.address.key) ? nil : refusal
        default:
            return refusal
        }
    }
}
