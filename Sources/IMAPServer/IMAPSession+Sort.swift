import Delivery
import Foundation
import IMAP
import MIME
import MailCore
import Storage

/// SORT and THREAD (RFC 5256), ESORT's answers (RFC 5267), SORT=DISPLAY (RFC 5957). Both run
/// over SEARCH's result; the fields they compare come from the ENVELOPE and Date: instant kept
/// for each message when it was stored, so sorting reads no message (THREAD=REFERENCES reads
/// the headers, for References).
extension IMAPSession {
    func sort(_ cmd: SortCommand, uid: Bool, tag: String, out: ResponseWriter) throws -> Next {
        let (matches, modseq) = try sortAndThreadMatches(cmd.key, charset: cmd.charset, out: out)
        let mailbox = try selectedMailbox().id
        let order = try sortOrder(matches, by: cmd.criteria, mailbox: mailbox)
        let sorted = order.map { uid ? UInt32(clamping: matches[$0].uid) : UInt32(matches[$0].msn) }
        guard let options = cmd.returnOptions else {
            // RFC 7162 §3.1.5: a MODSEQ criterion adds the highest MODSEQ of the result.
            out.write(.sort(sorted, modseq: modseq))
            return ok(tag, "SORT completed", out: out)
        }
        let effective = options.isEmpty ? [.all] : options
        if effective.contains(.save) { updateSelected { $0.saved = matches.map(\.uid) } }
        if effective == [.save] { return ok(tag, "SORT completed, result saved", out: out) }
        // RFC 5267 §3: MIN and MAX are the first and last in sort order; ALL and PARTIAL list
        // the messages in sort order.
        var items: [IMAPResponse.ESearchItem] = []
        for option in effective {
            switch option {
            case .min: if let first = sorted.first { items.append(.min(first)) }
            case .max: if let last = sorted.last { items.append(.max(last)) }
            case .count: items.append(.count(sorted.count))
            case .all: if !sorted.isEmpty { items.append(.all(sorted)) }
            case .partial(let range):
                // partial-range positions are 1-based; beyond the result, the answer is NIL.
                let lo = Int(range.lowerBound) - 1
                let hi = min(Int(range.upperBound), sorted.count)
                items.append(.partial(range, lo < hi ? Array(sorted[lo..<hi]) : []))
            case .save: break
            }
        }
        if let modseq { items.append(.modseq(modseq)) }
        out.write(.esearch(tag: tag, uid: uid, items))
        return ok(tag, "SORT completed", out: out)
    }

    /// The indices of `matches` (in mailbox order) in SORT order by `criteria`, and kept for
    /// the next SORT. The last answer by these criteria serves when it holds every message
    /// asked for; when it holds most, the others are placed in it one by one, reading the keys
    /// of only the messages they are compared with.
    private func sortOrder(
        _ matches: [(msn: Int, uid: Int64)], by criteria: [SortCriterion], mailbox: Int64
    ) throws -> [Int] {
        let uids = matches.map(\.uid)
        let keys = Set(criteria.map(\.key))
        var order: [Int]?
        if let last = env.sortKeys.order(mailbox: mailbox, criteria: criteria) {
            let found = Self.subsetOrder(last, UIDPositions(uids), count: uids.count)
            if found.others.isEmpty { return found.order }
            if found.others.count <= uids.count / 4 {
                // The new messages' keys are read (and cached) first: the rest are in the cache.
                let new = try sortRecords(found.others.map { matches[$0] }, keys: keys, mailbox: mailbox)
                let newAt = Dictionary(uniqueKeysWithValues: zip(found.others, new))
                order = env.sortKeys.withRecords(mailbox: mailbox, keys: keys) { cached in
                    MessageSorter.merge(found.order, with: found.others, by: criteria) { i in
                        newAt[i] ?? cached(uids[i])
                    }
                }
            }
        }
        let sorted = try order ?? MessageSorter.order(sortRecords(matches, keys: keys, mailbox: mailbox), by: criteria)
        if !sorted.isEmpty { env.sortKeys.storeOrder(sorted.map { uids[$0] }, mailbox: mailbox, criteria: criteria) }
        return sorted
    }

