import DNS
import Foundation

/// A host to try for a destination, with the address to connect to.
struct ResolvedHop: Hashable, Sendable {
    /// The MX, route or relay host name (or the IP literal itself).
    var name: String
    var ip: String
    var port: Int
}

/// Why there is no host to deliver to: `permanent` bounces (no such domain, null MX),
/// anything else waits for the next attempt.
struct RouteFailure: Error {
    var reply: String
    var permanent: Bool
}

/// Where a domain's mail goes: the relay host, a static route, or its MX hosts by preference
/// (RFC 5321 §5.1), the domain's own addresses when it has no MX, and nowhere for a null MX
/// (RFC 7505).
struct Router {
    let settings: OutboundSettings
    let resolver: DNSResolver

    func hops(for domain: String) async throws(RouteFailure) -> [ResolvedHop] {
        if let relay = settings.relay { return try await addresses(of: relay.hop) }
        if let route = settings.routes[domain] { return try await addresses(of: route) }
        if domain.hasPrefix("[") && domain.hasSuffix("]") {
            // An address literal: user@[192.0.2.1] or user@[IPv6:2001:db8::1].
            var ip = String(domain.dropFirst().dropLast())
            if ip.lowercased().hasPrefix("ipv6:") { ip = String(ip.dropFirst(5)) }
            guard IPAddressText.isIPLiteral(ip) else { throw RouteFailure(reply: "501 5.1.2 bad address literal \(domain)", permanent: true) }
            return [ResolvedHop(name: ip, ip: ip, port: settings.mxPort)]
        }
        let mx: MXLookup
        do {
            mx = try await resolver.mx(domain)
        } catch {
            throw Self.failure(error, name: domain)
        }
        switch mx {
        case .nullMX:
            throw RouteFailure(reply: "556 5.1.10 \(domain) does not accept mail (null MX)", permanent: true)
        case .noMX:
            let hops = try await addresses(of: NextHop(host: domain, port: settings.mxPort))
            if hops.isEmpty { throw RouteFailure(reply: "550 5.1.2 \(domain) has no MX and no address records", permanent: true) }
            return hops
        case .hosts(let hosts):
            var out: [ResolvedHop] = []
            var lastFailure: RouteFailure?
            for h in hosts {
                do {
                    out += try await addresses(of: NextHop(host: h.host, port: settings.mxPort))
                } catch {
                    lastFailure = error
                }
            }
            if out.isEmpty {
                let why = lastFailure?.reply ?? "no addresses"
                // All MX hosts unresolvable: may be a passing DNS problem; retry.
                throw RouteFailure(reply: "451 4.4.3 no MX host of \(domain) could be resolved (\(why))", permanent: false)
            }
            return out
        }
    }

    /// Where mail for `domain` would go now, in words: for `mailroom trace --dry-run`. Looks
    /// names up as a delivery attempt would, and connects to nothing.
    func describe(_ domain: String) async -> String {
        let how =
            settings.relay != nil ? "through the relay" : settings.routes[domain] != nil ? "by the configured route" : "by MX"
        do {
            let hops = try await hops(for: domain)
            return "\(domain) \(how): " + hops.map { $0.name == $0.ip ? "\($0.ip):\($0.port)" : "\($0.name) [\($0.ip)]:\($0.port)" }
                .joined(separator: ", ")
        } catch {
            return "\(domain) \(how): no host — \(error.reply)" + (error.permanent ? " (it would bounce)" : " (it would wait and retry)")
        }
    }

    private func addresses(of hop: NextHop) async throws(RouteFailure) -> [ResolvedHop] {
        if hop.isIPAddress { return [ResolvedHop(name: hop.host, ip: hop.host, port: hop.port)] }
        do {
            let ips = try await resolver.addresses(hop.host)
            return ips.map { ResolvedHop(name: hop.host, ip: $0, port: hop.port) }
        } catch {
            throw Self.failure(error, name: hop.host)
        }
    }

    static func failure(_ error: DNSLookupFailure, name: String) -> RouteFailure {
        if error.isTemporary { return RouteFailure(reply: "451 4.4.3 DNS lookup of \(name) failed for now: \(error)", permanent: false) }
        return RouteFailure(reply: "550 5.1.2 \(name) does not exist (DNS: no such domain)", permanent: true)
    }
}
