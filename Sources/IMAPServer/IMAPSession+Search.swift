import Delivery
import Foundation
import IMAP
import MIME
import Storage

/// SEARCH (RFC 9051 §6.4.4) with ESEARCH, SEARCHRES and MODSEQ. Text criteria of three
/// characters or more come from the full-text index (trigrams: a case-insensitive substring
/// match, exactly what IMAP asks); shorter ones and HEADER read the messages.
extension IMAPSession {
    func search(_ cmd: SearchCommand, uid: Bool, tag: String, out: ResponseWriter) throws -> Next {
        let sel = try selectedMailbox()
        if let charset = cmd.charset, !["UTF-8", "US-ASCII"].contains(charset) {
            throw IMAPError.no("BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset \(charset)")
        }
        var evaluator = SearchEvaluator(session: self, selected: sel)
        let matches = try evaluator.run(cmd.key)
        if evaluator.usesModseq { enableCondstore(out: out) }
        let numbers = matches.map { uid ? UInt32(clamping: $0.uid) : UInt32($0.msn) }
        func modseq(of found: ArraySlice<(msn: Int, uid: Int64)>) -> Int64? { evaluator.highestModseq(of: found) }
        let options = cmd.returnOptions ?? (rev2 ? ["ALL"] : nil)
        guard let options else {
            out.write(.search(numbers, modseq: modseq(of: matches[...])))
            return ok(tag, "SEARCH completed", out: out)
        }
        let effective = options.isEmpty ? ["ALL"] : options
        // With only MIN and/or MAX asked for, those messages are what the search returns: what
        // SAVE keeps (RFC 5182 §2.4) and whose MODSEQ is given (RFC 7162 §3.1.5). Matches are
        // in sequence order, which is UID order too: MIN is the first, MAX the last.
        var returned = matches[...]
        if !effective.contains("ALL") && !effective.contains("COUNT") && (effective.contains("MIN") || effective.contains("MAX")) {
            let ends = (effective.contains("MIN") ? Array(matches.prefix(1)) : []) + (effective.contains("MAX") ? Array(matches.suffix(1)) : [])
            returned = ArraySlice(ends.count == 2 && ends[0].uid == ends[1].uid ? [ends[0]] : ends)
        }
        if effective.contains("SAVE") { updateSelected { $0.saved = returned.map(\.uid) } }
        if effective == ["SAVE"] { return ok(tag, "SEARCH completed, result saved", out: out) }
        var items: [IMAPResponse.ESearchItem] = []
        if effective.contains("MIN"), let first = numbers.first { items.append(.min(first)) }
        if effective.contains("MAX"), let last = numbers.last { items.append(.max(last)) }
        if effective.contains("COUNT") { items.append(.count(numbers.count)) }
        if effective.contains("ALL"), !numbers.isEmpty { items.append(.all(numbers)) }
        if let modseq = modseq(of: returned) { items.append(.modseq(modseq)) }
        out.write(.esearch(tag: tag, uid: uid, items))
        return ok(tag, "SEARCH completed", out: out)
    }

    static func uses(_ key: SearchKey, _ test: (SearchKey) -> Bool) -> Bool {
        if test(key) { return true }
        switch key {
        case .and(let keys): return keys.contains { uses($0, test) }
        case .or(let a, let b): return uses(a, test) || uses(b, test)
        case .not(let k): return uses(k, test)
        default: return false
        }
    }
}

/// Evaluates a search key over the messages a session knows, loading only what the key needs.
struct SearchEvaluator {
    let session: IMAPSession
    let selected: SelectedMailbox
    /// Per-message metadata (flags, sizes, dates, MODSEQ), loaded when a key needs it.
    var rows: [Int64: MessageDetail] = [:]
    var usesModseq = false
    /// UIDs matching each text criterion, computed once per criterion.
    var textMatches: [SearchKey: Set<Int64>] = [:]
    /// With a MODSEQ criterion, the highest MODSEQ among `found` (RFC 7162 §3.1.5); else nil.
    func highestModseq(of found: some Sequence<(msn: Int, uid: Int64)>) -> Int64? {
        guard usesModseq else { return nil }
        return found.compactMap { rows[$0.uid]?.modseq }.max()
    }

    /// WITHIN's reference time (RFC 5032 §3): one instant for the whole search.
    let now = Date()

    init(session: IMAPSession, selected: SelectedMailbox) {
        self.session = session
        self.selected = selected
    }

