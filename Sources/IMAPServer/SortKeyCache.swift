import IMAP
import Synchronization

/// What SORT and THREAD compare of each message, and their last answers, shared by every
/// session. A message's bytes never change and UIDs are never reused, so the keys of
/// (mailbox, UID) stay right for as long as the message exists: a client that sorts on every
/// page view (webmail opens a connection per request) pays for reading and parsing the
/// envelopes once, then only for new mail.
///
/// For the same reason an answer stays right for any subset of the messages it ordered: a
/// SORT by the same criteria over messages that were all in the last one's is that order with
/// the others left out (ties fall back to UID order, which a subset keeps), and a THREAD over
/// exactly the same messages is the same threads. Like Dovecot's sort and thread indexes,
/// this makes a repeated SORT or THREAD cost a pass over the answer; after new mail the next
/// SORT merges the new messages in and the next THREAD computes again from the kept keys.
/// About `capacity` bytes are kept, by the estimate in ``Mailbox/bytes`` (a 100,000-message
/// mailbox with every kind of key and answer, about 50 MB); the mailboxes sorted longest ago
/// go first, and the one just used stays even when it alone is bigger.
final class SortKeyCache: Sendable {
    struct Basics {
        var arrival: Double
        var date: Double
        var size: Int
    }

    /// What THREAD reads of a message; `references` is nil until THREAD=REFERENCES read them.
    struct ThreadKeys {
        var messageID: String?
        var references: [String]?
        var baseSubject: String
        var isReplyOrForward: Bool
        var date: Double
        /// Bytes held, roughly: the entry, and the IDs (most are too long for a small string).
        var bytes: Int { 96 + 48 * (references?.count ?? 0) }
    }

    /// A THREAD answer, numbered by UID, and the UIDs (ascending) it threaded.
    struct Threads {
        var uids: [Int64]
        var forest: ThreadForest
    }

    struct Mailbox {
        var basics: [Int64: Basics] = [:]
        /// Per string key (SUBJECT, FROM, ...), computed the first time a SORT needs it.
        var strings: [SortCriterion.Key: [Int64: [UInt8]]] = [:]
        var threadKeys: [Int64: ThreadKeys] = [:]
        /// The last SORT answer per criteria (UIDs in sort order), a few criteria at a time.
        var orders: [[SortCriterion]: (uids: [Int64], lastUse: UInt64)] = [:]
        var threads: [ThreadAlgorithm: Threads] = [:]
        var lastUse: UInt64 = 0
        /// The thread keys' ``ThreadKeys/bytes``, kept as they are stored.
        var threadKeyBytes = 0
        /// Bytes held, roughly: dictionary entries with their keys, arrays of UIDs, the keys'
        /// bytes.
        var bytes: Int {
            basics.count * 64 + strings.values.reduce(0) { $0 + $1.count * 80 } + threadKeyBytes
                + orders.values.reduce(0) { $0 + $1.uids.count * 8 } + threads.values.reduce(0) { $0 + $1.uids.count * 56 }
        }
    }

    /// Criteria lists whose orders are kept per mailbox, the ones used longest ago dropped
    /// first. A client sorts by the column its user chose; a webmail's columns (date, arrival,
    /// from, to, cc, subject, size), each either way, are 14 lists. With 8, a user who went
    /// through them all (or a client that checks several) found the ones used first
    /// recomputed. Their bytes count in `capacity` like the rest (a 100,000-message
    /// mailbox's order is 0.8 MB).
    static let ordersPerMailbox = 16

    struct State {
        var mailboxes: [Int64: Mailbox] = [:]
        var clock: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 64 << 20) {
        self.capacity = capacity
    }

    static let stringKeys: [SortCriterion.Key] = [.subject, .from, .to, .cc, .displayFrom, .displayTo]

