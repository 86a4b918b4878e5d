import DNS
import Foundation
import TestSupport
import Testing

/// The resolver against Unbound and NSD on loopback (see ``DNSPeer``).
@Suite(
    .dnsPeer,
    .enabled(
        if: DNSPeer.enabled,
        "nsd and unbound are not installed (apt-get install nsd unbound); set CI=true to fail instead")
)
struct DNSResolverPeerTests {
    let peer = DNSPeer.current!
    let clock = TestClock()

    func resolver(timeout: Duration = .seconds(10), attempts: Int = 2) -> DNSResolver {
        DNSResolver(servers: [peer.server], timeout: timeout, attempts: attempts, now: clock.now)
    }

    @Test func mxWithSeveralPreferencesIsSortedAndShufflesTies() async throws {
        var firstHosts: Set<String> = []
        for _ in 0..<20 {
            guard case .hosts(let hosts) = try await resolver().mx("mailroom.example") else {
                Issue.record("expected MX hosts")
                return
            }
            #expect(hosts.map(\.preference) == [10, 10, 20, 30])
            #expect(Set(hosts.prefix(2).map(\.host)) == ["mx1a.mailroom.example", "mx1b.mailroom.example"])
            #expect(hosts.suffix(2).map(\.host) == ["mx2.mailroom.example", "mx3.mailroom.example"])
            firstHosts.insert(hosts[0].host)
        }
        #expect(firstHosts.count == 2, "equal preferences come in both orders over 20 lookups")
    }

    @Test func nullMXAndNoMX() async throws {
        let r = resolver()
        #expect(try await r.mx("nullmx.mailroom.example") == .nullMX)
        #expect(try await r.mx("nomx.mailroom.example.") == .noMX)
        await #expect(throws: DNSLookupFailure.self) { try await r.mx("nonexistent.mailroom.example") }
        do {
            _ = try await r.mx("nonexistent.mailroom.example")
        } catch {
            guard case .nameNotFound = error else { throw error }
            #expect(!error.isTemporary)
        }
    }

