import Crypto
import Foundation
import MailCore

/// The Sender Rewriting Scheme: a message we forward to another domain (an alias or list
/// member outside, a Sieve redirect) leaves with an envelope sender in the forwarding domain,
/// so that SPF passes at the destination; a bounce to that address is decoded and sent on to
/// the original sender, and one to an address we did not make (a forged or expired hash) is
/// refused. `SRS0=HASH=TT=domain=local@forwarder`; a sender that is already an SRS address of
/// another forwarder becomes `SRS1=HASH=hop==rest@forwarder`, so that it does not grow.
public struct SRS: Sendable {
    let key: SymmetricKey
    /// Bounces come within days; addresses older than this are refused.
    public static let maximumAgeDays = 21

    public init(secret: [UInt8]) { key = SymmetricKey(data: secret) }

    /// The envelope sender for forwarding `sender` through `domain`; nil for the null sender
    /// (bounces are not rewritten).
    public func forward(_ sender: String, via domain: String, now: Date = Date()) -> String? {
        guard !sender.isEmpty, let at = sender.lastIndex(of: "@") else { return nil }
        let local = String(sender[..<at])
        let host = String(sender[sender.index(after: at)...])
        let upper = local.uppercased()
        if upper.hasPrefix("SRS0=") {
            // Another forwarder's address: its host is the hop a bounce goes back to.
            let tail = String(local.dropFirst(4))  // "=HASH=TT=domain=local"
            return "SRS1=\(hash(host + tail))=\(host)=\(tail)@\(domain)"
        }
        if upper.hasPrefix("SRS1=") {
            // Keep the first hop and its part, so that the address does not grow.
            let parts = local.dropFirst(5).split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3, parts[2].hasPrefix("=") {
                return "SRS1=\(hash(parts[1] + parts[2]))=\(parts[1])=\(parts[2])@\(domain)"
            }
        }
        let stamp = Self.timestamp(now)
        return "SRS0=\(hash(stamp + host + local))=\(stamp)=\(host)=\(local)@\(domain)"
    }

    /// Where a bounce to the SRS local part `local` goes: the original sender (SRS0), or the
    /// forwarder before us (SRS1); nil when it is not an address we made, or is too old.
    public func reverse(_ local: String, now: Date = Date()) -> String? {
        let upper = local.uppercased()
        if upper.hasPrefix("SRS0=") {
            let parts = local.dropFirst(5).split(separator: "=", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4, !parts[2].isEmpty, !parts[3].isEmpty, Self.fresh(parts[1], now: now),
                matches(parts[0], parts[1] + parts[2] + parts[3])
            else { return nil }
            return "\(parts[3])@\(parts[2])"
        }
        if upper.hasPrefix("SRS1=") {
            let parts = local.dropFirst(5).split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, !parts[1].isEmpty, parts[2].hasPrefix("="), matches(parts[0], parts[1] + parts[2]) else { return nil }
            return "SRS0\(parts[2])@\(parts[1])"
        }
        return nil
    }

    /// Four base-32 characters of an HMAC-SHA-256 over the lower-cased fields: case does not
    /// survive every mail system.
    func hash(_ text: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(text.lowercased().utf8), using: key)
        return String(Array(mac).prefix(4).map { Self.base32[Int($0 & 31)] })
    }

    func matches(_ given: String, _ text: String) -> Bool {
        // Constant time: a forger learns nothing from how long a refusal takes.
        let want = Array(hash(text).utf8)
        let got = Array(given.lowercased().utf8)
        guard got.count == want.count else { return false }
        return zip(got, want).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static let base32 = Array("abcdefghijklmnopqrstuvwxyz234567")

    /// Days since 1970, modulo 1024, as two base-32 characters.
    static func timestamp(_ date: Date) -> String {
        let days = Int(date.timeIntervalSince1970 / 86400) % 1024
        return String([base32[days / 32], base32[days % 32]])
    }

    static func fresh(_ stamp: String, now: Date) -> Bool {
        let chars = Array(stamp.lowercased())
        guard chars.count == 2, let hi = base32.firstIndex(of: chars[0]), let lo = base32.firstIndex(of: chars[1]) else { return false }
        let today = Int(now.timeIntervalSince1970 / 86400) % 1024
        let age = (today - (hi * 32 + lo) + 1024) % 1024
        return age <= maximumAgeDays
    }
}
