import Foundation
import TestSupport
import Testing

@testable import DNS

/// The sans-I/O parts: matching a response to its query, reading what it says, the cache, and
/// textual IP addresses.
@Suite struct DNSExchangeTests {
    static let query = DNSMessage.query(id: 0xBEEF, name: name("mx.example.org"), type: .a)
    static let owner = name("mx.example.org")
    static func a(_ n: DNSName = owner, ttl: UInt32 = 300, _ last: UInt8 = 1) -> DNSRecord {
        DNSRecord(name: n, type: .a, ttl: ttl, data: .a([192, 0, 2, last]))
    }
    static func cname(_ from: String, _ to: String, ttl: UInt32 = 300) -> DNSRecord {
        DNSRecord(name: name(from), type: .cname, ttl: ttl, data: .cname(name(to)))
    }
    static let soa = DNSRecord(
        name: name("example.org"), type: .soa, ttl: 900,
        data: .soa(
            mname: name("ns.example.org"), rname: name("h.example.org"), serial: 1, refresh: 1, retry: 1, expire: 1,
            minimum: 120))
    static let bigSOA = DNSRecord(
        name: name("example.org"), type: .soa, ttl: 86_400,
        data: .soa(
            mname: name("ns.example.org"), rname: name("h.example.org"), serial: 1, refresh: 1, retry: 1, expire: 1,
            minimum: 86_400))

    static func response(_ edit: (inout DNSMessage) -> Void) -> DNSMessage {
        var m = DNSMessage(id: query.id)
        m.isResponse = true
        m.questions = query.questions
        edit(&m)
        return m
    }

    // MARK: matching

    static let matches: [(DNSMessage, String, String)] = [
        (response { _ in }, "response", "plain answer"),
        (
            response { $0.questions = [DNSQuestion(name: name("MX.Example.ORG."), type: .a)] }, "response",
            "question case differs"
        ),
        (response { $0.id = 0xBEEE }, "ignore", "other ID"),
        (response { $0.isResponse = false }, "ignore", "a query, not a response"),
        (response { $0.questions = [DNSQuestion(name: name("evil.example"), type: .a)] }, "malformed", "other name"),
        (response { $0.questions = [DNSQuestion(name: owner, type: .aaaa)] }, "malformed", "other type"),
        (response { $0.questions = [DNSQuestion(name: owner, type: .a, qClass: 3)] }, "malformed", "other class"),
        (response { $0.questions = [] }, "malformed", "no question in a NOERROR answer"),
        (
            response {
                $0.questions = []; $0.rcode = .serverFailure
            }, "response", "no question in SERVFAIL"
        ),
        (response { $0.opcode = 2 }, "malformed", "other opcode"),
    ]

    @Test(arguments: matches)
    func matchesResponsesToTheQuery(_ message: DNSMessage, _ expected: String, _ why: String) throws {
        let result = DNSResponseMatch.check(try message.encoded(), against: Self.query)
        let kind: String
        switch result {
        case .ignore: kind = "ignore"
        case .malformed: kind = "malformed"
        case .response: kind = "response"
        }
        #expect(kind == expected, "\(why)")
    }

    @Test func shortOrGarbageDatagrams() {
        #expect(DNSResponseMatch.check([], against: Self.query) == .ignore)
        #expect(DNSResponseMatch.check([0xBE, 0xEF, 0x80], against: Self.query) == .ignore)
        guard
            case .malformed = DNSResponseMatch.check(
                [0xBE, 0xEF, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9], against: Self.query)
        else {
            Issue.record("garbage with our ID is malformed")
            return
        }
    }

    // MARK: interpretation

    typealias Outcome = DNSResponseInterpretation.Outcome