    /// The SORT keys of `matches`. Keys other sessions already computed come from the shared
    /// cache; the rest (the first SORT of a mailbox by these keys, or new mail) from the keys
    /// kept for each message, or from its envelope when none are kept.
    private func sortRecords(
        _ matches: [(msn: Int, uid: Int64)], keys: Set<SortCriterion.Key>, mailbox: Int64
    ) throws -> [SortRecord] {
        var envelopes: EnvelopeFields.Parts = []
        if keys.contains(.subject) { envelopes.insert(.subject) }
        if keys.contains(.from) || keys.contains(.displayFrom) { envelopes.insert(.from) }
        if keys.contains(.to) || keys.contains(.displayTo) { envelopes.insert(.to) }
        if keys.contains(.cc) { envelopes.insert(.cc) }
        var records = matches.indices.map { SortRecord(number: UInt32(truncatingIfNeeded: $0)) }
        let uids = matches.map(\.uid)
        let missing = env.sortKeys.fill(&records, uids: uids, mailbox: mailbox, keys: keys)
        if !missing.isEmpty {
            let unkept = try readKeptSortKeys(into: &records, at: missing, of: uids, keys: keys)
            try readSortFields(unkept.map { matches[$0] }, envelopes: envelopes) { j, f in
                let i = unkept[j]
                records[i].arrival = f.internalDate
                records[i].date = f.sentDate ?? f.internalDate
                records[i].size = f.size
                guard let e = f.envelope else { return }
                let k = SortKeys(e)
                for key in keys { records[i][key] = k[key] }
            }
            env.sortKeys.store(records, uids: uids, indices: missing, mailbox: mailbox, keys: keys)
        }
        return records
    }

    /// Fills the records at `indices` (ascending) with the keys kept for their messages
    /// (`uids` holds each record's UID), and returns the indices of those without.
    private func readKeptSortKeys(
        into records: inout [SortRecord], at indices: [Int], of uids: [Int64], keys: Set<SortCriterion.Key>
    ) throws -> [Int] {
        try scanKeptKeys(at: indices, of: uids) { i, row, k in
            records[i].arrival = row.internalDate
            records[i].date = row.sentDate ?? row.internalDate
            records[i].size = Int(row.size)
            for key in keys { records[i][key] = Array(k[key]) }
            return true
        }
    }

    /// Calls `fill` with each of `indices` (ascending; `uids` holds each one's UID) whose
    /// message has kept keys, and returns the indices of those without, or that `fill` could
    /// not fill (false). A UID no longer stored is neither.
    private func scanKeptKeys(
        at indices: [Int], of uids: [Int64], _ fill: (Int, SortKeyRow, SortKeyRow.Keys) -> Bool
    ) throws -> [Int] {
        guard let first = indices.first, let last = indices.last else { return [] }
        var unkept: [Int] = []
        var next = 0
        try env.store.scanSortKeys(mailboxID: try selectedMailbox().id, uids: uids[first], uids[last]) { row in
            // Rows and indices both ascend by UID; a UID not asked for (or expunged) is passed.
            while next < indices.count, uids[indices[next]] < row.uid { next += 1 }
            guard next < indices.count, uids[indices[next]] == row.uid else { return }
            let i = indices[next]
            next += 1
            guard let k = row.keys, fill(i, row, k) else { return unkept.append(i) }
        }
        return unkept
    }

    /// The positions (in `positions`' list) of its UIDs that `kept` holds, in `kept`'s order,
    /// and the positions of those it does not hold, ascending.
    static func subsetOrder(_ kept: [Int64], _ positions: UIDPositions, count: Int) -> (order: [Int], others: [Int]) {
        var order: [Int] = []
        order.reserveCapacity(count)
        var found = [Bool](repeating: false, count: count)
        for uid in kept {
            if let i = positions[uid] {
                order.append(i)
                found[i] = true
            }
        }
        let others = order.count == count ? [] : found.indices.filter { !found[$0] }
        return (order, others)
    }

