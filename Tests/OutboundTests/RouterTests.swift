import DNS
import Foundation
import TestSupport
import Testing

@testable import Outbound

/// Routing against real name servers (NSD + Unbound on loopback): MX order, implicit MX, null
/// MX, and names that do not exist. Only names are resolved; nothing is connected to.
@Suite(.dnsPeer, .enabled(if: DNSPeer.enabled)) struct RouterTests {
    func router(_ configure: (inout OutboundSettings) -> Void = { _ in }) throws -> Router {
        let peer = try #require(DNSPeer.current)
        var s = OutboundSettings(hostname: "mx.example.org")
        configure(&s)
        return Router(settings: s, resolver: DNSResolver(servers: [peer.server], timeout: .seconds(10)))
    }

    @Test func mxHostsInPreferenceOrderWithTheirAddresses() async throws {
        let hops = try await router().hops(for: "mailroom.example")
        #expect(Set(hops.prefix(2).map(\.name)) == ["mx1a.mailroom.example", "mx1b.mailroom.example"])
        #expect(hops.dropFirst(2).map(\.name) == ["mx2.mailroom.example", "mx3.mailroom.example", "mx3.mailroom.example"])
        #expect(hops.dropFirst(2).map(\.ip) == ["127.0.0.20", "127.0.0.30", "::1"])
        #expect(hops.allSatisfy { $0.port == 25 })
    }

    @Test func withoutMXTheDomainsOwnAddressIsUsed() async throws {
        let hops = try await router { $0.mxPort = 2525 }.hops(for: "nomx.mailroom.example")
        #expect(hops == [ResolvedHop(name: "nomx.mailroom.example", ip: "192.0.2.3", port: 2525)])
    }

    @Test func aNullMXBouncesAtOnce() async throws {
        do {
            _ = try await router().hops(for: "nullmx.mailroom.example")
            Issue.record("null MX routed")
        } catch let error as RouteFailure {
            #expect(error.permanent)
            #expect(error.reply.hasPrefix("556 5.1.10"))
        }
    }

    @Test func aDomainThatDoesNotExistBounces() async throws {
        do {
            _ = try await router().hops(for: "missing.mailroom.example")
            Issue.record("a missing domain routed")
        } catch let error as RouteFailure {
            #expect(error.permanent)
            #expect(error.reply.hasPrefix("550 5.1.2"))
        }
    }

    @Test func aDNSFailureOnlyDefers() async throws {
        // lame.example: Unbound answers SERVFAIL.
        do {
            _ = try await router().hops(for: "lame.example")
            Issue.record("a lame domain routed")
        } catch let error as RouteFailure {
            #expect(!error.permanent)
            #expect(error.reply.hasPrefix("451 4.4.3"))
        }
    }

    @Test func routesAndTheRelayHostComeBeforeDNS() async throws {
        let routed = try await router { $0.routes["nullmx.mailroom.example"] = NextHop(host: "127.0.0.1", port: 2526) }
            .hops(for: "nullmx.mailroom.example")
        #expect(routed == [ResolvedHop(name: "127.0.0.1", ip: "127.0.0.1", port: 2526)])
        let relayed = try await router { $0.relay = RelayHost(hop: NextHop(host: "host.mailroom.example", port: 587), username: nil, password: nil) }
            .hops(for: "anything.test")
        #expect(relayed.map(\.ip) == ["192.0.2.1", "2001:db8::1"])
        let literal = try await router().hops(for: "[127.0.0.5]")
        #expect(literal == [ResolvedHop(name: "127.0.0.5", ip: "127.0.0.5", port: 25)])
    }
}
