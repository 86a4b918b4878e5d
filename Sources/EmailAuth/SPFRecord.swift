/// A parsed SPF record (RFC 7208 §4.5, §12): its terms in order, domain-specs left unexpanded.
///
/// ```swift
/// let record = try SPFRecord(parsing: "v=spf1 ip4:192.0.2.0/24 a/24//64 include:_spf.example.net -all")
/// record.description  // prints it back; SPFRecord(parsing: record.description) == record
/// ```
///
/// Syntax errors throw ``SPFSyntaxError``, which ``SPFVerifier`` turns into `permerror` (§4.6).
public struct SPFRecord: Hashable, Sendable, CustomStringConvertible {
    /// The directives and modifiers in record order.
    public var terms: [Term]

    public init(terms: [Term]) {
        self.terms = terms
    }

    /// A directive (`[qualifier] mechanism`) or a modifier (`name=value`), §4.6.1.
    public enum Term: Hashable, Sendable, CustomStringConvertible {
        case directive(Qualifier, Mechanism)
        /// `redirect=domain-spec` (§6.1).
        case redirect(String)
        /// `exp=domain-spec` (§6.2).
        case explanation(String)
        /// Any other `name=macro-string`: kept, ignored by evaluation (§6).
        case unknownModifier(name: String, value: String)

        public var description: String {
            switch self {
            case .directive(let q, let m): q == .pass ? m.description : "\(q.rawValue)\(m)"
            case .redirect(let d): "redirect=\(d)"
            case .explanation(let d): "exp=\(d)"
            case .unknownModifier(let name, let value): "\(name)=\(value)"
            }
        }
    }

    /// qualifier = "+" / "-" / "?" / "~" (§4.6.2); a missing qualifier is `+`.
    public enum Qualifier: String, Hashable, Sendable, CaseIterable {
        case pass = "+"
        case fail = "-"
        case softfail = "~"
        case neutral = "?"

        /// The result a matching directive with this qualifier gives.
        public var result: SPFResult {
            switch self {
            case .pass: .pass
            case .fail: .fail
            case .softfail: .softfail
            case .neutral: .neutral
            }
        }
    }

    /// The prefix lengths of `a` and `mx` (`dual-cidr-length`, §5.6): `a/24//64`.
    public struct CIDR: Hashable, Sendable, CustomStringConvertible {
        public var ipv4: Int
        public var ipv6: Int

        public init(ipv4: Int = 32, ipv6: Int = 128) {
            self.ipv4 = ipv4
            self.ipv6 = ipv6
        }

        /// "" for /32//128, else "/24", "//64" or "/24//64".
        public var description: String {
            (ipv4 == 32 ? "" : "/\(ipv4)") + (ipv6 == 128 ? "" : "//\(ipv6)")
        }
    }

    /// The eight mechanisms (§5). Domain-specs are the macro-strings as written; nil means the
    /// current domain.
    public enum Mechanism: Hashable, Sendable, CustomStringConvertible {
        case all
        case include(String)
        case a(String?, CIDR)
        case mx(String?, CIDR)
        /// Not recommended (§5.5), but still evaluated.
        case ptr(String?)
        case ip4(SPFAddress, prefix: Int)
        case ip6(SPFAddress, prefix: Int)
        case exists(String)

        /// True for the mechanisms counted against the limit of 10 DNS-querying terms (§4.6.4).
        public var queriesDNS: Bool {
            switch self {
            case .all, .ip4, .ip6: false
            case .include, .a, .mx, .ptr, .exists: true
            }
        }

        public var description: String {
            func target(_ d: String?) -> String { d.map { ":\($0)" } ?? "" }
            return switch self {
            case .all: "all"
            case .include(let d): "include:\(d)"
            case .a(let d, let cidr): "a\(target(d))\(cidr)"
            case .mx(let d, let cidr): "mx\(target(d))\(cidr)"
            case .ptr(let d): "ptr\(target(d))"
            case .ip4(let ip, let prefix): "ip4:\(ip)" + (prefix == 32 ? "" : "/\(prefix)")
            case .ip6(let ip, let prefix): "ip6:\(ip)" + (prefix == 128 ? "" : "/\(prefix)")
            case .exists(let d): "exists:\(d)"
            }
        }
    }

    /// The target of the `redirect=` modifier, if any (§6.1).
    public var redirect: String? {
        for case .redirect(let d) in terms { return d }
        return nil
    }

    /// The domain-spec of the `exp=` modifier, if any (§6.2).
    public var explanation: String? {
        for case .explanation(let d) in terms { return d }
        return nil
    }

    /// `v=spf1` and the terms, separated by single spaces.
    public var description: String {
        (["v=spf1"] + terms.map(\.description)).joined(separator: " ")
    }

    /// True if `text` begins with the version section `v=spf1` followed by a space or the end
    /// (§4.5): the test for which TXT records are SPF records.
    public static func isSPFRecord(_ text: String) -> Bool {
        let utf8 = Array(text.utf8.prefix(7))
        guard utf8.count >= 6, String(decoding: utf8[0..<6], as: UTF8.self).lowercased() == "v=spf1" else {
            return false
        }
        return utf8.count == 6 || utf8[6] == .space
    }
}
