import EmailAuth

/// An in-memory ``AuthDNS`` for SPF, DKIM and DMARC tests: a table of names and records.
///
/// A name not in the table is NXDOMAIN; a name with records but none of the type asked is
/// NODATA; `.timeout` makes every query of that name a temporary failure. A CNAME is followed
/// once. PTR queries look up the reverse name (`3.2.0.192.in-addr.arpa`, nibbles for IPv6).
public struct FakeAuthDNS: AuthDNS {
    public enum Record: Hashable, Sendable {
        case txt(String)
        case a(String)
        case aaaa(String)
        case mx(String)
        case ptr(String)
        case cname(String)
        case timeout
    }

    var zone: [String: [Record]]
    /// As the OpenSPF suite's driver: a missing name under `error.` times out, and a query
    /// name with a label over 63 characters is a temporary failure.
    var suiteConventions = false

    public init(_ zone: [String: [Record]], suiteConventions: Bool = false) {
        self.zone = Dictionary(zone.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: +)
        self.suiteConventions = suiteConventions
    }

    func records(_ name: String, _ pick: (Record) -> String?, follow: Bool = true) throws(AuthDNSFailure) -> [String] {
        let labels = name.lowercased().split(separator: ".")
        if suiteConventions && labels.contains(where: { $0.utf8.count > 63 }) {
            throw .temporary("label too long in \(name)")
        }
        let key = labels.joined(separator: ".")
        guard let records = zone[key] else {
            if suiteConventions && key.hasPrefix("error.") { throw .temporary("\(name): timeout") }
            throw .notFound(name)
        }
        var found: [String] = []
        for record in records {
            if record == .timeout {
                if found.isEmpty { throw .temporary("\(name): timeout") }
                break
            }
            if let value = pick(record) { found.append(value) }
            if follow, case .cname(let target) = record {
                found += (try? self.records(target, pick, follow: false)) ?? []
            }
        }
        return found
    }

    public func txt(_ name: String) async throws(AuthDNSFailure) -> [String] {
        try records(name) { if case .txt(let t) = $0 { t } else { nil } }
    }

    public func addresses(_ name: String, ipv6: Bool) async throws(AuthDNSFailure) -> [String] {
        try records(name) {
            switch $0 {
            case .a(let ip) where !ipv6: ip
            case .aaaa(let ip) where ipv6: ip
            default: nil
            }
        }
    }

    public func mx(_ name: String) async throws(AuthDNSFailure) -> [String] {
        try records(name) { if case .mx(let n) = $0 { n } else { nil } }
    }

    public func ptr(_ ip: String) async throws(AuthDNSFailure) -> [String] {
        guard let address = SPFAddress(ip) else { throw .notFound(ip) }
        let reverse =
            address.isIPv6
            ? address.bytes.reversed().flatMap { [String($0 & 0xF, radix: 16), String($0 >> 4, radix: 16)] }.joined(
                separator: ".")
                + ".ip6.arpa"
            : address.bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa"
        return try records(reverse) { if case .ptr(let n) = $0 { n } else { nil } }
    }
}
