import DNS
import TestSupport
import Testing

/// The resolver against an in-process server that misbehaves on purpose.
@Suite struct DNSResolverFakeServerTests {
    static let host = name("mx.example.org")
    static let a = DNSRecord(name: host, type: .a, ttl: 60, data: .a([192, 0, 2, 7]))

    static func encode(_ m: DNSMessage) -> [UInt8] { try! m.encoded() }

    static let noTCP: FakeDNSServer.Reply = { _ in [] }

    static func good(_ q: DNSMessage) -> [UInt8] { encode(FakeDNSServer.response(to: q, answers: [a])) }

    func withServer(
        udp: @escaping FakeDNSServer.Reply, tcp: @escaping FakeDNSServer.Reply,
        timeout: Duration = .seconds(10), attempts: Int = 1,
        _ body: (DNSResolver) async throws -> Void
    ) async throws {
        let server = try await FakeDNSServer.start(udp: udp, tcp: tcp)
        let resolver = DNSResolver(servers: [server.address], timeout: timeout, attempts: attempts)
        do {
            try await body(resolver)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func failure(_ resolver: DNSResolver, _ host: String = "mx.example.org") async -> DNSLookupFailure? {
        do {
            _ = try await resolver.lookup(host, .a)
            return nil
        } catch {
            return error
        }
    }

    @Test func wrongIDIsIgnoredAndEndsInTimeout() async throws {
        try await withServer(
            udp: { q in
                var r = FakeDNSServer.response(to: q, answers: [Self.a])
                r.id = q.id &+ 1
                return [Self.encode(r)]
            }, tcp: Self.noTCP, timeout: .milliseconds(500)
        ) { resolver in
            guard case .timeout = await failure(resolver) else { throw PeerError("expected a timeout") }
        }
    }

    @Test func spoofedAnswerBeforeTheRealOneIsIgnored() async throws {
        try await withServer(
            udp: { q in
                var spoof = FakeDNSServer.response(
                    to: q, answers: [DNSRecord(name: Self.host, type: .a, ttl: 60, data: .a([6, 6, 6, 6]))])
                spoof.id = q.id ^ 0x5555
                return [Self.encode(spoof), [1, 2, 3], Self.good(q)]
            }, tcp: Self.noTCP
        ) { resolver in
            let addresses = try await resolver.addresses("mx.example.org")
            #expect(addresses == ["192.0.2.7"])
        }
    }

    @Test func garbageWithOurIDIsMalformed() async throws {
        try await withServer(
            udp: { q in [[UInt8(q.id >> 8), UInt8(q.id & 0xFF), 0x81, 0x80, 0, 1, 0, 9, 0, 0, 0, 0, 0xC0]] },
            tcp: Self.noTCP
        ) {
            resolver in
            let error = await failure(resolver)
            guard case .malformed = error else {
                throw PeerError("expected malformed, got \(String(describing: error))")
            }
            #expect(error?.isTemporary == true)
        }
    }

    @Test func answerToAnotherQuestionIsMalformed() async throws {
        try await withServer(
            udp: { q in
                var r = FakeDNSServer.response(to: q, answers: [Self.a])
                r.questions = [DNSQuestion(name: name("evil.example"), type: .a)]
                return [Self.encode(r)]
            }, tcp: Self.noTCP
        ) { resolver in
            guard case .malformed = await failure(resolver) else { throw PeerError("expected malformed") }
        }
    }

    /// Random bytes after our ID: never a crash, always a thrown, temporary failure.
    @Test func randomGarbageNeverCrashes() async throws {
        try await withServer(
            udp: { q in
                [
                    [UInt8(q.id >> 8), UInt8(q.id & 0xFF), 0x80 | UInt8.random(in: 0...255)]
                        + (0..<Int.random(in: 9...300)).map { _ in UInt8.random(in: 0...255) }
                ]
            }, tcp: Self.noTCP
        ) { resolver in
            for _ in 0..<100 {
                let error = await failure(resolver)
                #expect(error?.isTemporary ?? true)
            }
        }
    }

    @Test func truncatedUDPAnswerIsAskedAgainOverTCP() async throws {
        let many = (1...200).map {
            DNSRecord(name: Self.host, type: .a, ttl: 60, data: .a([10, 0, UInt8($0 >> 8), UInt8($0 & 0xFF)]))
        }
        try await withServer(
            udp: { q in
                var r = FakeDNSServer.response(to: q, answers: Array(many.prefix(3)))
                r.truncated = true
                return [Self.encode(r)]
            },
            tcp: { q in [Self.encode(FakeDNSServer.response(to: q, answers: many))] },
            // A loaded machine can drop a loopback datagram: ask again, as resolvers do.
            attempts: 3
        ) { resolver in
            let answer = try await resolver.lookup("mx.example.org", .a)
            // All 200 records: more than a UDP answer carries, so TCP was used.
            #expect(answer.records == many)
            #expect(resolver.queriesSent >= 2)
        }
    }

    @Test func tcpServerClosingEarlyIsMalformed() async throws {
        try await withServer(
            udp: { q in
                var r = FakeDNSServer.response(to: q)
                r.truncated = true
                return [Self.encode(r)]
            },
            tcp: { q in [Array(Self.good(q).prefix(20))] }
        ) { resolver in
            // The TCP reply promises more octets than it sends: the try times out.
            let error = await failure(resolver)
            #expect(error?.isTemporary == true)
        }
    }

    @Test func servfailFromFirstServerFallsThroughToSecond() async throws {
        let bad = try await FakeDNSServer.start(udp: { q in
            [Self.encode(FakeDNSServer.response(to: q, rcode: .serverFailure))]
        })
        let good = try await FakeDNSServer.start(udp: { q in [Self.good(q)] })
        defer {
            Task {
                await bad.stop(); await good.stop()
            }
        }
        let both = DNSResolver(servers: [bad.address, good.address], timeout: .seconds(10))
        #expect(try await both.addresses("mx.example.org") == ["192.0.2.7"])
        let onlyBad = DNSResolver(servers: [bad.address], timeout: .seconds(10), attempts: 3)
        guard case .serverFailure = await failure(onlyBad) else { throw PeerError("expected SERVFAIL") }
        #expect(onlyBad.queriesSent == 1, "a server that answered SERVFAIL is not asked again in later rounds")
    }

    @Test func cnameLoopInAnswerIsATemporaryFailure() async throws {
        try await withServer(
            udp: { q in
                let loop = [
                    DNSRecord(name: Self.host, type: .cname, ttl: 60, data: .cname(name("b.example.org"))),
                    DNSRecord(name: name("b.example.org"), type: .cname, ttl: 60, data: .cname(Self.host)),
                ]
                return [Self.encode(FakeDNSServer.response(to: q, answers: loop))]
            }, tcp: Self.noTCP
        ) { resolver in
            guard case .serverFailure = await failure(resolver) else { throw PeerError("expected serverFailure") }
        }
    }

    @Test func longCNAMEChainAcrossQueriesIsBounded() async throws {
        // Every name is an alias of the next one, one link per answer.
        try await withServer(
            udp: { q in
                let owner = q.questions[0].name
                let next = DNSName(labels: [Array("x".utf8)] + owner.labels)
                return [
                    Self.encode(
                        FakeDNSServer.response(
                            to: q, answers: [DNSRecord(name: owner, type: .cname, ttl: 60, data: .cname(next))]))
                ]
            }, tcp: Self.noTCP
        ) { resolver in
            guard case .serverFailure = await failure(resolver) else { throw PeerError("expected serverFailure") }
            #expect(resolver.queriesSent == DNSLimits.maxCNAMEChain + 1)
        }
    }

    @Test func ipv6Server() async throws {
        let server = try await FakeDNSServer.start(host: "::1", udp: { q in [Self.good(q)] })
        defer { Task { await server.stop() } }
        let resolver = DNSResolver(
            servers: [DNSServerAddress("[::1]:\(server.address.port)")!], timeout: .seconds(5))
        #expect(try await resolver.addresses("mx.example.org") == ["192.0.2.7"])
    }

    @Test func unreachableServerIsATimeoutNotAHang() async throws {
        // Nothing listens on this port: ICMP port unreachable.
        let silent = try await SilentServer.start()
        let port = silent.address.port
        await silent.stop()
        let resolver = DNSResolver(servers: [DNSServerAddress(host: "127.0.0.1", port: port)], timeout: .seconds(1))
        // Usually the ICMP port-unreachable ends it at once; the kernel rate-limits ICMP, so
        // on a busy machine it may end by the timeout instead. Either way it ends.
        guard case .timeout = await failure(resolver) else { throw PeerError("expected timeout") }
    }
}