    mutating func run(_ key: SearchKey) throws -> [(msn: Int, uid: Int64)] {
        let needsRows = IMAPSession.uses(key) { k in
            switch k {
            case .flag, .new, .before, .on, .since, .sentBefore, .sentOn, .sentSince, .larger, .smaller, .modseq, .older, .younger: return true
            default: return false
            }
        }
        usesModseq = IMAPSession.uses(key) { if case .modseq = $0 { return true } else { return false } }
        if needsRows {
            let sentDates = IMAPSession.uses(key) { k in
                switch k {
                case .sentBefore, .sentOn, .sentSince: return true
                default: return false
                }
            }
            // Messages the background indexer has not reached have no stored Date: instant
            // yet: it is read from them. Asked before the rows: a message indexed in between
            // then has it one way or the other.
            let waiting = sentDates ? try session.env.store.unindexedUIDs(mailboxID: selected.id) : []
            for r in try session.env.store.searchRows(mailboxID: selected.id) { rows[r.uid] = r }
            if !waiting.isEmpty {
                var read: [Int64: (date: Date, zoneMinutes: Int)?] = [:]
                try forEachParsed(only: waiting) { uid, parsed in read[uid] = parsed.sentDateAndZone }
                for (uid, sent) in read where rows[uid]?.sentDate == nil {
                    rows[uid]?.sentDate = sent?.date
                    rows[uid]?.sentZone = sent?.zoneMinutes
                }
            }
        }
        try prepareText(key)
        var out: [(Int, Int64)] = []
        for (i, uid) in selected.uids.enumerated() where matches(key, msn: i + 1, uid: uid) { out.append((i + 1, uid)) }
        return out
    }

    /// Runs each text criterion once, through the index or by reading messages.
    mutating func prepareText(_ key: SearchKey) throws {
        switch key {
        case .and(let keys): for k in keys { try prepareText(k) }
        case .or(let a, let b):
            try prepareText(a)
            try prepareText(b)
        case .not(let k): try prepareText(k)
        case .subject(let s), .from(let s), .to(let s), .cc(let s), .bcc(let s), .body(let s), .text(let s):
            guard textMatches[key] == nil else { return }
            let fields = Self.fields(key)
            if s.isEmpty, let name = Self.headerName(key) {
                // An empty string finds the messages that have the field (as RFC 3501 §6.4.4
                // says of HEADER): a message without a Subject: has no subject to contain it.
                textMatches[key] = try scan { parsed, _ in
                    parsed.headerFields.contains { $0.name.caseInsensitiveCompare(name) == .orderedSame }
                }
            } else if s.unicodeScalars.count >= 3 {
                // Messages the background indexer has not reached yet are read directly. Asked
                // first: one indexed in between is then found one way or the other.
                let unindexed = try session.env.store.unindexedUIDs(mailboxID: selected.id)
                var found = try session.env.store.textSearch(mailboxID: selected.id, fields: fields, needle: s)
                if !unindexed.isEmpty {
                    found.formUnion(try scan(only: unindexed) { _, text in fields.contains { Self.contains(text.value(of: $0), s) } })
                    if unindexed.count >= Self.unindexedBeforeUrging { session.env.delivery.indexSoon() }
                }
                textMatches[key] = found
            } else {
                textMatches[key] = try scan { _, text in fields.contains { Self.contains(text.value(of: $0), s) } }
            }
        case .header(let name, let s):
            guard textMatches[key] == nil else { return }
            textMatches[key] = try scan { parsed, _ in
                parsed.headerFields.contains { $0.name.caseInsensitiveCompare(name) == .orderedSame && Self.contains(EncodedWord.decode($0.value), s) }
            }
        default: break
        }
    }

    /// Messages read for want of their words that make the indexer stop waiting for a pause
    /// in the mail: about 50 ms of this SEARCH, which the next would spend again.
    static let unindexedBeforeUrging = 500

    static func fields(_ key: SearchKey) -> [SearchText.Field] {
        switch key {
        case .subject: return [.subject]
        case .from: return [.from]
        case .to: return [.to]
        case .cc: return [.cc]
        case .bcc: return [.bcc]
        case .body: return [.body]
        default: return [.headers, .body]
        }
    }

    /// The header field an address or subject criterion searches.
    static func headerName(_ key: SearchKey) -> String? {
        switch key {
        case .subject: return "Subject"
        case .from: return "From"
        case .to: return "To"
        case .cc: return "Cc"
        case .bcc: return "Bcc"
        default: return nil
        }
    }