    static let interpretations: [(DNSMessage, Outcome, String, Int, String)] = [
        (
            response { $0.answers = [a(), a(ttl: 60, 2)] }, .records([a(), a(ttl: 60, 2)]), "mx.example.org", 0,
            "records"
        ),
        (
            response {
                $0.answers = [
                    cname("mx.example.org", "b.example.net"), cname("b.example.net", "c.example.net"),
                    a(name("c.example.net")),
                ]
            },
            .records([a(name("c.example.net"))]), "c.example.net", 2, "chain in one answer"
        ),
        (
            response {
                $0.answers = [
                    a(name("c.example.net")), cname("b.example.net", "c.example.net"),
                    cname("MX.example.org", "B.example.net"),
                ]
            },
            .records([a(name("c.example.net"))]), "c.example.net", 2, "chain out of order, mixed case"
        ),
        (
            response { $0.answers = [cname("mx.example.org", "b.example.net")] }, .incomplete, "b.example.net", 1,
            "chain without its end: ask again"
        ),
        (
            response {
                $0.answers = [cname("mx.example.org", "b.example.net")]; $0.authority = [soa]
            }, .noData(negativeTTL: 120),
            "b.example.net", 1, "chain to NODATA"
        ),
        (
            response {
                $0.rcode = .nameError; $0.answers = [cname("mx.example.org", "b.example.net")]; $0.authority = [soa]
            },
            .nameError(negativeTTL: 120), "b.example.net", 1, "chain to NXDOMAIN (RFC 6604)"
        ),
        (
            response {
                $0.rcode = .nameError; $0.authority = [soa]
            }, .nameError(negativeTTL: 120), "mx.example.org", 0, "NXDOMAIN"
        ),
        (
            response { $0.rcode = .nameError }, .nameError(negativeTTL: nil), "mx.example.org", 0,
            "NXDOMAIN without SOA: not cached"
        ),
        (response { $0.authority = [soa] }, .noData(negativeTTL: 120), "mx.example.org", 0, "NODATA"),
        (response { $0.authority = [bigSOA] }, .noData(negativeTTL: 3600), "mx.example.org", 0, "NODATA, TTL capped"),
        (response { _ in }, .noData(negativeTTL: nil), "mx.example.org", 0, "NODATA without SOA"),
        (
            response { $0.answers = [a(name("other.example.org"))] }, .noData(negativeTTL: nil), "mx.example.org", 0,
            "records of another name are not ours"
        ),
        (
            response { $0.answers = [DNSRecord(name: owner, type: .a, rrClass: 3, ttl: 1, data: .a([1, 2, 3, 4]))] },
            .noData(negativeTTL: nil),
            "mx.example.org", 0, "class CH is not ours"
        ),
        (response { $0.rcode = .serverFailure }, .failure(.serverFailure), "mx.example.org", 0, "SERVFAIL"),
        (response { $0.rcode = .refused }, .failure(.refused), "mx.example.org", 0, "REFUSED"),
        (
            response {
                $0.answers = [cname("mx.example.org", "b.example.org"), cname("b.example.org", "mx.example.org")]
            }, .chainTooLong,
            "b.example.org", 1, "CNAME loop"
        ),
        (
            response {
                $0.answers =
                    (0..<9).map { cname("\($0).example.org", "\($0 + 1).example.org") } + [
                        cname("mx.example.org", "0.example.org")
                    ]
            },
            .chainTooLong, "7.example.org", 8, "more than 8 CNAMEs"
        ),
    ]

    @Test(arguments: interpretations)
    func interpretsResponses(
        _ message: DNSMessage, _ outcome: Outcome, _ finalName: String, _ aliases: Int, _ why: String
    ) {
        let result = DNSResponseInterpretation(message, name: Self.owner, type: .a)
        #expect(result.outcome == outcome, "\(why)")
        #expect(result.finalName.lowercased == name(finalName), "\(why)")
        #expect(result.aliases.count == aliases, "\(why)")
    }

