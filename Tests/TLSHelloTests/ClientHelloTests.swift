import Foundation
import Testing
import TLSHello

@Suite struct ClientHelloTests {
    static let acme = ClientHello.acmeTLS1
    static let h2: [UInt8] = Array("h2".utf8)
    static let http11: [UInt8] = Array("http/1.1".utf8)

    /// Hand-built hellos parse back to what they were built from, whatever else they carry.
    @Test(arguments: [
        ClientHello(),
        ClientHello(serverName: "mail.example.org"),
        ClientHello(alpnProtocols: [acme]),
        ClientHello(serverName: "mail.example.org", alpnProtocols: [acme]),
        ClientHello(serverName: "mta-sts.example.org", alpnProtocols: [h2, http11]),
        ClientHello(serverName: "a.b", alpnProtocols: [h2, acme, http11, [0xFF, 0x00]]),
        ClientHello(
            serverName: String(repeating: "a", count: 255), alpnProtocols: [[UInt8](repeating: 0x61, count: 255)]),
    ])
    func roundTrip(_ hello: ClientHello) throws {
        #expect(try ClientHello.parse(hello.encoded()) == hello)
        // Unknown and GREASE extensions are skipped; a session id is read past.
        let busy = hello.encoded(
            sessionID: [UInt8](repeating: 7, count: 32),
            extraExtensions: [(0x0A0A, []), (43, [2, 3, 4]), (51, [UInt8](repeating: 1, count: 300))])
        #expect(try ClientHello.parse(busy) == hello)
        // Bytes after the record (the client's next flight) do not matter.
        #expect(try ClientHello.parse(hello.encoded() + [23, 3, 3, 0, 1, 0]) == hello)
    }

