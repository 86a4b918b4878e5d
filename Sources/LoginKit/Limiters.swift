import Foundation
import Synchronization

/// Counts connections in total and per client address.
public final class ConnectionLimiter: Sendable {
    private let counts = Mutex<(total: Int, byIP: [String: Int])>((0, [:]))
    let maxTotal: Int
    let maxPerIP: Int

    public init(maxTotal: Int, maxPerIP: Int) {
        self.maxTotal = maxTotal
        self.maxPerIP = maxPerIP
    }

    /// Takes a slot for `ip`; false when a limit is reached. An `exempt` address counts
    /// towards the total only.
    public func acquire(_ ip: String, exempt: Bool = false) -> Bool {
        counts.withLock { c in
            guard c.total < maxTotal, exempt || c.byIP[ip, default: 0] < maxPerIP else { return false }
            c.total += 1
            c.byIP[ip, default: 0] += 1
            return true
        }
    }

    public func release(_ ip: String) {
        counts.withLock { c in
            c.total -= 1
            let n = c.byIP[ip, default: 1] - 1
            c.byIP[ip] = n > 0 ? n : nil
        }
    }
}

/// Failed logins per client address; too many in a window and the address is refused for a
/// while (shared by SMTP and IMAP, so a guesser cannot switch protocols).
public final class AuthLimiter: Sendable {
    private let state = Mutex<[String: (failures: [Date], bannedUntil: Date?)]>([:])
    let maxFailures: Int
    let window: TimeInterval
    let ban: TimeInterval
    let clock: @Sendable () -> Date

    public init(maxFailures: Int, window: TimeInterval = 600, ban: TimeInterval, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.maxFailures = maxFailures
        self.window = window
        self.ban = ban
        self.clock = clock
    }

    public func isBanned(_ ip: String) -> Bool {
        let now = clock()
        return state.withLock { s in
            guard let until = s[ip]?.bannedUntil else { return false }
            if until > now { return true }
            s[ip] = nil
            return false
        }
    }

    public func recordFailure(_ ip: String) {
        let now = clock()
        state.withLock { s in
            var e = s[ip] ?? ([], nil)
            e.failures = e.failures.filter { now.timeIntervalSince($0) < window } + [now]
            if e.failures.count >= maxFailures { e.bannedUntil = now.addingTimeInterval(ban) }
            s[ip] = e
        }
    }

    public func recordSuccess(_ ip: String) {
        state.withLock { s in s[ip]?.failures = [] }
    }

    /// Addresses banned now, for metrics.
    public var bannedCount: Int { bans().count }

    /// The bans in force: each address, until when, and its failures within the window.
    public func bans() -> [(ip: String, until: Date, failures: Int)] {
        let now = clock()
        return state.withLock { s in
            s.compactMap { ip, e in
                guard let until = e.bannedUntil, until > now else { return nil }
                return (ip, until, e.failures.filter { now.timeIntervalSince($0) < window }.count)
            }.sorted { $0.ip < $1.ip }
        }
    }

    /// Lifts the ban on `ip` (and forgets its failures), or on every address when nil; returns
    /// how many bans were lifted.
    @discardableResult
    public func clear(_ ip: String?) -> Int {
        let banned = Set(bans().map(\.ip))
        return state.withLock { s in
            guard let ip else {
                s.removeAll()
                return banned.count
            }
            s[ip] = nil
            return banned.contains(ip) ? 1 : 0
        }
    }
}

/// Whether an address is the local machine's (loopback connections count as secure, as
/// Dovecot's `login_trusted_networks` default does for plaintext logins).
public func isLoopbackAddress(_ ip: String?) -> Bool {
    guard let ip else { return false }
    return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
}