    @Test func askingForTheCNAMEItselfDoesNotChase() {
        let m = Self.response {
            $0.questions = [DNSQuestion(name: Self.owner, type: .cname)]
            $0.answers = [Self.cname("mx.example.org", "b.example.net"), Self.a(name("b.example.net"))]
        }
        #expect(
            DNSResponseInterpretation(m, name: Self.owner, type: .cname).outcome
                == .records([Self.cname("mx.example.org", "b.example.net")]))
    }

    // MARK: cache

    @Test func cacheExpiresAndCountsDownTTLs() {
        var cache = DNSCache()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let key = DNSCache.Key(name("MX.example.org"), .a)
        cache.set(key, .records([Self.a(ttl: 300)], authenticData: true), ttl: 300, now: t0)
        #expect(
            cache.get(DNSCache.Key(name("mx.EXAMPLE.org."), .a), now: t0)
                == .records([Self.a(ttl: 300)], authenticData: true))
        #expect(cache.get(key, now: t0 + 250) == .records([Self.a(ttl: 50)], authenticData: true))
        #expect(cache.get(DNSCache.Key(name("mx.example.org"), .aaaa), now: t0) == nil, "keyed by type")
        #expect(cache.get(key, now: t0 + 300) == nil)
        #expect(cache.count == 0, "expired entries are dropped")
        cache.set(key, .nameError, ttl: 0, now: t0)
        #expect(cache.get(key, now: t0) == nil, "TTL 0 is not cached")
        cache.set(key, .nameError, ttl: UInt32.max, now: t0)
        #expect(cache.get(key, now: t0 + TimeInterval(DNSLimits.maxCacheTTL)) == nil, "TTL capped")
    }

    @Test func cacheStaysWithinCapacity() {
        var cache = DNSCache(capacity: 10)
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for i in 0..<100 { cache.set(.init(name("h\(i).example"), .a), .nameError, ttl: 60, now: t0) }
        #expect(cache.count == 10)
        #expect(cache.get(.init(name("h99.example"), .a), now: t0) == .nameError, "the newest entry is kept")
    }

    // MARK: MX order

    @Test func mxOrderIsByPreferenceWithTiesShuffled() {
        let hosts = [
            MXHost(preference: 20, host: "c"), MXHost(preference: 10, host: "a"), MXHost(preference: 10, host: "b"),
            MXHost(preference: 5, host: "z"),
        ]
        var seen: Set<[String]> = []
        for _ in 0..<50 {
            let ordered = DNSResolver.ordered(hosts)
            #expect(ordered.map(\.preference) == [5, 10, 10, 20])
            seen.insert(ordered.map(\.host))
        }
        #expect(seen == [["z", "a", "b", "c"], ["z", "b", "a", "c"]])
    }

    // MARK: IP text

    static let ipv6: [(String, String?)] = [
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7:8:9", nil),
        ("1:::2", nil),
        ("1::2::3", nil),
        (":1", nil),
        ("12345::", nil),
        ("g::", nil),
        ("1:2:3:4:5:6:7", nil),
        ("1:2:3:4:5:6:7::8", nil),
    ]

    @Test(arguments: ipv6)
    func parsesAndFormatsIPv6(_ text: String, _ canonical: String?) {
        #expect(IPAddressText.parseIPv6(text).map(IPAddressText.formatIPv6) == canonical)
    }

    static let ipv4: [(String, [UInt8]?)] = [
        ("192.0.2.1", [192, 0, 2, 1]), ("0.0.0.0", [0, 0, 0, 0]), ("255.255.255.255", [255, 255, 255, 255]),
        ("256.0.0.1", nil), ("1.2.3", nil), ("1.2.3.4.5", nil), ("01.2.3.4", nil), ("1.2.3.", nil), ("a.b.c.d", nil),
        ("", nil),
    ]

    @Test(arguments: ipv4)
    func parsesIPv4(_ text: String, _ bytes: [UInt8]?) { #expect(IPAddressText.parseIPv4(text) == bytes) }

    @Test func reverseNames() {
        #expect(IPAddressText.reverseName("192.0.2.1") == "1.2.0.192.in-addr.arpa")
        #expect(
            IPAddressText.reverseName("2001:db8::1")
                == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
        #expect(IPAddressText.reverseName("mx.example.org") == nil)
    }
}