    /// Hellos real clients sent (kept as fuzz seeds): OpenSSL 3 with TLS 1.3 and 1.2, curl.
    @Test(arguments: [
        ("openssl-acme-tls1", "mail.example.org", ["acme-tls/1"]),
        ("openssl-tls12-h2", "mta-sts.example.org", ["h2", "http/1.1"]),
        ("curl", "autoconfig.example.org", ["h2", "http/1.1"]),
        ("openssl-no-sni-no-alpn", nil, nil),
    ])
    func realClients(_ file: String, _ name: String?, _ alpn: [String]?) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../fuzz/corpus/tls-hello/\(file)")
        let bytes = [UInt8](try Data(contentsOf: url))
        let hello = try #require(try ClientHello.parse(bytes))
        #expect(hello.serverName == name)
        #expect(hello.alpnProtocols == alpn?.map { Array($0.utf8) })
        #expect(try ClientHello.parse(bytes.dropLast()) == nil)
    }

    @Test func offersOnly() {
        #expect(ClientHello(alpnProtocols: [Self.acme]).offersOnly(Self.acme))
        #expect(!ClientHello(alpnProtocols: [Self.acme, Self.h2]).offersOnly(Self.acme))
        #expect(!ClientHello(alpnProtocols: [Self.h2]).offersOnly(Self.acme))
        #expect(!ClientHello().offersOnly(Self.acme))
    }

    /// A hello without any extensions (allowed before TLS 1.3) has neither.
    @Test func noExtensionBlock() throws {
        let bytes = ClientHello().encoded()
        #expect(bytes.count == 5 + 4 + 2 + 32 + 1 + 4 + 2)
        #expect(try ClientHello.parse(bytes) == ClientHello())
    }

    /// Every proper prefix asks for more bytes; none throws or decides early.
    @Test(arguments: [
        ClientHello(serverName: "mail.example.org", alpnProtocols: [acme]),
        ClientHello(),
    ])
    func truncatedAtEveryLengthNeedsMore(_ hello: ClientHello) throws {
        let bytes = hello.encoded()
        for n in 0..<bytes.count {
            #expect(try ClientHello.parse(bytes[..<n]) == nil, "prefix of \(n) bytes")
        }
    }

    /// A valid hello with `edit` applied to its bytes; `at` counts from the record header.
    static func edited(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = ClientHello(serverName: "mail.example.org", alpnProtocols: [acme]).encoded()
        edit(&bytes)
        return bytes
    }

    /// Offsets in `edited`'s hello: 5 record header, 4 handshake header, 2+32 version and
    /// random, 1 session id, 2+2 suites, 2 compression, then the extensions' length at 50.
    static let extensionsAt = 5 + 4 + 2 + 32 + 1 + 4 + 2

    static let malformed: [(String, [UInt8], ClientHelloError)] = [
        ("HTTP", Array("GET / HTTP/1.1\r\n".utf8), .notHandshake(contentType: UInt8(ascii: "G"))),
        ("application data", [23, 3, 3, 0, 5, 1, 2, 3, 4, 5], .notHandshake(contentType: 23)),
        ("alert", [21, 3, 3, 0, 2, 2, 40], .notHandshake(contentType: 21)),
        ("SSLv2 hello", [0x80, 0x2E, 0x01, 0x03, 0x01], .notHandshake(contentType: 0x80)),
        ("record version 2", [22, 2, 0], .notTLS),
        ("empty record", [22, 3, 1, 0, 0], .badLength("record")),
        ("record over the limit", [22, 3, 1, 0x20, 0x01], .tooLarge(8193)),
        ("record at TLS's maximum", [22, 3, 1, 0x40, 0x00], .tooLarge(16384)),
        ("record length 0xFFFF", [22, 3, 1, 0xFF, 0xFF], .tooLarge(65535)),
        ("server hello", [22, 3, 3, 0, 4, 2, 0, 0, 0], .notClientHello(handshakeType: 2)),
        ("hello longer than its record", [22, 3, 1, 0, 4, 1, 0, 0, 9], .fragmented),
        ("hello body version 2", edited { $0[9] = 2 }, .notTLS),
        (
            "session id of 33",
            [22, 3, 1, 0, 42, 1, 0, 0, 38, 3, 3] + [UInt8](repeating: 0, count: 32) + [33] + [0, 0, 0],
            .badLength("session id")
        ),
        ("handshake length short of the body", edited { $0[8] -= 1 }, .badLength("extensions")),
        ("odd cipher suites", edited { $0[45] = 1 }, .badLength("cipher suites")),
        ("extensions length too long", edited { $0[extensionsAt + 1] += 1 }, .badLength("extensions")),
        ("extensions length too short", edited { $0[extensionsAt + 1] -= 1 }, .badLength("client hello")),
        ("server_name length too long", edited { $0[extensionsAt + 5] += 1 }, .badLength("server_name")),
        ("server_name list too short", edited { $0[extensionsAt + 7] -= 1 }, .badLength("server name")),
        ("host name with a space", edited { $0[extensionsAt + 15] = 0x20 }, .badServerName),
        ("duplicate extension", edited { $0[extensionsAt + 2 + 4 + 21 + 1] = 0 }, .duplicateExtension(0)),
        ("alpn name of length 0", edited { b in b[b.count - 11] = 0 }, .badLength("protocol name")),
        ("alpn list length past the extension", edited { b in b[b.count - 12] += 1 }, .badLength("alpn list")),
    ]

    @Test(arguments: malformed.indices)
    func malformedInput(_ i: Int) {
        let (name, bytes, error) = Self.malformed[i]
        #expect(throws: error, "\(name)") { _ = try ClientHello.parse(bytes) }
    }

    /// Server names: ASCII without spaces, no trailing dot, at most 255 bytes; a list of only
    /// other name types has none.
    @Test(arguments: [
        ([UInt8]("mail.example.org.".utf8), ClientHelloError.badServerName),
        ([UInt8](repeating: 0x61, count: 256), .badServerName),
        ([0xC3, 0xA9, 0x2E, 0x6F, 0x72, 0x67], .badServerName),
        ([], .badServerName),
    ])
    func badServerNames(_ name: [UInt8], _ error: ClientHelloError) {
        func u16(_ n: Int) -> [UInt8] { [UInt8(n >> 8), UInt8(n & 0xFF)] }
        let entry = [0] + u16(name.count) + name
        let bytes = ClientHello().encoded(extraExtensions: [(0, u16(entry.count) + entry)])
        #expect(throws: error) { _ = try ClientHello.parse(bytes) }
    }

    @Test func otherNameTypesAreSkipped() throws {
        let name = Array("mail.example.org".utf8)
        // type 1 "x", then host_name.
        let list: [UInt8] = [1, 0, 1, 0x78, 0, 0, UInt8(name.count)] + name
        let bytes = ClientHello().encoded(extraExtensions: [(0, [0, UInt8(list.count)] + list)])
        #expect(try ClientHello.parse(bytes)?.serverName == "mail.example.org")
        let only: [UInt8] = [1, 0, 1, 0x78]
        #expect(throws: ClientHelloError.badServerName) {
            _ = try ClientHello.parse(ClientHello().encoded(extraExtensions: [(0, [0, 4] + only)]))
        }
    }

    /// Random bytes after a valid header never crash and never wait for more than the record.
    @Test func garbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0...300, using: &generator)
            var bytes: [UInt8] = [22, 3, 1, UInt8(length >> 8), UInt8(length & 0xFF)]
            bytes += (0..<Int.random(in: 0...length, using: &generator)).map { _ in UInt8.random(in: 0...255) }
            let parsed = try? ClientHello.parse(bytes)
            if bytes.count < 5 + length, length > 0 { #expect(parsed == nil) }
        }
    }
}