    func thread(_ cmd: ThreadCommand, uid: Bool, tag: String, out: ResponseWriter) throws -> Next {
        let matches = try sortAndThreadMatches(cmd.key, charset: cmd.charset, out: out).matches
        let mailbox = try selectedMailbox().id
        let uids = matches.map(\.uid)
        // Threads are computed numbered by UID, the numbering they are kept in.
        var threads: ThreadForest
        if let kept = env.sortKeys.threads(mailbox: mailbox, algorithm: cmd.algorithm, uids: uids) {
            threads = kept
        } else {
            threads = try computeThreads(matches, algorithm: cmd.algorithm, mailbox: mailbox)
        }
        if !uid {
            let positions = UIDPositions(uids)
            threads.numbers = threads.numbers.map {
                $0.flatMap { positions[Int64($0)] }.map { UInt32(matches[$0].msn) }
            }
        }
        out.write(.thread(threads))
        return ok(tag, "THREAD completed", out: out)
    }

    /// The threads of `matches` by `algorithm`, numbered by UID; kept, with what they were made
    /// of, for the next THREAD.
    private func computeThreads(
        _ matches: [(msn: Int, uid: Int64)], algorithm: ThreadAlgorithm, mailbox: Int64
    ) throws -> ThreadForest {
        let uids = matches.map(\.uid)
        let references = algorithm == .references
        var messages = uids.map {
            ThreadMessage(
                number: UInt32(clamping: $0), messageID: nil, references: [], baseSubject: "", isReplyOrForward: false,
                date: 0)
        }
        let missing = env.sortKeys.fillThreadKeys(&messages, uids: uids, mailbox: mailbox, references: references)
        let unkept = try readKeptThreadKeys(into: &messages, at: missing, of: uids, references: references)
        try readSortFields(unkept.map { matches[$0] }, envelopes: [.subject]) { j, f in
            let i = unkept[j]
            messages[i].date = f.sentDate ?? f.internalDate
            guard let e = f.envelope else { return }
            let subject = BaseSubject(String(decoding: e.subject ?? [], as: UTF8.self))
            messages[i].baseSubject = String(decoding: Casemap.key(subject.text), as: UTF8.self)
            messages[i].isReplyOrForward = subject.isReplyOrForward
        }
        if references && !unkept.isEmpty {
            // Mail whose thread keys the indexer has not kept yet: read each message's header.
            // Only REFERENCES links by Message-ID, so only it reads them (ORDEREDSUBJECT's keys
            // are kept without, and REFERENCES reads those again).
            let positions = UIDPositions(uids)
            try forEachMessage(unkept.map { uids[$0] }) { d, bytes in
                guard let i = positions[d.uid] else { return }
                (messages[i].messageID, messages[i].references) = MessageIDs.threadIDs(message: bytes)
            }
        }
        let threads = references ? Threader.references(messages) : Threader.orderedSubject(messages)
        env.sortKeys.storeThreads(
            messages, uids: uids, indices: missing, references: references, mailbox: mailbox,
            answer: (algorithm, threads))
        return threads
    }

    /// Fills the messages at `indices` (ascending) with the keys kept for them (`uids` holds
    /// each one's UID), and returns the indices of those without: ORDEREDSUBJECT needs the
    /// SORT keys, REFERENCES also THREAD's (``ThreadKeys``).
    private func readKeptThreadKeys(
        into messages: inout [ThreadMessage], at indices: [Int], of uids: [Int64], references: Bool
    ) throws -> [Int] {
        try scanKeptKeys(at: indices, of: uids) { i, row, k in
            let thread = k.thread.flatMap(ThreadKeys.init(encoded:))
            if references && thread == nil { return false }
            messages[i].date = row.sentDate ?? row.internalDate
            messages[i].baseSubject = String(decoding: k.subject, as: UTF8.self)
            if let thread {
                messages[i].messageID = thread.messageID
                messages[i].references = thread.references
                messages[i].isReplyOrForward = thread.isReplyOrForward
            }
            return true
        }
    }

