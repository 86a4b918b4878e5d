import Foundation
import MailCore
import Sieve
import Storage
import Synchronization

/// What one account's rules decided for one message: the copies to store, the messages to
/// send because of it (redirects, vacation replies, reject notices), what the trace says, and
/// what to remember (vacation replies, duplicate sightings).
public struct SieveDecision: Sendable {
    /// A message the rules send: prepared as a delivery of its own, in the same commit.
    public struct FollowUp: Sendable {
        public var message: InboundMessage
        public var queueID: String
        /// For the trace when the message cannot be sent ("redirect to bob@example.net").
        public var what: String
    }

    public var copies: [MessageCommit.LocalCopy] = []
    /// Trace lines: one per effect of the rules ("discarded by the account's rules").
    public var notes: [String] = []
    public var followUps: [FollowUp] = []
    public var memory = SieveMemory()
    /// A reject given while the SMTP client still waits: refuse the message instead of
    /// storing it (RFC 5429 §2.1: at the protocol level when possible).
    public var refusal: DeliveryRefusal?
    /// The script's name, for the trace.
    public var script: String
    /// The actions as the interpreter gave them (empty when the run failed), for dry runs.
    public var actions: [SieveAction] = []
}

/// Bounds on what rules may make a message do, beyond the interpreter's own limits.
enum SieveDelivery {
    /// Redirects in a chain (a redirected message redirected again by another account's
    /// rules, …). The Delivered-To loop check catches cycles; this bounds long chains.
    static let maxRedirectChain = 3

    /// System flags in their canonical spelling (RFC 3501 §2.3.2); \Recent is the server's.
    static func canonicalFlags(_ flags: [String]) -> [String] {
        let system = [
            "\\seen": "\\Seen", "\\answered": "\\Answered", "\\flagged": "\\Flagged", "\\deleted": "\\Deleted",
            "\\draft": "\\Draft",
        ]
        var out: [String] = []
        for f in flags {
            let lower = f.lowercased()
            if lower == "\\recent" { continue }
            if f.hasPrefix("\\") && system[lower] == nil { continue }  // no such system flag
            let flag = system[lower] ?? f
            if !out.contains(where: { $0.lowercased() == lower }) { out.append(flag) }
        }
        return out
    }

