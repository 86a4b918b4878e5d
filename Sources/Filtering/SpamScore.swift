import EmailAuth
import Glibc

/// What the built-in score looks at, gathered by the SMTP server for one message.
public struct SpamFacts: Sendable {
    public var clientIP: String
    public var helo: String
    /// The server's own host name (a client claiming it in HELO is lying).
    public var hostname: String
    public var reverseDNS: ReverseDNS.Result
    public var spf: SPFResult?
    public var dkim: [DKIMResult]
    /// A DKIM pass whose `d=` aligns with the From domain.
    public var alignedDKIMPass: Bool
    public var dmarc: DMARCResult?
    public var hasDate: Bool
    public var hasMessageID: Bool

    public init(
        clientIP: String, helo: String, hostname: String, reverseDNS: ReverseDNS.Result, spf: SPFResult?, dkim: [DKIMResult],
        alignedDKIMPass: Bool, dmarc: DMARCResult?, hasDate: Bool, hasMessageID: Bool
    ) {
        self.clientIP = clientIP
        self.helo = helo
        self.hostname = hostname
        self.reverseDNS = reverseDNS
        self.spf = spf
        self.dkim = dkim
        self.alignedDKIMPass = alignedDKIMPass
        self.dmarc = dmarc
        self.hasDate = hasDate
        self.hasMessageID = hasMessageID
    }
}

/// The built-in spam score: a sum of named rules, each with its points, so that the trace can
/// say exactly what made a message Junk. Positive is spammy.
public struct SpamScore: Hashable, Sendable, CustomStringConvertible {
    public struct Hit: Hashable, Sendable {
        public var rule: String
        public var points: Double
        public var why: String
    }

    public var hits: [Hit] = []
    public var total: Double { hits.reduce(0) { $0 + $1.points } }

    public init(hits: [Hit] = []) { self.hits = hits }

    public mutating func add(_ rule: String, _ points: Double, _ why: String) {
        hits.append(Hit(rule: rule, points: points, why: why))
    }

    /// "3.5 (SPF_FAIL 3, NO_MESSAGE_ID 0.5)".
    public var description: String {
        let parts = hits.map { "\($0.rule) \(Self.format($0.points))" }
        return Self.format(total) + (parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))")
    }

    public static func format(_ points: Double) -> String {
        let rounded = (points * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// The rules (points chosen as mox's and SpamAssassin's orders of magnitude: no single rule
    /// short of an SPF fail makes a message Junk at the default threshold of 5).
    public static func score(_ f: SpamFacts) -> SpamScore {
        var s = SpamScore()
        switch f.reverseDNS {
        case .none: s.add("RDNS_NONE", 1.5, "\(f.clientIP) has no reverse DNS name")
        case .unconfirmed(let names): s.add("RDNS_UNCONFIRMED", 1.0, "\(names.joined(separator: ", ")) does not resolve back to \(f.clientIP)")
        case .confirmed, .unknown: break
        }
        let helo = f.helo.lowercased()
        if helo == f.hostname.lowercased() {
            s.add("HELO_IS_US", 3.0, "the client introduced itself with our own name \(f.helo)")
        } else if SPFAddress(helo) != nil {
            s.add("HELO_BARE_IP", 1.5, "HELO \(f.helo) is an address without brackets (RFC 5321 §4.1.3)")
        } else if helo.hasPrefix("[") {
            if helo != "[\(f.clientIP)]" && helo != "[ipv6:\(f.clientIP)]" {
                s.add("HELO_LITERAL_MISMATCH", 1.0, "HELO \(f.helo) is not the client's address \(f.clientIP)")
            }
        } else if !helo.contains(".") {
            s.add("HELO_NOT_FQDN", 1.0, "HELO \(f.helo) is not a fully qualified name")
        }
        switch f.spf {
        case .fail?: s.add("SPF_FAIL", 3.0, "SPF fail")
        case .softfail?: s.add("SPF_SOFTFAIL", 1.5, "SPF softfail")
        case .permerror?: s.add("SPF_PERMERROR", 0.5, "the sender's SPF record is broken")
        case .pass?: s.add("SPF_PASS", -0.5, "SPF pass")
        default: break
        }
        if f.alignedDKIMPass {
            s.add("DKIM_ALIGNED", -1.0, "signed by the From domain")
        } else if f.dkim.contains(.fail) && !f.dkim.contains(.pass) {
            s.add("DKIM_FAIL", 1.5, "a DKIM signature did not verify")
        }
        if f.dmarc == .fail { s.add("DMARC_FAIL", 2.0, "DMARC fail") }
        if !f.hasDate { s.add("NO_DATE", 0.5, "no Date field (RFC 5322 §3.6)") }
        if !f.hasMessageID { s.add("NO_MESSAGE_ID", 0.5, "no Message-ID field") }
        return s
    }
}

/// GTUBE, the Generic Test for Unsolicited Bulk Email: a message holding this string is spam
/// by definition, so that administrators can test their spam handling end to end.
public enum GTUBE {
    public static let pattern = Array("XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X".utf8)

    /// Searched for in every message received: memchr finds each place the pattern could start
    /// and memcmp compares, where a loop over each byte cost a tenth of the inbound checks.
    public static func contains(_ message: [UInt8]) -> Bool {
        guard message.count >= pattern.count else { return false }
        return message.withUnsafeBufferPointer { m in
            pattern.withUnsafeBufferPointer { p in
                guard let base = m.baseAddress, let needle = p.baseAddress else { return false }
                let last = m.count - p.count  // the last offset the pattern fits at
                var from = 0
                while from <= last, let hit = memchr(base + from, Int32(needle[0]), last - from + 1) {
                    let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + at, needle, p.count) == 0 { return true }
                    from = at + 1
                }
                return false
            }
        }
    }
}