    /// Fills `records` (UIDs in `uids`, same order) from the cache; returns the indices of the
    /// records it could not fill with every key in `keys`.
    func fill(_ records: inout [SortRecord], uids: [Int64], mailbox: Int64, keys: Set<SortCriterion.Key>) -> [Int] {
        state.withLock { s in
            s.clock += 1
            guard var m = s.mailboxes[mailbox] else { return Array(records.indices) }
            m.lastUse = s.clock
            let tables = Self.stringKeys.filter(keys.contains).map { ($0, m.strings[$0] ?? [:]) }
            var missing: [Int] = []
            for (i, uid) in uids.enumerated() where !Self.fill(&records[i], uid: uid, basics: m.basics, tables) {
                missing.append(i)
            }
            s.mailboxes[mailbox] = m
            return missing
        }
    }

    /// Runs `body` with a lookup of cached records by UID (nil for a message without every key
    /// in `keys`), under one hold of the lock.
    func withRecords<R>(mailbox: Int64, keys: Set<SortCriterion.Key>, _ body: ((Int64) -> SortRecord?) -> R) -> R {
        state.withLock { s in
            s.clock += 1
            s.mailboxes[mailbox]?.lastUse = s.clock
            let m = s.mailboxes[mailbox] ?? Mailbox()
            let tables = Self.stringKeys.filter(keys.contains).map { ($0, m.strings[$0] ?? [:]) }
            return body { uid in
                var r = SortRecord(number: 0)
                return Self.fill(&r, uid: uid, basics: m.basics, tables) ? r : nil
            }
        }
    }

    /// Sets `record`'s keys from the cache; false when one is missing.
    private static func fill(
        _ record: inout SortRecord, uid: Int64, basics: [Int64: Basics], _ tables: [(SortCriterion.Key, [Int64: [UInt8]])]
    ) -> Bool {
        guard let b = basics[uid] else { return false }
        record.arrival = b.arrival
        record.date = b.date
        record.size = b.size
        for (key, table) in tables {
            guard let value = table[uid] else { return false }
            record[key] = value
        }
        return true
    }

    /// Keeps the keys of `records[indices]` (UIDs in `uids`), then trims the cache to capacity.
    func store(_ records: [SortRecord], uids: [Int64], indices: [Int], mailbox: Int64, keys: Set<SortCriterion.Key>) {
        let wanted = Self.stringKeys.filter(keys.contains)
        update(mailbox) { m, _ in
            // Table by table, room made first: a first SORT stores a key per message.
            m.basics.reserveCapacity(m.basics.count + indices.count)
            for i in indices {
                let r = records[i]
                m.basics[uids[i]] = Basics(arrival: r.arrival, date: r.date, size: r.size)
            }
            for key in wanted {
                var table = m.strings.removeValue(forKey: key) ?? [:]
                table.reserveCapacity(table.count + indices.count)
                for i in indices { table[uids[i]] = records[i][key] }
                m.strings[key] = table
            }
        }
    }

    /// Changes a mailbox's entry (made if new) and marks it just used, then trims the cache.
    private func update(_ mailbox: Int64, _ change: (inout Mailbox, _ now: UInt64) -> Void) {
        state.withLock { s in
            s.clock += 1
            var m = s.mailboxes.removeValue(forKey: mailbox) ?? Mailbox()
            m.lastUse = s.clock
            change(&m, s.clock)
            s.mailboxes[mailbox] = m
            trim(&s)
        }
    }

    /// The last SORT answer by `criteria` in the mailbox, as UIDs in sort order.
    func order(mailbox: Int64, criteria: [SortCriterion]) -> [Int64]? {
        state.withLock { s in
            guard s.mailboxes[mailbox]?.orders[criteria] != nil else { return nil }
            s.clock += 1
            s.mailboxes[mailbox]?.lastUse = s.clock
            s.mailboxes[mailbox]?.orders[criteria]?.lastUse = s.clock
            return s.mailboxes[mailbox]?.orders[criteria]?.uids
        }
    }

