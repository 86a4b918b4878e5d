/// Every bound the stub resolver keeps, in one place.
public enum DNSLimits {
    /// CNAMEs followed for one lookup, counting those given in the same answer (RFC 1034 §3.6.2).
    public static let maxCNAMEChain = 8
    /// UDP payload size we advertise with EDNS0 (RFC 6891 §6.2.5; the DNS flag day 2020 value).
    public static let ednsUDPPayloadSize: UInt16 = 1232
    /// Largest datagram we read: anything bigger than a DNS message can be.
    public static let maxUDPResponse = 65_535
    /// Positive answers are not kept longer than this, whatever their TTL.
    public static let maxCacheTTL: UInt32 = 86_400
    /// Negative answers (NXDOMAIN, NODATA) are kept at most this long (RFC 2308 §5).
    public static let maxNegativeCacheTTL: UInt32 = 3_600
    /// Cache entries kept at once; expired entries go first, then arbitrary ones.
    public static let cacheCapacity = 10_000
    /// Name servers taken from resolv.conf (glibc's MAXNS).
    public static let maxResolvConfServers = 3
    /// resolv.conf files larger than this are not read.
    public static let maxResolvConfSize = 64 * 1024
}
