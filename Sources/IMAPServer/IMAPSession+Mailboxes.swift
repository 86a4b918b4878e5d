import Directory
import Delivery
import Foundation
import IMAP
import MIME
import Storage

/// The mailbox a session has selected, as the session has told the client about it.
struct SelectedMailbox {
    var id: Int64
    var name: String
    var readOnly: Bool
    /// UIDs by message sequence number (index + 1).
    var uids: [Int64]
    /// The MODSEQ up to which the client has been told of changes.
    var modseq: Int64
    var keywords: [String]
    var token: MailboxChangeHub.Token
    /// SEARCHRES's saved result (UIDs).
    var saved: [Int64] = []
    /// The UIDs that are \Recent in this session (RFC 3501 §2.3.2), as ranges; usually one.
    var recent: [ClosedRange<Int64>] = []

    func isRecent(_ uid: Int64) -> Bool { recent.contains { $0.contains(uid) } }

    /// Recent messages still in the mailbox.
    var recentCount: Int {
        recent.reduce(0) { $0 + firstIndex(atLeast: $1.upperBound + 1) - firstIndex(atLeast: $1.lowerBound) }
    }

    /// The index of the first UID at least `uid` (uids.count when there is none).
    func firstIndex(atLeast uid: Int64) -> Int {
        var lo = 0, hi = uids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if uids[mid] < uid { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The sequence number of `uid`, if the client knows the message.
    func msn(of uid: Int64) -> Int? {
        var lo = 0, hi = uids.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if uids[mid] == uid { return mid + 1 }
            if uids[mid] < uid { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }
}

/// Mailbox commands: SELECT/EXAMINE, CREATE, DELETE, RENAME, LIST, LSUB, STATUS, APPEND, quotas.
extension IMAPSession {
    static let systemFlags = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"]

    /// PERMANENTFLAGS's response code: the flags a client can store (`\*`: new keywords too).
    static func permanentFlagsCode(_ flags: [String]) -> String {
        "PERMANENTFLAGS (\(flags.joined(separator: " ")))"
    }

    /// A mailbox name as sent, decoded (modified UTF-7 unless UTF-8 is on), checked, with INBOX
    /// in its canonical case. Names are always looked up within the logged-in account, so no
    /// spelling reaches another user's mail; odd ones are refused all the same.
    func mailboxName(_ name: MailboxName) throws -> String {
        guard name.bytes.count <= env.limits.maxMailboxNameLength else { throw IMAPError.no("CANNOT", "Mailbox name too long") }
        var text: String
        if name.bytes.contains(where: { $0 >= 0x80 }) || utf8Names {
            guard let s = String(validating: name.bytes, as: UTF8.self) else { throw IMAPError.bad("Mailbox name is not valid UTF-8") }
            text = s
        } else {
            // A well-formed atom that is not modified UTF-7 names no mailbox: NO, not BAD.
            guard let s = ModifiedUTF7.decode(String(decoding: name.bytes, as: UTF8.self)) else {
                throw IMAPError.no("NONEXISTENT", "No mailbox has this name: it is not valid modified UTF-7 (RFC 3501 §5.1.3)")
            }
            text = s
        }
        if text.hasSuffix("/") { text.removeLast() }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard !text.isEmpty else { throw IMAPError.no("CANNOT", "Empty mailbox name") }
        guard parts.count <= env.limits.maxMailboxDepth else { throw IMAPError.no("CANNOT", "Mailbox name too deep") }
        for part in parts {
            guard !part.isEmpty, part != ".", part != ".." else { throw IMAPError.no("CANNOT", "Invalid mailbox name \(text)") }
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "*" || $0 == "%" }),
            !text.hasPrefix("~"), !text.hasPrefix("#")
        else { throw IMAPError.no("CANNOT", "Invalid mailbox name \(text)") }
        if parts[0].caseInsensitiveCompare("INBOX") == .orderedSame {
            text = (["INBOX"] + parts.dropFirst().map(String.init)).joined(separator: "/")
        }
        return text
    }

    /// How a name goes out: UTF-8 when the client enabled it, else modified UTF-7.
    func wireName(_ name: String) -> IMAPResponse.Name { IMAPResponse.Name(name: name, utf8: utf8Names) }

    func existingMailbox(_ name: MailboxName) throws -> MailboxRecord {
        let account = try authenticatedAccount()
        let decoded = try mailboxName(name)
        guard let m = try env.store.mailbox(accountID: account.id, name: decoded) else {
            throw IMAPError.no("NONEXISTENT", "Mailbox \(decoded) does not exist")
        }
        return m
    }

    func select(_ name: MailboxName, _ params: SelectParameters, readOnly: Bool, tag: String, out: ResponseWriter) throws -> Next {
        let account = try authenticatedAccount()
        if params.qresync != nil && !qresync { throw IMAPError.bad("ENABLE QRESYNC first") }
        if params.condstore { enabled.insert("CONDSTORE") }
        let wasSelected = selected != nil
        deselect()
        if wasSelected { out.write(.untagged(.ok, code: "CLOSED", "Previous mailbox closed")) }
        let decoded = try mailboxName(name)
        let mailbox: MailboxRecord, uids: [Int64]
        if let record = try env.store.mailbox(accountID: account.id, name: decoded),
            let cached = env.uidLists.uids(record.id, modseq: record.highestModseq)
        {
            (mailbox, uids) = (record, cached)
        } else {
            guard let opened = try env.store.openMailbox(accountID: account.id, name: decoded) else {
                throw IMAPError.no("NONEXISTENT", "Mailbox \(decoded) does not exist")
            }
            (mailbox, uids) = opened
            env.uidLists.store(mailbox.id, modseq: mailbox.highestModseq, uids)
        }
        let callback = onMailboxChange
        let token = env.store.changes.subscribe(mailbox: mailbox.id) { callback?() }
        var sel = SelectedMailbox(
            id: mailbox.id, name: mailbox.name, readOnly: readOnly, uids: uids, modseq: mailbox.highestModseq, keywords: mailbox.keywords,
            token: token)
        let flags = Self.systemFlags + mailbox.keywords
        out.write(.flags(flags))
        out.write(.untagged(.ok, code: Self.permanentFlagsCode(readOnly ? [] : flags + ["\\*"]), "Flags permitted"))
        out.write(.exists(uids.count))
        takeRecent(into: &sel, through: uids.last ?? 0, after: 0, claimedUpTo: mailbox.recentUID)
        enterSelected(sel)
        if !rev2 {
            out.write(.recent(sel.recentCount))
            // IMAP4rev1 clients open the mailbox at the first unseen message (RFC 3501 §6.3.1);
            // RFC 9051 dropped it.
            if let unseen = try env.store.firstUnseenUID(mailboxID: mailbox.id), let msn = sel.msn(of: unseen) {
                out.write(.untagged(.ok, code: "UNSEEN \(msn)", "First unseen"))
            }
        }
        out.write(.untagged(.ok, code: "UIDVALIDITY \(mailbox.uidValidity)", "UIDs valid"))
        out.write(.untagged(.ok, code: "UIDNEXT \(mailbox.uidNext)", "Predicted next UID"))
        out.write(.untagged(.ok, code: "HIGHESTMODSEQ \(sel.modseq)", "Highest"))
        if rev2 { out.write(.list([], wireName(mailbox.name))) }
        if let q = params.qresync, q.uidValidity == mailbox.uidValidity {
            try resync(q, states: try env.store.messageStates(mailboxID: mailbox.id), in: sel, out: out)
        }
        if readOnly { return ok(tag, code: "READ-ONLY", "EXAMINE completed", out: out) }
        return ok(tag, code: "READ-WRITE", "SELECT completed", out: out)
    }

    /// Makes the messages above `after`, up to `top`, that no session was shown as \Recent yet
    /// recent in this one (`claimedUpTo`: the mailbox's mark as last read). SELECT takes them
    /// from every other session; EXAMINE only looks, as RFC 3501 §6.3.2 asks.
    func takeRecent(into sel: inout SelectedMailbox, through top: Int64, after known: Int64, claimedUpTo: Int64) {
        guard top > claimedUpTo, top > known else { return }
        var from = claimedUpTo
        if !sel.readOnly {
            // A failed write costs only the flag: nothing is shown as recent.
            guard let claimed = try? env.store.claimRecent(mailboxID: sel.id, through: top) else { return }
            from = claimed
        }
        from = max(from, known)
        if from < top { sel.recent.append((from + 1)...top) }
    }

    /// A message's flags as this session shows them: with \Recent for an IMAP4rev1 client.
    func flagList(_ flags: [String], uid: Int64, in sel: SelectedMailbox) -> [String] {
        guard !rev2, sel.isRecent(uid) else { return flags }
        return flags + ["\\Recent"]
    }

    /// QRESYNC on SELECT (RFC 7162 §3.2.5): what was expunged and what changed since the
    /// client's MODSEQ.
    func resync(_ q: QResync, states: [MessageState], in sel: SelectedMailbox, out: ResponseWriter) throws {
        let largest = UInt32(clamping: sel.uids.last ?? 0)
        var vanished = try env.store.expungedSince(mailboxID: sel.id, modseq: Int64(q.modseq))
        if let known = q.knownUIDs {
            let ranges = known.resolve(largest: UInt32(clamping: max(Int64(largest), vanished.last ?? 0)))
            vanished = vanished.filter { v in ranges.contains { $0.contains(UInt32(clamping: v)) } }
        }
        if !vanished.isEmpty {
            out.write(.vanished(earlier: true, vanished.map { UInt32(clamping: $0) }))
        }
        for (i, m) in states.enumerated() where m.modseq > Int64(q.modseq) {
            if let known = q.knownUIDs, !known.contains(UInt32(clamping: m.uid), largest: largest) { continue }
            out.write(.flagUpdate(i + 1, uid: m.uid, flags: flagList(m.flags, uid: m.uid, in: sel), modseq: m.modseq))
        }
    }

    func create(_ name: MailboxName, _ uses: [String], tag: String, out: ResponseWriter) throws -> Next {
        let account = try authenticatedAccount()
        let decoded = try mailboxName(name)
        guard decoded != "INBOX" else { throw IMAPError.no("ALREADYEXISTS", "INBOX always exists") }
        let allowed = ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"]
        var use: String?
        for u in uses {
            guard let known = allowed.first(where: { $0.caseInsensitiveCompare(u) == .orderedSame }), known != "\\All", known != "\\Flagged" else {
                throw IMAPError.no("USEATTR", "\(u) cannot be given to a mailbox here")
            }
            guard use == nil else { throw IMAPError.no("USEATTR", "one special use per mailbox") }
            use = known
        }
        try env.store.createMailbox(accountID: account.id, name: decoded, specialUse: use)
        return ok(tag, "CREATE completed", out: out)
    }

    func delete(_ name: MailboxName, tag: String, out: ResponseWriter) throws -> Next {
        let account = try authenticatedAccount()
        let decoded = try mailboxName(name)
        if selected?.name == decoded { deselect() }
        try env.store.deleteMailbox(accountID: account.id, name: decoded)
        env.delivery.forgetUsage(of: account.id)
        return ok(tag, "DELETE completed", out: out)
    }

    func rename(_ from: MailboxName, _ to: MailboxName, tag: String, out: ResponseWriter) throws -> Next {
        let account = try authenticatedAccount()
        let old = try mailboxName(from), new = try mailboxName(to)
        guard new != "INBOX", !new.hasPrefix(old + "/") else { throw IMAPError.no("CANNOT", "Cannot rename \(old) to \(new)") }
        try env.store.renameMailbox(accountID: account.id, from: old, to: new)
        updateSelected { sel in
            if sel.name == old || sel.name.hasPrefix(old + "/") { sel.name = new + sel.name.dropFirst(old.count) }
        }
        return ok(tag, "RENAME completed", out: out)
    }

    // MARK: LIST

    /// Whether `name` matches a LIST pattern: `*` matches anything, `%` anything but "/".
    static func matches(_ name: String, pattern: String) -> Bool {
        let n = Array(name.unicodeScalars), p = Array(pattern.unicodeScalars)
        // match[j]: the first i characters of the name match the first j of the pattern.
        var row = [Bool](repeating: false, count: p.count + 1)
        row[0] = true
        for j in p.indices where p[j] == "*" || p[j] == "%" { row[j + 1] = row[j] } 
        for j in p.indices where !(p[j] == "*" || p[j] == "%") {
            for k in (j + 1)...p.count { row[k] = false }
            break
        }
        for c in n {
            var next = [Bool](repeating: false, count: p.count + 1)
            for j in p.indices {
                switch p[j] {
                case "*": next[j + 1] = next[j] || row[j + 1] || row[j]
                case "%": next[j + 1] = next[j] || (c != "/" && (row[j + 1] || row[j]))
                default: next[j + 1] = row[j] && p[j] == c
                }
            }
            row = next
        }
        return row[p.count]
    }

    func list(_ list: ListCommand, tag: String, out: ResponseWriter) throws -> Next {
        let accountID = try authenticatedAccount().id
        let reference = try decodePattern(list.reference)
        let patterns = try list.patterns.map { reference + (try decodePattern($0)) }
        if patterns == [""] || (list.patterns.count == 1 && list.patterns[0].bytes.isEmpty) {
            out.write(.list(["\\Noselect"], wireName("")))
            return ok(tag, "LIST completed", out: out)
        }
        let select = Set(list.selectOptions)
        let ret = Set(list.returnOptions)
        let mailboxes = try env.store.mailboxes(accountID: accountID)
        let subscribed = try env.store.subscriptions(accountID: accountID)
        let records = Dictionary(mailboxes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let matched = { (name: String) in Self.matches(name, patterns: patterns) }
        // What the selection options ask for, besides the patterns: each one a mailbox meets.
        let criteria = ["SUBSCRIBED", "SPECIAL-USE"].filter(select.contains)
        func meets(_ name: String) -> [String] {
            criteria.filter { $0 == "SUBSCRIBED" ? subscribed.contains(name) : records[name]?.specialUse != nil }
        }
        func isSelected(_ name: String) -> Bool { meets(name).count == criteria.count }
        // Candidates: existing mailboxes, and subscribed names whether they exist or not.
        var names = Set(records.keys)
        if select.contains("SUBSCRIBED") { names.formUnion(subscribed) }
        // RECURSIVEMATCH (RFC 5258 §3.5): a matching parent that is not selected itself, with a
        // selected descendant the patterns do not match, is listed with CHILDINFO naming the
        // criteria that descendant meets.
        var childInfo: [String: Set<String>] = [:]
        if select.contains("RECURSIVEMATCH") {
            for name in names where isSelected(name) && !matched(name) {
                var parent = Substring(name)
                while let slash = parent.lastIndex(of: "/") {
                    parent = parent[..<slash]
                    childInfo[String(parent), default: []].formUnion(meets(name))
                }
            }
            names.formUnion(childInfo.keys)
        }
        let wantsSubscribed = select.contains("SUBSCRIBED") || ret.contains("SUBSCRIBED")
        for name in names.sorted() where matched(name) {
            let selectedHere = isSelected(name)
            guard selectedHere || childInfo[name] != nil else { continue }
            let record = records[name]
            var attributes: [String] = []
            if record == nil { attributes.append("\\NonExistent") }
            // Children that exist: a subscription to a missing mailbox is nobody's child.
            attributes.append(records.keys.contains { $0.hasPrefix(name + "/") } ? "\\HasChildren" : "\\HasNoChildren")
            if let use = record?.specialUse { attributes.append(use) }
            if wantsSubscribed && subscribed.contains(name) { attributes.append("\\Subscribed") }
            out.write(.list(attributes, wireName(name), childInfo: selectedHere ? [] : (childInfo[name]?.sorted() ?? [])))
            if let items = list.returnStatus, let record, selectedHere {
                try writeStatus(record, items, out: out)
            }
        }
        return ok(tag, "LIST completed", out: out)
    }

    /// Whether `name` matches any of the patterns, INBOX in any case.
    static func matches(_ name: String, patterns: [String]) -> Bool {
        patterns.contains { matches(name, pattern: $0) || (name.hasPrefix("INBOX") && matches(name, pattern: inboxCase($0))) }
    }

    /// A pattern whose first level is "inbox" in any case, with INBOX as stored.
    static func inboxCase(_ pattern: String) -> String {
        guard pattern.count >= 5, pattern.prefix(5).caseInsensitiveCompare("INBOX") == .orderedSame else { return pattern }
        return "INBOX" + pattern.dropFirst(5)
    }

    func decodePattern(_ name: MailboxName) throws -> String {
        if name.bytes.contains(where: { $0 >= 0x80 }) || utf8Names {
            guard let s = String(validating: name.bytes, as: UTF8.self) else { throw IMAPError.bad("Pattern is not valid UTF-8") }
            return s
        }
        guard let s = ModifiedUTF7.decode(String(decoding: name.bytes, as: UTF8.self)) else { throw IMAPError.bad("Pattern is not valid modified UTF-7") }
        return s
    }

    func lsub(_ reference: MailboxName, _ pattern: MailboxName, tag: String, out: ResponseWriter) throws -> Next {
        let account = try authenticatedAccount()
        let full = [try decodePattern(reference) + (try decodePattern(pattern))]
        let names = Set(try env.store.mailboxes(accountID: account.id).map(\.name))
        let subscribed = try env.store.subscriptions(accountID: account.id)
        // A parent that is not subscribed, of a subscribed mailbox the pattern does not reach
        // (`%` stops at "/"), is listed as \Noselect (RFC 3501 §6.3.9).
        var parents: Set<String> = []
        for s in subscribed where !Self.matches(s, patterns: full) {
            var parent = Substring(s)
            while let slash = parent.lastIndex(of: "/") {
                parent = parent[..<slash]
                if !subscribed.contains(String(parent)) { parents.insert(String(parent)) }
            }
        }
        for s in subscribed.union(parents).sorted() where Self.matches(s, patterns: full) {
            let selectable = names.contains(s) && !parents.contains(s)
            out.write(.lsub(selectable ? [] : ["\\Noselect"], wireName(s)))
        }
        return ok(tag, "LSUB completed", out: out)
    }

    func status(_ name: MailboxName, _ items: [StatusAttribute], tag: String, out: ResponseWriter) throws -> Next {
        try requireAuthenticated()
        let mailbox = try existingMailbox(name)
        try writeStatus(mailbox, items, out: out)
        return ok(tag, "STATUS completed", out: out)
    }

    func writeStatus(_ mailbox: MailboxRecord, _ items: [StatusAttribute], out: ResponseWriter) throws {
        let counts = try env.store.mailboxCounts(mailboxID: mailbox.id)
        let recent = items.contains(.recent) ? try env.store.unclaimedRecent(mailbox) : 0
        let values = items.map { item -> IMAPResponse.StatusItem in
            let v: Int64
            switch item {
            case .messages: v = Int64(counts.messages)
            case .recent: v = Int64(recent)
            case .uidNext: v = Int64(mailbox.uidNext)
            case .uidValidity: v = Int64(mailbox.uidValidity)
            case .unseen: v = Int64(counts.unseen)
            case .deleted: v = Int64(counts.deleted)
            case .size: v = counts.size
            case .highestModseq: v = Int64(mailbox.highestModseq)
            case .appendLimit: v = Int64(env.limits.maxAppendSize)
            }
            return IMAPResponse.StatusItem(attribute: item, value: v)
        }
        out.write(.status(wireName(mailbox.name), values))
    }

    func append(_ name: MailboxName, _ flags: [String], _ date: Date?, _ message: [UInt8], tag: String, out: ResponseWriter) throws -> Next {
        let account = try authenticatedAccount()
        let decoded = try mailboxName(name)
        guard let mailbox = try env.store.mailbox(accountID: account.id, name: decoded) else {
            throw IMAPError.no("TRYCREATE", "Mailbox \(decoded) does not exist; create it first")
        }
        guard message.count <= env.limits.maxAppendSize else {
            throw IMAPError.no("TOOBIG", "Message larger than the limit of \(env.limits.maxAppendSize) octets")
        }
        let (validity, uid) = try env.delivery.append(
            message, to: mailbox.id, accountID: account.id, quota: quota, flags: flags.filter { $0 != "\\Recent" },
            internalDate: date ?? Date())
        return appended(to: mailbox, account: account, validity: validity, uid: uid, tag: tag, out: out)
    }

    /// A message was appended (held in memory or streamed to a file): the client hears of it.
    func appended(to mailbox: MailboxRecord, account: AccountRecord, validity: Int64, uid: Int64, tag: String, out: ResponseWriter) -> Next {
        // A message a client files in Junk itself (a client-side filter, or a MOVE emulated by
        // APPEND) teaches spam.
        if mailbox.specialUse == "\\Junk" {
            env.delivery.junkTrainer.learn([.init(accountID: account.id, mailboxID: mailbox.id, uid: uid, junkClass: .spam)])
        }
        reportChanges(out: out, expunges: true)
        return ok(tag, code: "APPENDUID \(validity) \(uid)", "APPEND completed", out: out)
    }

    // MARK: Quota (RFC 9208): one root per account, "", with the account's storage quota.

    func getQuota(_ root: String, tag: String, out: ResponseWriter) throws -> Next {
        let account = try authenticatedAccount()
        guard root.isEmpty, quota > 0 else { throw IMAPError.no("NONEXISTENT", "No such quota root") }
        writeQuota(account, out: out)
        return ok(tag, "GETQUOTA completed", out: out)
    }

    func getQuotaRoot(_ name: MailboxName, tag: String, out: ResponseWriter) throws -> Next {
        let account = try authenticatedAccount()
        let mailbox = try existingMailbox(name)
        let limited = quota > 0
        out.write(.quotaRoot(wireName(mailbox.name), roots: limited ? [""] : []))
        if limited { writeQuota(account, out: out) }
        return ok(tag, "GETQUOTAROOT completed", out: out)
    }

    func writeQuota(_ account: AccountRecord, out: ResponseWriter) {
        let used = env.delivery.usage(of: account.id)
        out.write(.quota(root: "", [IMAPResponse.QuotaResource(name: "STORAGE", usage: Int64((used + 1023) / 1024), limit: Int64(quota / 1024))]))
    }
}
