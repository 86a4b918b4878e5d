import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A stub resolver: asks recursive name servers (resolv.conf, or `dns.servers` in the config)
/// over UDP, retries over TCP when the answer is truncated, follows CNAMEs and caches by TTL.
///
/// Lookups throw ``DNSLookupFailure``: only ``DNSLookupFailure/nameNotFound(_:)`` is permanent.
/// NODATA is not an error but an answer without records.
///
///     let resolver = DNSResolver(servers: DNSResolver.systemServers())
///     switch try await resolver.mx("example.org") { … }
public final class DNSResolver: Sendable {
    public let servers: [DNSServerAddress]
    /// Time allowed for one try against one server (UDP, and again for TCP on truncation).
    public let timeout: Duration
    /// Rounds over all servers before giving up.
    public let attempts: Int
    private let transport: DNSTransport
    private let now: @Sendable () -> Date
    private let cache = Mutex(DNSCache())
    private let sent = Atomic<Int>(0)
    private let sentOverTCP = Atomic<Int>(0)
    private let asked = Atomic<Int>(0)
    private let outcomes = Mutex<[String: Int]>([:])

    public init(
        servers: [DNSServerAddress], timeout: Duration = .seconds(3), attempts: Int = 2,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.servers = servers.isEmpty ? [.loopback] : servers
        self.timeout = max(timeout, .milliseconds(1))
        self.attempts = max(1, attempts)
        self.transport = DNSTransport(group: group)
        self.now = now
    }

