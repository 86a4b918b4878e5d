import Foundation

/// The resolver's cache: one entry per (lowercased name, type), kept for the smallest TTL of
/// the RRset (RFC 2181 §5.2), negative entries per RFC 2308. Failures are never cached. A value
/// type; the resolver guards it with a mutex and passes in the time.
struct DNSCache {
    struct Key: Hashable {
        var name: DNSName
        var type: DNSRecordType

        init(_ name: DNSName, _ type: DNSRecordType) {
            self.name = name.lowercased
            self.type = type
        }
    }

    enum Value: Equatable {
        case records([DNSRecord], authenticData: Bool)
        /// A CNAME at this name: continue with the target.
        case alias(DNSName, authenticData: Bool)
        case nameError
        case noData(authenticData: Bool)
    }

    private struct Entry {
        var value: Value
        var expires: Date
    }

    private var entries: [Key: Entry] = [:]
    let capacity: Int

    init(capacity: Int = DNSLimits.cacheCapacity) { self.capacity = capacity }

    var count: Int { entries.count }

    /// The entry, with record TTLs lowered to the time left; nil when absent or expired.
    mutating func get(_ key: Key, now: Date) -> Value? {
        guard let entry = entries[key] else { return nil }
        let left = entry.expires.timeIntervalSince(now)
        guard left > 0 else {
            entries[key] = nil
            return nil
        }
        guard case .records(var records, let ad) = entry.value else { return entry.value }
        let ttl = UInt32(left.rounded(.up))
        for i in records.indices { records[i].ttl = min(records[i].ttl, ttl) }
        return .records(records, authenticData: ad)
    }

    /// Keeps `value` for `ttl` seconds (capped); a TTL of 0 is not cached (RFC 1035 §3.2.1).
    mutating func set(_ key: Key, _ value: Value, ttl: UInt32, now: Date) {
        let capped = min(ttl, DNSLimits.maxCacheTTL)
        guard capped > 0, capacity > 0 else { return }
        if entries[key] == nil, entries.count >= capacity {
            entries = entries.filter { $0.value.expires > now }
            while entries.count >= capacity, let victim = entries.keys.randomElement() { entries[victim] = nil }
        }
        entries[key] = Entry(value: value, expires: now.addingTimeInterval(TimeInterval(capped)))
    }
}