    /// A header value, RFC 2047-encoded when it is not plain ASCII.
    static func headerText(_ s: String) -> String {
        let line = s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard !line.allSatisfy({ $0.isASCII }) else { return line }
        // Encoded words of at most 75 characters (RFC 2047 §2), split between characters.
        var words: [String] = []
        var chunk = ""
        for c in line {
            if (chunk + String(c)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(c)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }
}

extension LocalDelivery {
    /// Runs the account's active script, if it has one, over `data` (the message as this
    /// account would get it) and says what to do; nil when the account has no active script.
    ///
    /// - Parameters:
    ///   - junkUse: `\Junk` when the spam verdict files the message in Junk: keep (explicit
    ///     or implicit) then goes there, while `fileinto` goes where the script says.
    ///   - dryRun: decide without reading or planning anything that would be sent.
    public func sieveDecision(
        accountID: Int64, accountAddress: String, envelopeTo: String, message m: InboundMessage, data: [UInt8],
        headerPrefix: [UInt8], junkUse: String?, now: Date, mayRefuse: Bool = false, dryRun: Bool = false
    ) -> SieveDecision? {
        let script: SieveScriptRecord
        do {
            guard let s = try store.activeSieveScript(accountID: accountID) else { return nil }
            script = s
        } catch {
            var d = SieveDecision(script: "?")
            d.copies = [.init(accountID: accountID, headerPrefix: headerPrefix, specialUse: junkUse)]
            d.notes = ["the account's rules could not be read (\(error)) — kept as without rules"]
            return d
        }
        var decision = SieveDecision(script: script.name)
        let keepCopy = MessageCommit.LocalCopy(accountID: accountID, headerPrefix: headerPrefix, specialUse: junkUse)
        let keptIn = junkUse == nil ? "INBOX" : "Junk"
        let store = self.store
        let asked = Mutex<[SieveMemory.Seen]>([])
        let context = SieveContext(
            envelopeFrom: m.sender ?? "", envelopeTo: envelopeTo, envelopeAuth: m.authenticatedUser,
            accountAddresses: [accountAddress], now: now,
            mailboxExists: { name in
                name.uppercased() == "INBOX" || ((try? store.mailbox(accountID: accountID, name: name)) ?? nil) != nil
            },
            isDuplicate: { check in
                let seen =
                    (try? store.sieveSeen(
                        accountID: accountID, handle: check.handle, uniqueID: check.uniqueID,
                        since: now.addingTimeInterval(-TimeInterval(check.seconds)), last: check.last)) ?? false
                asked.withLock {
                    $0.append(.init(accountID: accountID, handle: check.handle, uniqueID: check.uniqueID, fresh: !seen))
                }
                return seen
            },
            includeScript: { name, global in
                // Global scripts are not kept yet: an include :global finds nothing.
                global ? nil : ((try? store.sieveScript(accountID: accountID, name: name)) ?? nil)?.text
            })
        let result: SieveResult
        do {
            let program = try SieveProgram(script.text)
            result = try SieveInterpreter.run(program, message: data, context: context)
        } catch {
            // RFC 5228 §2.10.6: a failed run keeps the message as if there were no script.
            decision.copies = [keepCopy]
            decision.notes = ["script \"\(script.name)\" failed at \(error) — kept in \(keptIn)"]
            return decision
        }
        decision.actions = result.actions
        decision.memory.seen = asked.withLock { $0 }
        let sender = m.sender ?? ""

        func addCopy(_ copy: MessageCommit.LocalCopy) {
            // keep and fileinto "INBOX" land in the same place: one copy, flags together.
            if let i = decision.copies.firstIndex(where: {
                $0.mailbox == copy.mailbox && $0.specialUse == copy.specialUse
            }) {
                decision.copies[i].flags = SieveDelivery.canonicalFlags(decision.copies[i].flags + copy.flags)
            } else {
                var c = copy
                c.flags = SieveDelivery.canonicalFlags(c.flags)
                decision.copies.append(c)
            }
        }

        for action in result.actions {
            switch action {
            case .keep(let flags):
                var c = keepCopy
                c.flags = flags
                addCopy(c)
            case .fileinto(let mailbox, let flags, _, let create):
                if mailbox.uppercased() == "INBOX" {
                    addCopy(.init(accountID: accountID, headerPrefix: headerPrefix, flags: flags))
                } else if create || context.mailboxExists(mailbox) {
                    addCopy(
                        .init(
                            accountID: accountID, headerPrefix: headerPrefix, mailbox: mailbox, create: create,
                            flags: flags))
                } else {
                    // The folder was deleted or renamed since the script was written: better
                    // in INBOX than lost.
                    decision.notes.append(
                        "the account's rules file into \"\(mailbox)\", which does not exist — kept in INBOX")
                    addCopy(.init(accountID: accountID, headerPrefix: headerPrefix, flags: flags))
                }
            case .discard:
                decision.notes.append("discarded by the account's rules")
            case .redirect(let address, _):
                guard m.sieveRedirects < SieveDelivery.maxRedirectChain else {
                    decision.notes.append(
                        "redirect to \(address) not done: the message was already redirected \(m.sieveRedirects) times — kept in \(keptIn)"
                    )
                    addCopy(keepCopy)
                    continue
                }
                let id = Self.newQueueID()
                decision.notes.append("redirected to \(address) by the account's rules" + (dryRun ? "" : " (as \(id))"))
                if !dryRun {
                    // Sent on with an SRS sender (see ``SRS``); Delivered-To lets the loop check
                    // see the message if it ever comes back here.
                    var redirected = InboundMessage(
                        sender: forwardingSender(m.sender, via: Self.domain(of: accountAddress)), recipients: [address],
                        data: Array("Delivered-To: \(envelopeTo)\r\n\(m.receivedHeader)".utf8) + data,
                        receivedHeader:
                            "Received: by \(Self.domain(of: accountAddress)) (Mailroom rules of \(accountAddress)) id \(id);\r\n\t\(RFC5322Date.string(now))\r\n",
                        clientIP: nil, helo: nil, tls: nil, authenticatedUser: nil)
                    redirected.sieveRedirects = m.sieveRedirects + 1
                    decision.followUps.append(.init(message: redirected, queueID: id, what: "redirect to \(address)"))
                }
            case .reject(let reason, _):
                if mayRefuse {
                    decision.refusal = DeliveryRefusal(code: 550, enhanced: "5.7.1", text: SieveNotice.oneLine(reason))
                    decision.notes.append("refused at SMTP by the account's rules (\(reason))")
                    continue
                }
                // Once the message is accepted for others too (or released later), the
                // refusal can only be a message to the sender (RFC 5429 §2.1).
                guard !sender.isEmpty else {
                    decision.notes.append(
                        "rejected by the account's rules (\(reason)); the sender is empty, so nobody is told")
                    continue
                }
                let id = Self.newQueueID()
                decision.notes.append(
                    "rejected by the account's rules (\(reason)); the sender \(sender) is told"
                        + (dryRun ? "" : " (as \(id))"))
                if !dryRun {
                    let notice = SieveNotice.rejection(
                        reason: reason, account: accountAddress, sender: sender, original: data, queueID: id, now: now)
                    decision.followUps.append(
                        .init(
                            message: Self.generated(notice, to: sender, from: accountAddress, id: id, now: now),
                            queueID: id, what: "rejection notice to \(sender)"))
                }
            case .vacation(let v):
                if let refusal = v.refusal {
                    decision.notes.append("vacation reply not sent: \(refusal)")
                    continue
                }
                if v.seconds > 0,
                    let last = try? store.lastVacationReply(
                        accountID: accountID, handle: v.handle, sender: v.recipient),
                    now.timeIntervalSince(last) < TimeInterval(v.seconds)
                {
                    decision.notes.append(
                        "vacation reply not sent: \(v.recipient) was answered on \(RFC5322Date.string(last))")
                    continue
                }
                if !dryRun
                    && !claimVacation(
                        accountID: accountID, handle: v.handle, sender: v.recipient, seconds: v.seconds, now: now)
                {
                    decision.notes.append(
                        "vacation reply not sent: \(v.recipient) is being answered for another message")
                    continue
                }
                let id = Self.newQueueID()
                decision.notes.append("vacation reply sent to \(v.recipient)" + (dryRun ? "" : " (as \(id))"))
                decision.memory.replies.append(.init(accountID: accountID, handle: v.handle, sender: v.recipient))
                if !dryRun {
                    let reply = SieveNotice.vacation(v, account: accountAddress, original: data, queueID: id, now: now)
                    decision.followUps.append(
                        .init(
                            message: Self.generated(reply, to: v.recipient, from: accountAddress, id: id, now: now),
                            queueID: id, what: "vacation reply to \(v.recipient)"))
                }
            }
        }
        return decision
    }

    /// Claims the reply to `sender` for the period, unless another delivery in this process
    /// claimed it moments ago (the store knows of it only once that delivery is committed).
    func claimVacation(accountID: Int64, handle: String, sender: String, seconds: Int64, now: Date) -> Bool {
        guard seconds > 0 else { return true }
        let key = "\(accountID)\u{0}\(handle)\u{0}\(sender.lowercased())"
        // Long enough for any commit; short, so that a commit that failed does not silence
        // the reply for the whole period.
        let window = TimeInterval(min(seconds, 600))
        return vacationsInFlight.withLock { claims in
            if let at = claims[key], now.timeIntervalSince(at) < window { return false }
            if claims.count > 10_000 { claims = claims.filter { now.timeIntervalSince($0.value) < 600 } }
            claims[key] = now
            return true
        }
    }

    /// A message the server writes (reply, notice): null envelope sender, so that nothing
    /// answers it in turn (RFC 3834 §3.3, RFC 5230 §5).
    static func generated(_ data: [UInt8], to recipient: String, from account: String, id: String, now: Date)
        -> InboundMessage
    {
        InboundMessage(
            sender: nil, recipients: [recipient], data: data,
            receivedHeader:
                "Received: by \(domain(of: account)) (Mailroom rules of \(account)) id \(id);\r\n\t\(RFC5322Date.string(now))\r\n",
            clientIP: nil, helo: nil, tls: nil, authenticatedUser: nil)
    }

    static func domain(of address: String) -> String {
        address.split(separator: "@").last.map(String.init) ?? address
    }

    /// Prepares the messages the rules send, each as a delivery of its own; a message that
    /// cannot go (a loop) is told in the trace instead.
    func prepareFollowUps(_ followUps: [SieveDecision.FollowUp], event: (String) -> DeliveryEvent) throws -> [PreparedDelivery] {
        var out: [PreparedDelivery] = []
        for f in followUps {
            do {
                out.append(try prepareNow(f.message, queueID: f.queueID, dryRun: false))
            } catch let refusal as DeliveryRefusal {
                out.append(
                    PreparedDelivery(commits: [], events: [event("\(f.what) not sent: \(refusal.text)")], sizes: [:]))
            }
        }
        return out
    }
}