    static func contains(_ haystack: String, _ needle: String) -> Bool {
        needle.isEmpty || haystack.range(of: needle, options: [.caseInsensitive]) != nil
    }

    /// The UIDs whose message satisfies `test`, reading each message of the mailbox (or only
    /// those of `only`, sorted UIDs).
    func scan(only: [Int64]? = nil, _ test: (ParsedMessage, SearchText) -> Bool) throws -> Set<Int64> {
        var out: Set<Int64> = []
        try forEachParsed(only: only) { uid, parsed in
            if test(parsed, SearchText(parsed.searchFields())) { out.insert(uid) }
        }
        return out
    }

    /// Reads and parses each message of the mailbox (or only those of `only`, sorted UIDs), a
    /// few hundred read at a time: the mail the indexer has not reached can be thousands.
    func forEachParsed(only: [Int64]? = nil, _ body: (Int64, ParsedMessage) throws -> Void) throws {
        let uids = only.map { o in
            let known = Set(selected.uids)
            return o.filter { known.contains($0) }
        }
        try session.forEachMessage(uids ?? selected.uids) { d, bytes in try body(d.uid, ParsedMessage(parsing: bytes)) }
    }

    func matches(_ key: SearchKey, msn: Int, uid: Int64) -> Bool {
        switch key {
        case .all: return true
        case .and(let keys): return keys.allSatisfy { matches($0, msn: msn, uid: uid) }
        case .or(let a, let b): return matches(a, msn: msn, uid: uid) || matches(b, msn: msn, uid: uid)
        case .not(let k): return !matches(k, msn: msn, uid: uid)
        case .flag(let flag, let set):
            guard let r = rows[uid] else { return false }
            return r.flags.contains { $0.caseInsensitiveCompare(flag) == .orderedSame } == set
        case .recent: return selected.isRecent(uid)
        case .new: return selected.isRecent(uid) && matches(.flag("\\Seen", set: false), msn: msn, uid: uid)
        case .old: return !selected.isRecent(uid)
        case .before(let d): return rows[uid].map { Self.day($0.internalDate) < Self.day(d) } ?? false
        case .on(let d): return rows[uid].map { Self.day($0.internalDate) == Self.day(d) } ?? false
        case .since(let d): return rows[uid].map { Self.day($0.internalDate) >= Self.day(d) } ?? false
        case .sentBefore(let d): return rows[uid]?.sentWallClock.map { Self.day($0) < Self.day(d) } ?? false
        case .sentOn(let d): return rows[uid]?.sentWallClock.map { Self.day($0) == Self.day(d) } ?? false
        case .sentSince(let d): return rows[uid]?.sentWallClock.map { Self.day($0) >= Self.day(d) } ?? false
        case .larger(let n): return (rows[uid]?.size ?? 0) > n
        case .smaller(let n): return (rows[uid]?.size ?? Int.max) < n
        case .modseq(let n): return (rows[uid]?.modseq ?? 0) >= Int64(clamping: n)
        // RFC 5032 §3: exact internal dates, at least (OLDER) or less than (YOUNGER) n seconds ago.
        case .older(let n): return rows[uid].map { now.timeIntervalSince($0.internalDate) >= Double(n) } ?? false
        case .younger(let n): return rows[uid].map { now.timeIntervalSince($0.internalDate) < Double(n) } ?? false
        case .uid(let set):
            if case .lastResult = set { return selected.saved.contains(uid) }
            return set.contains(UInt32(clamping: uid), largest: UInt32(clamping: selected.uids.last ?? 0))
        case .sequence(let set):
            if case .lastResult = set { return selected.saved.contains(uid) }
            return set.contains(UInt32(msn), largest: UInt32(selected.uids.count))
        case .subject, .from, .to, .cc, .bcc, .body, .text, .header:
            return textMatches[key]?.contains(uid) ?? false
        }
    }

    /// Days since 1970 in UTC: date criteria compare dates, not times.
    static func day(_ d: Date) -> Int { Int((d.timeIntervalSince1970 / 86400).rounded(.down)) }
}

extension SearchText {
    init(_ f: SearchFields) {
        self.init(subject: f.subject, from: f.from, to: f.to, cc: f.cc, bcc: f.bcc, headers: f.headers, body: f.body)
    }

    func value(of field: Field) -> String {
        switch field {
        case .subject: return subject
        case .from: return from
        case .to: return to
        case .cc: return cc
        case .bcc: return bcc
        case .headers: return headers
        case .body: return body
        }
    }
}