    @Test func addressesGiveIPv4ThenIPv6() async throws {
        let r = resolver()
        #expect(try await r.addresses("host.mailroom.example") == ["192.0.2.1", "2001:db8::1"])
        #expect(try await r.addresses("HOST.MailRoom.Example.") == ["192.0.2.1", "2001:db8::1"])
        #expect(try await r.addresses("v6only.mailroom.example") == ["2001:db8::6"])
        #expect(try await r.addresses("nomx.mailroom.example") == ["192.0.2.3"])
        #expect(try await r.addresses("nullmx.mailroom.example") == [])
        await #expect(throws: DNSLookupFailure.nameNotFound("nope.mailroom.example does not exist")) {
            try await r.addresses("nope.mailroom.example")
        }
    }

    @Test func cnameChainIsChasedAndCached() async throws {
        let r = resolver()
        let answer = try await r.lookup("alias1.mailroom.example", .a)
        #expect(answer.records.map(\.data) == [.a([192, 0, 2, 1])])
        #expect(answer.canonicalName.lowercased == name("host.mailroom.example"))
        #expect(!answer.authenticData, "Unbound here does not validate")
        let sent = r.questionsAsked
        // Both links and the target came in one answer and are cached.
        #expect(try await r.lookup("alias2.mailroom.example", .a).records.count == 1)
        #expect(try await r.lookup("alias1.mailroom.example", .a).records.count == 1)
        #expect(r.questionsAsked == sent)
        // Asking for the CNAME itself does not chase.
        let cname = try await r.lookup("alias1.mailroom.example", .cname)
        #expect(cname.records.map(\.data) == [.cname(name("alias2.mailroom.example"))])
        // A CNAME to a name that does not exist is NXDOMAIN (RFC 6604).
        await #expect(throws: DNSLookupFailure.self) { try await r.lookup("dangling.mailroom.example", .a) }
    }

    @Test func txtConcatenatesCharacterStrings() async throws {
        let r = resolver()
        #expect(try await r.txt("spf.mailroom.example") == ["v=spf1 ip4:192.0.2.0/24 -all"])
        #expect(try await r.txt("long.mailroom.example") == [DNSPeerZones.longTXT])
        #expect(try await r.txt("multi.mailroom.example").sorted() == ["one", "two"])
        #expect(try await r.txt("host.mailroom.example") == [], "NODATA is an empty answer")
    }

    @Test func ptrForIPv4AndIPv6() async throws {
        let r = resolver()
        #expect(try await r.ptr("192.0.2.1") == ["host.mailroom.example"])
        #expect(try await r.ptr("2001:db8::1") == ["host.mailroom.example"])
        await #expect(throws: DNSLookupFailure.self) { try await r.ptr("192.0.2.99") }
    }

    @Test func tlsa() async throws {
        let answer = try await resolver().tlsa("_25._tcp.host.mailroom.example")
        #expect(
            answer.records.map(\.data) == [.tlsa(usage: 3, selector: 1, matchingType: 1, data: DNSPeerZones.tlsaData)])
        #expect(try await resolver().tlsa("host.mailroom.example").records.isEmpty, "NODATA")
        await #expect(throws: DNSLookupFailure.self) { try await resolver().tlsa("_25._tcp.nomx.mailroom.example") }
    }

    @Test func nxdomainNodataServfailAndTimeoutAreToldApart() async throws {
        let r = resolver()
        // NXDOMAIN: permanent.
        do {
            _ = try await r.lookup("missing.mailroom.example", .a)
            Issue.record("expected NXDOMAIN")
        } catch {
            #expect(error == .nameNotFound("missing.mailroom.example does not exist"))
            #expect(!error.isTemporary)
        }
        // NODATA: an answer without records.
        let nodata = try await r.lookup("nomx.mailroom.example", .aaaa)
        #expect(nodata.records.isEmpty)
        // SERVFAIL (Unbound's stub for lame.example is refused by NSD): temporary.
        do {
            _ = try await r.lookup("x.lame.example", .a)
            Issue.record("expected SERVFAIL")
        } catch {
            guard case .serverFailure(let text) = error else { throw error }
            #expect(text.contains("serverFailure"))
            #expect(error.isTemporary)
        }
        // REFUSED (outside the test zones): temporary too.
        do {
            _ = try await r.lookup("example.com", .a)
            Issue.record("expected REFUSED")
        } catch {
            guard case .serverFailure(let text) = error else { throw error }
            #expect(text.contains("refused"))
        }
        // Timeout: a socket that never answers.
        let silent = try await SilentServer.start()
        defer { Task { await silent.stop() } }
        let mute = DNSResolver(servers: [silent.address], timeout: .milliseconds(150), attempts: 2, now: clock.now)
        do {
            _ = try await mute.lookup("host.mailroom.example", .a)
            Issue.record("expected a timeout")
        } catch {
            guard case .timeout = error else { throw error }
            #expect(error.isTemporary)
        }
        #expect(mute.queriesSent == 2, "two attempts")
        // A silent first server, then a working one.
        let fallback = DNSResolver(
            servers: [silent.address, peer.server], timeout: .milliseconds(150), attempts: 1, now: clock.now)
        #expect(try await fallback.addresses("host.mailroom.example").count == 2)
    }

    @Test func truncatedAnswerIsRetriedOverTCPAndComplete() async throws {
        // Unbound fetches the big answer from NSD once; the resolver under test then meets a
        // warm server and a slow upstream cannot turn its TCP try into a timeout.
        _ = try? await resolver().lookup("big.mailroom.example", .a)
        let r = resolver()
        let answer = try await r.lookup("big.mailroom.example", .a)
        #expect(answer.records.count == DNSPeerZones.bigCount)
        #expect(
            Set(answer.records.map(\.data)) == Set((1...DNSPeerZones.bigCount).map { .a([198, 51, 100, UInt8($0)]) }))
        #expect(r.tcpQueriesSent >= 1, "the truncated UDP answer was retried over TCP")
    }

    /// The clock moves by the TTL the first answer gave, not by the zone's 300 s: Unbound
    /// counts its cache's TTLs down in real time, and under a slow, loaded run a name other
    /// tests asked for earlier came back with less than 200 s left (a name of its own, too).
    @Test func cacheHonoursTTL() async throws {
        let r = resolver()
        let first = try await r.lookup("cached.mailroom.example", .a)
        #expect(r.questionsAsked == 1)
        let ttl = try #require(first.records.map(\.ttl).min())
        try #require(ttl >= 10, "Unbound's answer is about to expire (\(ttl) s): nothing to test")
        clock.advance(seconds: Double(ttl / 2))
        let cached = try await r.lookup("Cached.mailroom.example.", .a)
        #expect(r.questionsAsked == 1, "within the TTL of \(ttl) s")
        #expect(cached.records.allSatisfy { $0.ttl <= ttl - ttl / 2 }, "TTLs count down in the cache")
        clock.advance(seconds: Double(ttl - ttl / 2 + 1))
        _ = try await r.lookup("cached.mailroom.example", .a)
        #expect(r.questionsAsked == 2, "expired after \(ttl) s")
    }

    @Test func negativeAnswersAreCachedForTheSOAMinimum() async throws {
        let r = resolver()
        for _ in 0..<2 {
            await #expect(throws: DNSLookupFailure.self) { try await r.lookup("gone.mailroom.example", .a) }
            #expect(try await r.lookup("nomx.mailroom.example", .mx).records.isEmpty)
        }
        #expect(r.questionsAsked == 2)
        clock.advance(seconds: 61)  // SOA MINIMUM is 60
        await #expect(throws: DNSLookupFailure.self) { try await r.lookup("gone.mailroom.example", .a) }
        #expect(try await r.lookup("nomx.mailroom.example", .mx).records.isEmpty)
        #expect(r.questionsAsked == 4)
        // SERVFAIL is never cached.
        for _ in 0..<2 { await #expect(throws: DNSLookupFailure.self) { try await r.lookup("y.lame.example", .a) } }
        #expect(r.questionsAsked == 6)
    }
}