    /// The `nameserver` lines of resolv.conf; `127.0.0.1:53` when there are none or the file
    /// cannot be read (as the C library does).
    public static func systemServers(resolvConf path: String = "/etc/resolv.conf") -> [DNSServerAddress] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [.loopback] }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: DNSLimits.maxResolvConfSize) else { return [.loopback] }
        let servers = DNSServerAddress.parseResolvConf(String(decoding: data, as: UTF8.self))
        return servers.isEmpty ? [.loopback] : servers
    }

    /// Datagrams and TCP queries sent so far, retries included, for tests and metrics.
    public var queriesSent: Int { sent.load(ordering: .relaxed) }
    /// The part of ``queriesSent`` that went over TCP (after a truncated UDP answer).
    public var tcpQueriesSent: Int { sentOverTCP.load(ordering: .relaxed) }
    /// Questions the cache could not answer and that went to the network, however many
    /// tries each took: what a cache hit saves.
    public var questionsAsked: Int { asked.load(ordering: .relaxed) }

    /// Forgets every cached answer.
    public func flushCache() { cache.withLock { $0 = DNSCache() } }

    /// The records of `type` at `name` (A-labels; a trailing dot is fine), following CNAMEs.
    public func lookup(_ name: String, _ type: DNSRecordType) async throws(DNSLookupFailure) -> DNSAnswer {
        try await lookup(Self.parseName(name), type)
    }

    public func lookup(_ name: DNSName, _ type: DNSRecordType) async throws(DNSLookupFailure) -> DNSAnswer {
        do {
            let answer = try await resolve(name, type)
            outcomes.withLock { $0[answer.records.isEmpty ? "nodata" : "ok", default: 0] += 1 }
            return answer
        } catch {
            outcomes.withLock { $0[error.outcome, default: 0] += 1 }
            throw error
        }
    }

    /// Lookups so far by outcome (`ok`, `nodata`, `nxdomain`, `servfail`, `timeout`,
    /// `malformed`), cache hits included, for metrics.
    public var lookupOutcomes: [String: Int] { outcomes.withLock { $0 } }

    private func resolve(_ name: DNSName, _ type: DNSRecordType) async throws(DNSLookupFailure) -> DNSAnswer {
        var current = name
        var followed = 0
        var authentic = true
        while true {
            let key = DNSCache.Key(current, type)
            let time = now()
            if let cached = cache.withLock({ $0.get(key, now: time) }) {
                switch cached {
                case .records(let records, let ad):
                    return DNSAnswer(records: records, canonicalName: current, authenticData: authentic && ad)
                case .noData(let ad):
                    return DNSAnswer(records: [], canonicalName: current, authenticData: authentic && ad)
                case .nameError:
                    throw .nameNotFound(Self.nxText(name, current))
                case .alias(let target, let ad):
                    guard followed < DNSLimits.maxCNAMEChain else { throw Self.chainTooLong(name, type) }
                    followed += 1
                    authentic = authentic && ad
                    current = target
                    continue
                }
            }
            let message = try await query(current, type)
            authentic = authentic && message.authenticData
            let result = DNSResponseInterpretation(
                message, name: current, type: type, budget: DNSLimits.maxCNAMEChain - followed)
            store(result, type: type, authenticData: message.authenticData, at: now())
            followed += result.aliases.count
            switch result.outcome {
            case .records(let records):
                return DNSAnswer(records: records, canonicalName: result.finalName, authenticData: authentic)
            case .noData:
                return DNSAnswer(records: [], canonicalName: result.finalName, authenticData: authentic)
            case .nameError:
                throw .nameNotFound(Self.nxText(name, result.finalName))
            case .incomplete:
                current = result.finalName
            case .chainTooLong:
                throw Self.chainTooLong(name, type)
            case .failure(let rcode):
                throw .serverFailure("\(rcode) for \(current) \(Self.typeName(type))")
            }
        }
    }

    private func store(_ result: DNSResponseInterpretation, type: DNSRecordType, authenticData ad: Bool, at time: Date)
    {
        cache.withLock { cache in
            for alias in result.aliases {
                guard case .cname(let target) = alias.data else { continue }
                cache.set(.init(alias.name, type), .alias(target, authenticData: ad), ttl: alias.ttl, now: time)
            }
            let key = DNSCache.Key(result.finalName, type)
            switch result.outcome {
            case .records(let records):
                cache.set(key, .records(records, authenticData: ad), ttl: records.map(\.ttl).min() ?? 0, now: time)
            case .nameError(let ttl?):
                cache.set(key, .nameError, ttl: ttl, now: time)
            case .noData(let ttl?):
                cache.set(key, .noData(authenticData: ad), ttl: ttl, now: time)
            case .nameError(nil), .noData(nil), .incomplete, .failure, .chainTooLong:
                break
            }
        }
    }

    /// One question to the servers: each in order, `attempts` rounds. Returns the first NOERROR
    /// or NXDOMAIN answer. A server that answered with another rcode is not asked again.
    func query(_ name: DNSName, _ type: DNSRecordType) async throws(DNSLookupFailure) -> DNSMessage {
        var settled = Set<Int>()
        var rcodeFailure: String?
        var malformed: String?
        var silence: String?
        let what = "\(name) \(Self.typeName(type))"
        asked.add(1, ordering: .relaxed)
        for _ in 0..<attempts {
            for (index, server) in servers.enumerated() where !settled.contains(index) {
                if Task.isCancelled { throw .timeout("lookup of \(what) cancelled") }
                switch await ask(server, name, type) {
                case .response(let message):
                    switch message.rcode {
                    case .noError, .nameError: return message
                    default:
                        settled.insert(index)
                        rcodeFailure = "\(server) answered \(message.rcode) for \(what)"
                    }
                case .malformed(let why):
                    malformed = "\(server) for \(what): \(why)"
                case .timeout:
                    silence = "no answer from \(server) for \(what) within \(timeout)"
                case .unreachable(let why):
                    silence = "\(server) unreachable for \(what): \(why)"
                }
            }
            if settled.count == servers.count { break }
        }
        if let rcodeFailure { throw .serverFailure(rcodeFailure) }
        if let malformed { throw .malformed(malformed) }
        throw .timeout(
            "\(silence ?? "no answer for \(what)") (\(servers.count) server(s), \(attempts) attempt(s)); "
                + "check that the name servers in resolv.conf or dns.servers are reachable")
    }

    /// One try: UDP, then TCP to the same server if the answer is truncated (RFC 7766 §5).
    private func ask(_ server: DNSServerAddress, _ name: DNSName, _ type: DNSRecordType) async -> DNSTryOutcome {
        let address: SocketAddress
        do {
            address = try DNSTransport.socketAddress(server)
        } catch {
            return .unreachable(error.description)
        }
        let amount = TimeAmount(timeout)
        sent.add(1, ordering: .relaxed)
        let udp = await transport.udp(Self.makeQuery(name, type), to: address, timeout: amount)
        guard case .response(let message) = udp, message.truncated else { return udp }
        sent.add(1, ordering: .relaxed)
        sentOverTCP.add(1, ordering: .relaxed)
        return await transport.tcp(Self.makeQuery(name, type), to: address, timeout: amount)
    }

    /// A recursive query with a random ID (RFC 5452 §9.2), EDNS0, and AD set to ask for the
    /// AD bit in the answer (RFC 6840 §5.7).
    static func makeQuery(_ name: DNSName, _ type: DNSRecordType) -> DNSMessage {
        var q = DNSMessage.query(
            id: UInt16.random(in: .min ... .max), name: name, type: type,
            edns: EDNS(udpPayloadSize: DNSLimits.ednsUDPPayloadSize))
        q.authenticData = true
        return q
    }

    static func parseName(_ text: String) throws(DNSLookupFailure) -> DNSName {
        do {
            return try DNSName(text)
        } catch {
            throw .nameNotFound("\(text) is not a valid domain name: \(error)")
        }
    }

    static func typeName(_ type: DNSRecordType) -> String {
        if case .other(let code) = type { return "TYPE\(code)" }
        return "\(type)".uppercased()
    }

    private static func nxText(_ asked: DNSName, _ final: DNSName) -> String {
        asked.lowercased == final.lowercased
            ? "\(asked) does not exist" : "\(asked) is an alias of \(final), which does not exist"
    }

    private static func chainTooLong(_ name: DNSName, _ type: DNSRecordType) -> DNSLookupFailure {
        .serverFailure("CNAME chain of \(name) \(typeName(type)) longer than \(DNSLimits.maxCNAMEChain) or looping")
    }
}