    /// The messages a SORT or THREAD program selects, in mailbox order, and with a MODSEQ
    /// criterion the highest MODSEQ among them (as SEARCH does).
    private func sortAndThreadMatches(
        _ key: SearchKey, charset: String, out: ResponseWriter
    ) throws -> (matches: [(msn: Int, uid: Int64)], modseq: Int64?) {
        guard ["UTF-8", "US-ASCII"].contains(charset) else {
            throw IMAPError.no("BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset \(charset)")
        }
        var evaluator = SearchEvaluator(session: self, selected: try selectedMailbox())
        let matches = try evaluator.run(key)
        if evaluator.usesModseq { enableCondstore(out: out) }
        return (matches, evaluator.highestModseq(of: matches))
    }

    /// Calls `body` with each message of `uids` (ascending) and its bytes, a few hundred
    /// messages read at a time so that a large mailbox is never in memory at once.
    func forEachMessage(_ uids: [Int64], _ body: (MessageDetail, [UInt8]) throws -> Void) throws {
        for start in stride(from: 0, to: uids.count, by: 500) {
            let chunk = Array(uids[start..<min(uids.count, start + 500)])
            let wanted = Set(chunk)
            for d in try env.store.messageDetails(
                mailboxID: try selectedMailbox().id, uids: chunk[0], chunk[chunk.count - 1], only: chunk, parts: .data,
                include: { wanted.contains($0) })
            {
                try body(d, d.headerPrefix + (try d.inlineData ?? env.delivery.readBlob(d.blobHash)))
            }
        }
    }

    /// What SORT and THREAD compare, as stored for one message.
    struct StoredSortFields {
        var internalDate: Double
        var size: Int
        /// The Date: field's instant, nil without a usable one.
        var sentDate: Double?
        /// Read when asked for; nil if the stored envelope does not parse.
        var envelope: EnvelopeFields?
    }

    /// Calls `body` with each message's index in `matches` and its stored fields. Mail without
    /// them (not indexed yet, or stored before they were kept) is read and parsed instead.
    private func readSortFields(
        _ matches: [(msn: Int, uid: Int64)], envelopes: EnvelopeFields.Parts, _ body: (Int, StoredSortFields) -> Void
    ) throws {
        guard let lo = matches.first?.uid, let hi = matches.last?.uid else { return }
        var index: [Int64: Int] = [:]
        index.reserveCapacity(matches.count)
        for (i, m) in matches.enumerated() { index[m.uid] = i }
        var unindexed: [Int64] = []
        try env.store.scanSortFields(mailboxID: try selectedMailbox().id, uids: lo, hi, envelopes: !envelopes.isEmpty) {
            row in
            guard let i = index[row.uid] else { return }
            guard row.stored else { return unindexed.append(row.uid) }
            let envelope = row.envelope.flatMap { EnvelopeFields(imap: $0, parts: envelopes) }
            body(
                i,
                StoredSortFields(
                    internalDate: row.internalDate, size: Int(row.size), sentDate: row.sentDate, envelope: envelope))
        }
        try forEachMessage(unindexed) { d, bytes in
            guard let i = index[d.uid] else { return }
            let parsed = ParsedMessage(parsing: bytes)
            body(
                i,
                StoredSortFields(
                    internalDate: d.internalDate.timeIntervalSince1970, size: d.size,
                    sentDate: parsed.sentDate?.timeIntervalSince1970, envelope: EnvelopeFields(imap: parsed.envelope()))
            )
        }
    }
}

extension SortKeys {
    /// The key a string criterion compares; nothing for the others.
    subscript(key: SortCriterion.Key) -> [UInt8] {
        switch key {
        case .subject: subject
        case .from: from
        case .to: to
        case .cc: cc
        case .displayFrom: fromName
        case .displayTo: toName
        case .arrival, .date, .size: []
        }
    }
}

extension SortKeyRow.Keys {
    /// The kept key a string criterion compares, as ``SortKeys`` names them; nothing for the
    /// others.
    subscript(key: SortCriterion.Key) -> UnsafeRawBufferPointer {
        switch key {
        case .subject: subject
        case .from: from
        case .to: to
        case .cc: cc
        case .displayFrom: fromName
        case .displayTo: toName
        case .arrival, .date, .size: UnsafeRawBufferPointer(start: nil, count: 0)
        }
    }
}
