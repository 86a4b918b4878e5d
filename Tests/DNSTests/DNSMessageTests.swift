import Testing

@testable import DNS

@Suite struct DNSMessageTests {
    static func name(_ s: String) -> DNSName { try! DNSName(s) }

    /// A query as `dig +bufsize=1232 example.org MX` sends it.
    @Test func queryEncodesAsOnTheWire() throws {
        let q = DNSMessage.query(id: 0x1234, name: Self.name("example.org"), type: .mx)
        let bytes = try q.encoded()
        #expect(Array(bytes.prefix(12)) == [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1])
        #expect(Array(bytes[12..<25]) == [7] + Array("example".utf8) + [3] + Array("org".utf8) + [0])
        #expect(Array(bytes[25..<29]) == [0, 15, 0, 1])
        #expect(Array(bytes[29...]) == [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])
        #expect(try DNSMessage(parsing: bytes) == q)
    }

    static let records: [DNSRecord] = [
        DNSRecord(name: name("example.org"), type: .mx, ttl: 300, data: .mx(preference: 10, exchange: name("mx1.example.org"))),
        DNSRecord(name: name("mx1.example.org"), type: .a, ttl: 60, data: .a([192, 0, 2, 1])),
        DNSRecord(name: name("mx1.example.org"), type: .aaaa, ttl: 60, data: .aaaa([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])),
        DNSRecord(name: name("example.org"), type: .txt, ttl: 3600, data: .txt([Array("v=spf1 mx -all".utf8), Array(repeating: 0x61, count: 255)])),
        DNSRecord(name: name("www.example.org"), type: .cname, ttl: 5, data: .cname(name("example.org"))),
        DNSRecord(name: name("1.2.0.192.in-addr.arpa"), type: .ptr, ttl: 5, data: .ptr(name("mx1.example.org"))),
        DNSRecord(name: name("_25._tcp.mx1.example.org"), type: .tlsa, ttl: 5, data: .tlsa(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0xAB, count: 32))),
        DNSRecord(name: name("example.org"), type: .soa, ttl: 5, data: .soa(mname: name("ns.example.org"), rname: name("hostmaster.example.org"), serial: 2026112901, refresh: 3600, retry: 600, expire: 86400, minimum: 300)),
        DNSRecord(name: name("example.org"), type: .other(99), ttl: 5, data: .raw([1, 2, 3])),
        DNSRecord(name: name("example.org"), type: .mx, ttl: 5, data: .mx(preference: 0, exchange: DNSName.root)),  // null MX
    ]

    @Test(arguments: records)
    func recordRoundTrip(_ record: DNSRecord) throws {
        var m = DNSMessage(id: 7)
        m.isResponse = true
        m.recursionAvailable = true
        m.authenticData = true
        m.questions = [DNSQuestion(name: record.name, type: record.type)]
        m.answers = [record]
        m.edns = EDNS(udpPayloadSize: 4096, dnssecOK: true)
        #expect(try DNSMessage(parsing: try m.encoded()) == m)
    }

    @Test func responseCodesIncludingExtended() throws {
        for code in [DNSResponseCode.noError, .serverFailure, .nameError, .refused, .other(16)] {
            var m = DNSMessage(id: 1)
            m.isResponse = true
            m.rcode = code
            m.edns = EDNS()
            #expect(try DNSMessage(parsing: try m.encoded()).rcode == code)
        }
    }

    /// A response using name compression, as servers send it.
    @Test func followsCompressionPointers() throws {
        var b: [UInt8] = [0, 9, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        b += [7] + Array("example".utf8) + [3] + Array("org".utf8) + [0] + [0, 15, 0, 1]
        // answer: name = pointer to offset 12; MX 10 mx1.<pointer 12>
        b += [0xC0, 12, 0, 15, 0, 1, 0, 0, 0x0E, 0x10, 0, 8, 0, 10, 3] + Array("mx1".utf8) + [0xC0, 12]
        let m = try DNSMessage(parsing: b)
        #expect(m.answers.first?.data == .mx(preference: 10, exchange: Self.name("mx1.example.org")))
        #expect(m.answers.first?.name.lowercased == Self.name("example.org"))
        #expect(m.answers.first?.ttl == 3600)
    }

    static let malformed: [([UInt8], String)] = [
        ([], "empty"),
        ([0, 1, 0, 0, 0, 1], "short header"),
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], "question missing"),
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1], "pointer to itself"),
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 40, 0, 1, 0, 1], "pointer forwards"),
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 1, 0, 1], "reserved label type"),
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x61, 0x62, 0, 0, 1, 0, 1], "label runs past the end"),
        ([0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3], "A record of 3 octets"),
        ([0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 9, 1, 2, 3], "rdlength past the end"),
        ([0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 15, 0, 1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 0], "MX data longer than rdlength"),
        ([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7], "trailing octet"),
        ([0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0], "counts larger than the message"),
    ]

    @Test(arguments: malformed)
    func refusesMalformed(bytes: [UInt8], why: String) {
        #expect(throws: DNSError.self, "\(why)") { try DNSMessage(parsing: bytes) }
    }

    @Test func refusesOverlongNames() throws {
        let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
        #expect(throws: DNSError.self) { try DNSName(long) }
        #expect(throws: DNSError.self) { try DNSName("a..b") }
        #expect(throws: DNSError.self) { try DNSName(String(repeating: "x", count: 64) + ".org") }
        #expect(try DNSName("example.org.") == DNSName("example.org"))
        // A compressed name that would exceed 255 octets is refused too.
        var b: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for _ in 0..<5 { b += [63] + Array(repeating: 0x61, count: 63) }
        b += [0, 0, 1, 0, 1]
        #expect(throws: DNSError.self) { try DNSMessage(parsing: b) }
    }
}