    func storeOrder(_ uids: [Int64], mailbox: Int64, criteria: [SortCriterion]) {
        update(mailbox) { m, now in
            if m.orders[criteria] == nil, m.orders.count >= Self.ordersPerMailbox,
                let oldest = m.orders.min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                m.orders[oldest.key] = nil
            }
            m.orders[criteria] = (uids, now)
        }
    }

    /// The last THREAD answer by `algorithm` in the mailbox, if it threaded exactly `uids`.
    func threads(mailbox: Int64, algorithm: ThreadAlgorithm, uids: [Int64]) -> ThreadForest? {
        state.withLock { s in
            guard let t = s.mailboxes[mailbox]?.threads[algorithm], t.uids == uids else { return nil }
            return t.forest
        }
    }

    /// Fills the thread keys of `uids` it holds (with References when `references`); returns
    /// the indices of those it does not.
    func fillThreadKeys(
        _ messages: inout [ThreadMessage], uids: [Int64], mailbox: Int64, references: Bool
    ) -> [Int] {
        state.withLock { s in
            guard let m = s.mailboxes[mailbox] else { return Array(messages.indices) }
            var missing: [Int] = []
            for (i, uid) in uids.enumerated() {
                guard let k = m.threadKeys[uid], !references || k.references != nil else {
                    missing.append(i)
                    continue
                }
                messages[i].messageID = k.messageID
                messages[i].references = k.references ?? []
                messages[i].baseSubject = k.baseSubject
                messages[i].isReplyOrForward = k.isReplyOrForward
                messages[i].date = k.date
            }
            return missing
        }
    }

    /// Keeps the thread keys of `messages[indices]` and, when given, the answer over all of them.
    func storeThreads(
        _ messages: [ThreadMessage], uids: [Int64], indices: [Int], references: Bool, mailbox: Int64,
        answer: (ThreadAlgorithm, ThreadForest)?
    ) {
        update(mailbox) { m, _ in
            for i in indices {
                let t = messages[i]
                let keys = ThreadKeys(
                    messageID: t.messageID, references: references ? t.references : nil, baseSubject: t.baseSubject,
                    isReplyOrForward: t.isReplyOrForward, date: t.date)
                m.threadKeyBytes += keys.bytes - (m.threadKeys.updateValue(keys, forKey: uids[i])?.bytes ?? 0)
            }
            if let (algorithm, forest) = answer { m.threads[algorithm] = Threads(uids: uids, forest: forest) }
        }
    }

    /// Drops the mailboxes used longest ago, but not the one just used, until about
    /// `capacity` bytes are kept.
    private func trim(_ s: inout State) {
        var total = s.mailboxes.values.reduce(0) { $0 + $1.bytes }
        while total > capacity,
            let oldest = s.mailboxes.filter({ $0.value.lastUse != s.clock }).min(by: { $0.value.lastUse < $1.value.lastUse })
        {
            total -= oldest.value.bytes
            s.mailboxes[oldest.key] = nil
        }
    }
}

/// Where each UID of an ascending list stands in it: an array over the UID range when the
/// UIDs are dense (a mailbox's usually are), a dictionary when they are sparse.
struct UIDPositions {
    private let low: Int64
    private let dense: [Int32]
    private let sparse: [Int64: Int]

    init(_ uids: [Int64]) {
        let low = uids.first ?? 0
        let span = (uids.last ?? low) - low + 1
        self.low = low
        if !uids.isEmpty, span <= 4 * Int64(uids.count) + 1024 {
            var dense = [Int32](repeating: -1, count: Int(span))
            for (i, uid) in uids.enumerated() { dense[Int(uid - low)] = Int32(i) }
            self.dense = dense
            sparse = [:]
        } else {
            dense = []
            var sparse: [Int64: Int] = [:]
            sparse.reserveCapacity(uids.count)
            for (i, uid) in uids.enumerated() { sparse[uid] = i }
            self.sparse = sparse
        }
    }

    subscript(uid: Int64) -> Int? {
        if dense.isEmpty { return sparse[uid] }
        let offset = uid - low
        guard offset >= 0, offset < dense.count, dense[Int(offset)] >= 0 else { return nil }
        return Int(dense[Int(offset)])
    }
}
