import IMAP
import Synchronization

/// What SORT compares of each message, shared by every session. A message's bytes never
/// change and UIDs are never reused, so the keys of (mailbox, UID) stay right for as long as
/// the message exists: a client that sorts on every page view (webmail opens a connection per
/// request) pays for reading and parsing the envelopes once, then only for new mail. Keys of
/// at most `capacity` messages are kept; the mailboxes sorted longest ago go first.
final class SortKeyCache: Sendable {
    struct Basics {
        var arrival: Double
        var date: Double
        var size: Int
    }

    struct Mailbox {
        var basics: [Int64: Basics] = [:]
        /// Per string key (SUBJECT, FROM, ...), computed the first time a SORT needs it.
        var strings: [SortCriterion.Key: [Int64: [UInt8]]] = [:]
        var lastUse: UInt64 = 0
        var count: Int { basics.count + strings.values.reduce(0) { $0 + $1.count } }
    }

    struct State {
        var mailboxes: [Int64: Mailbox] = [:]
        var clock: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 1_000_000) {
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
            let wanted = Self.stringKeys.filter(keys.contains)
            var missing: [Int] = []
            for (i, uid) in uids.enumerated() {
                guard let b = m.basics[uid] else {
                    missing.append(i)
                    continue
                }
                records[i].arrival = b.arrival
                records[i].date = b.date
                records[i].size = b.size
                for key in wanted {
                    guard let value = m.strings[key]?[uid] else {
                        missing.append(i)
                        break
                    }
                    records[i][key] = value
                }
            }
            s.mailboxes[mailbox] = m
            return missing
        }
    }

    /// Keeps the keys of `records[indices]` (UIDs in `uids`), then trims the cache to capacity.
    func store(_ records: [SortRecord], uids: [Int64], indices: [Int], mailbox: Int64, keys: Set<SortCriterion.Key>) {
        let wanted = Self.stringKeys.filter(keys.contains)
        state.withLock { s in
            s.clock += 1
            var m = s.mailboxes.removeValue(forKey: mailbox) ?? Mailbox()
            m.lastUse = s.clock
            for i in indices {
                let r = records[i]
                m.basics[uids[i]] = Basics(arrival: r.arrival, date: r.date, size: r.size)
                for key in wanted { m.strings[key, default: [:]][uids[i]] = r[key] }
            }
            s.mailboxes[mailbox] = m
            var total = s.mailboxes.values.reduce(0) { $0 + $1.count }
            while total > capacity, let oldest = s.mailboxes.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                total -= oldest.value.count
                s.mailboxes[oldest.key] = nil
            }
        }
    }
}

extension SortRecord {
    /// The string key a criterion compares.
    subscript(key: SortCriterion.Key) -> [UInt8] {
        get {
            switch key {
            case .subject: return subject
            case .from: return from
            case .to: return to
            case .cc: return cc
            case .displayFrom: return displayFrom
            case .displayTo: return displayTo
            case .arrival, .date, .size: return []
            }
        }
        set {
            switch key {
            case .subject: subject = newValue
            case .from: from = newValue
            case .to: to = newValue
            case .cc: cc = newValue
            case .displayFrom: displayFrom = newValue
            case .displayTo: displayTo = newValue
            case .arrival, .date, .size: break
            }
        }
    }
}
