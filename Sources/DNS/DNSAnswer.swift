/// The records of one RRset, after CNAME chasing. Empty `records` is NODATA: the name exists
/// but has no records of the type asked for.
public struct DNSAnswer: Hashable, Sendable {
    /// Records of the asked type, owned by ``canonicalName``.
    public var records: [DNSRecord]
    /// The name the records belong to: the asked name, or the end of its CNAME chain.
    public var canonicalName: DNSName
    /// The AD bit of every response used (RFC 4035 §3.2.3): the resolver validated the answer
    /// with DNSSEC. Only meaningful when the resolver is trusted and the path to it is secure
    /// (loopback); kept for DANE.
    public var authenticData: Bool

    public init(records: [DNSRecord], canonicalName: DNSName, authenticData: Bool) {
        self.records = records
        self.canonicalName = canonicalName
        self.authenticData = authenticData
    }

    public var isNoData: Bool { records.isEmpty }
}

/// One mail exchanger of a domain (RFC 5321 §5.1).
public struct MXHost: Hashable, Sendable, CustomStringConvertible {
    public var preference: UInt16
    /// Host name without the trailing dot.
    public var host: String

    public init(preference: UInt16, host: String) {
        self.preference = preference
        self.host = host
    }

    public var description: String { "\(preference) \(host)" }
}

/// What the MX lookup of a domain says about where to deliver.
public enum MXLookup: Hashable, Sendable {
    /// Mail exchangers by ascending preference; equal preferences in random order (RFC 5321 §5.1).
    case hosts([MXHost])
    /// RFC 7505 null MX (a single `MX 0 .`): the domain accepts no mail; bounce.
    case nullMX
    /// The domain exists but has no MX records (NODATA): deliver to its A/AAAA (implicit MX,
    /// RFC 5321 §5.1).
    case noMX
}
