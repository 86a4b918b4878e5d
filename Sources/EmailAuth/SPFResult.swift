/// The seven results of `check_host()` (RFC 7208 §2.6); raw values are the RFC 8601
/// Authentication-Results words (`spf=softfail`).
public enum SPFResult: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case none
    case neutral
    case pass
    case fail
    case softfail
    case temperror
    case permerror

    public var description: String { rawValue }
}

/// What `check_host()` concluded and why, for Authentication-Results and for an administrator.
///
/// `reason` is a sentence such as "matched ip4:192.0.2.0/24 in example.org's record" or
/// "example.org's record has 11 terms that query DNS; at most 10 are allowed (RFC 7208 §4.6.4)".
public struct SPFOutcome: Hashable, Sendable, CustomStringConvertible {
    public var result: SPFResult
    /// The domain checked first: the MAIL FROM domain, or the HELO name (RFC 7208 §2.3, §2.4).
    public var domain: String
    /// The directive that decided the result as written ("-all", "include:_spf.example.net"), or
    /// nil when none matched or there was an error.
    public var mechanism: String?
    /// The domain whose record holds `mechanism` (differs from `domain` after include/redirect).
    public var mechanismDomain: String?
    /// An administrator's account of the result.
    public var reason: String
    /// For `fail`: the expanded `exp=` text (RFC 7208 §6.2), if the domain published one.
    public var explanation: String?
    /// DNS-querying terms evaluated (include, a, mx, ptr, exists, redirect; §4.6.4).
    public var lookups: Int

    public init(
        result: SPFResult, domain: String, mechanism: String? = nil, mechanismDomain: String? = nil,
        reason: String, explanation: String? = nil, lookups: Int = 0
    ) {
        self.result = result
        self.domain = domain
        self.mechanism = mechanism
        self.mechanismDomain = mechanismDomain
        self.reason = reason
        self.explanation = explanation
        self.lookups = lookups
    }

    /// "softfail (example.org: matched ~all in example.org's record)".
    public var description: String { "\(result) (\(domain): \(reason))" }
}

/// The processing limits of RFC 7208 §4.6.4 and §7.3.
public enum SPFLimits {
    /// DNS-querying terms (include, a, mx, ptr, exists, redirect) in one evaluation.
    public static let dnsTerms = 10
    /// Lookups answering NXDOMAIN or no records, before the result is `permerror`.
    public static let voidLookups = 2
    /// MX names looked up per `mx` mechanism; more is `permerror`.
    public static let mxNames = 10
    /// PTR names validated per `ptr` mechanism or `%{p}`; the rest are ignored.
    public static let ptrNames = 10
    /// An expanded domain-spec is cut on the left to this length.
    public static let maxDomainLength = 253
}

/// Why an SPF record (or a macro in it) is malformed; the verifier's `permerror` (RFC 7208 §4.6).
public enum SPFSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text does not begin with `v=spf1` followed by a space or the end.
    case notSPF(String)
    /// A byte outside printable US-ASCII and space (§3.1: records are 7-bit ASCII).
    case invalidCharacter(term: String)
    /// A term that is neither a known mechanism nor `name=value`.
    case unknownMechanism(String)
    /// A mechanism without the argument it needs, or with one it must not have.
    case invalidArgument(term: String, reason: String)
    /// A `/` prefix length that is out of range or has leading zeros.
    case invalidCIDR(term: String)
    /// An `ip4:`/`ip6:` network that is not an address of that family.
    case invalidAddress(term: String)
    /// A domain-spec that does not end in a top label or a macro (§7.1 `domain-end`).
    case invalidDomainSpec(term: String, reason: String)
    /// A macro-string that does not follow §7.1.
    case invalidMacro(String, reason: String)
    /// `redirect=` or `exp=` given twice (§6).
    case duplicateModifier(String)

    public var description: String {
        switch self {
        case .notSPF(let text):
            "\"\(text.prefix(40))\" is not an SPF record: it must begin with \"v=spf1\" and a space"
        case .invalidCharacter(let term):
            "\"\(term)\" holds a character SPF does not allow; records are printable US-ASCII separated by spaces (RFC 7208 §3.1)"
        case .unknownMechanism(let term):
            "\"\(term)\" is not an SPF mechanism; use all, include, a, mx, ptr, ip4, ip6 or exists (RFC 7208 §5)"
        case .invalidArgument(let term, let reason):
            "\"\(term)\": \(reason)"
        case .invalidCIDR(let term):
            "\"\(term)\" has an invalid prefix length; use /0 to /32 for IPv4 and //0 to //128 for IPv6, without leading zeros"
        case .invalidAddress(let term):
            "\"\(term)\" does not hold a valid address; write ip4:192.0.2.0/24 or ip6:2001:db8::/32"
        case .invalidDomainSpec(let term, let reason):
            "\"\(term)\" has an invalid domain: \(reason)"
        case .invalidMacro(let text, let reason):
            "invalid macro in \"\(text)\": \(reason) (RFC 7208 §7.1)"
        case .duplicateModifier(let name):
            "\(name)= appears more than once; an SPF record may have at most one (RFC 7208 §6)"
        }
    }
}
