import Delivery
import Directory
import Foundation
import MailCore
import SMTP
import LoginKit
import Storage

extension SMTPEnvironment {
    /// `mailroom trace --dry-run`: what this server would do with a message, decided by the
    /// code that decides for real mail — the connection checks, MAIL FROM and RCPT TO as the
    /// SMTP policy answers them (list posting rules included), the inbound checks and spam
    /// verdict at the end of DATA, then delivery's resolution (aliases, lists, moderation),
    /// each account's rules and the folder of each copy — and, for each copy that would leave,
    /// `route`'s answer (the queue's MX, route or relay). Nothing is delivered, stored, queued,
    /// sent, counted or remembered; rspamd is not asked (it may remember).
    public func dryRun(
        _ t: DryRunTransaction, route: @Sendable (String) async -> String
    ) async -> [DryRunStep] {
        var steps: [DryRunStep] = []
        func refused(_ reply: SMTPReply, recipient: String? = nil, _ detail: String) -> DryRunStep {
            DryRunStep(
                "rejected", recipient: recipient, detail: detail,
                reply: "\(reply.code) \(reply.enhanced ?? "") \(reply.lines.joined(separator: " "))")
        }
        let sender: SMTPMailbox?
        do {
            sender = t.sender.isEmpty ? nil : try SMTPCommandParser.mailbox(t.sender)
        } catch {
            return [refused(error.reply, "MAIL FROM:<\(t.sender)> refused")]
        }
        let ip = t.clientIP ?? "-"
        let trusted = trustedNetworks.contains { $0.contains(ip) }
        let helo = t.helo ?? sender?.domain ?? hostname
        var client =
            "from "
            + (t.clientIP.map { "[\($0)]" } ?? "an unnamed client (no --client: no SPF, reverse DNS or blocklist)")
        client += " helo \(helo)"
        if trusted { client += ", in trusted_networks (may relay)" }
        if let user = t.authenticatedUser { client += ", authenticated as \(user) (submission)" }
        steps.append(DryRunStep("connect", detail: client))

        // Connection time: the DNS blocklists, as `connectionRefusal` asks them.
        if t.authenticatedUser == nil, let inbound, !inbound.settings.dnsbl.isEmpty, !trusted,
            let (reply, zone) = await inbound.blocklistRefusal(ip: ip, dryRun: true)
        {
            steps.append(refused(reply, "connection refused: listed by \(zone)"))
            return steps
        }
        // MAIL FROM: what an authenticated user may send as; SPF for everyone else.
        if let user = t.authenticatedUser, let refusal = policy.checkSender(sender, authenticatedUser: user) {
            steps.append(refused(refusal, "MAIL FROM:<\(t.sender)> refused"))
            return steps
        }
        steps.append(DryRunStep("sender", detail: "MAIL FROM:<\(t.sender)> accepted"))
        let connection = ConnectionInfo(clientIP: ip, tls: nil)
        let spf = await startSenderCheck(
            sender, helo: helo, connection: connection, authenticated: t.authenticatedUser != nil)?.value

        // RCPT TO: the same answers as the listener gives.
        var accepted: [SMTPRecipient] = []
        for rcpt in t.recipients {
            let mailbox: SMTPMailbox
            do {
                mailbox = try SMTPCommandParser.mailbox(rcpt)
            } catch {
                steps.append(refused(error.reply, recipient: rcpt, "RCPT TO refused"))
                continue
            }
            let check = policy.checkRecipient(
                mailbox, sender: sender, authenticatedUser: t.authenticatedUser,
                mode: t.authenticatedUser == nil ? .mx : .submission, trustedClient: trusted)
            switch check {
            case .accept(let r):
                accepted.append(r)
                let becomes = r.address.lowercased() == rcpt.lowercased() ? "" : " as \(r.address)"
                steps.append(
                    DryRunStep(
                        "rcpt", recipient: rcpt,
                        detail: "accepted\(becomes) (" + (r.isLocal ? "ours)" : "for another server)")))
            case .reject(let reply):
                steps.append(refused(reply, recipient: rcpt, "RCPT TO refused"))
            }
        }
        guard !accepted.isEmpty else {
            steps.append(
                DryRunStep(
                    "rejected", detail: "no recipient was accepted: the message would not be sent", reply: "554 5.5.1"))
            return steps
        }

        // End of DATA: size, the inbound checks and the spam verdict.
        var data = t.messageData(hostname: hostname)
        if data.count > limits.maxMessageSize {
            steps.append(
                DryRunStep(
                    "rejected", detail: "the message is larger than the limit of \(limits.maxMessageSize) bytes",
                    reply: "552 5.3.4"))
            return steps
        }
        let queueID = "dry-run"
        let envelope = SMTPEnvelope(
            sender: sender, recipients: accepted, helo: helo, authenticatedUser: t.authenticatedUser)
        var traceHeaders = Self.receivedHeader(envelope, connection: connection, host: hostname, queueID: queueID)
        let verdict = await judge(envelope, data, connection: connection, queueID: queueID, spf: spf, dryRun: true)
        if let verdict {
            if let refusal = verdict.refusal {
                steps.append(DryRunStep("checked", detail: verdict.story))
                steps.append(refused(refusal, "refused at the end of DATA"))
                return steps
            }
            data = verdict.data
            traceHeaders = verdict.header + traceHeaders
        } else {
            steps.append(
                DryRunStep(
                    "checked",
                    detail: t.authenticatedUser != nil
                        ? "not checked: mail from an authenticated user"
                        : "not checked: no inbound checks are configured"))
        }
        let message = Self.inboundMessage(
            envelope, data, traceHeaders: traceHeaders, connection: connection, verdict: verdict)
        if let reason = message.quarantineReason {
            steps.append(DryRunStep("checked", detail: verdict?.story))
            steps.append(
                DryRunStep("quarantined", detail: "held in quarantine (\(reason)); nothing delivered until released"))
            return steps
        }

        // Delivery: resolution, lists, rules, folders — and where remote copies would go.
        do {
            let prepared = try await delivery.prepare(message, queueID: queueID, dryRun: true)
            for event in prepared.events {
                steps.append(DryRunStep(event))
                if event.event == .queued, let recipient = event.recipient {
                    steps.append(DryRunStep("route", recipient: recipient, detail: await route(recipient)))
                }
            }
        } catch let refusal as DeliveryRefusal {
            steps.append(
                DryRunStep(
                    "rejected", detail: "refused at the end of DATA: \(refusal.text)",
                    reply: "\(refusal.code) \(refusal.enhanced) \(refusal.text)"))
        } catch {
            steps.append(DryRunStep("error", detail: "could not decide: \(error)"))
        }
        return steps
    }
}
