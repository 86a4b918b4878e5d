/// What a server can learn from a TLS ClientHello before it answers: the host name asked for
/// (SNI, RFC 6066 §3) and the application protocols offered (ALPN, RFC 7301 §3.1). The web
/// listener reads it from the first bytes of a connection to tell an ACME TLS-ALPN-01
/// validation (RFC 8737: ALPN `acme-tls/1` alone, SNI the name being validated) from a browser.
///
/// ```
/// C: 16 03 01 <len>            TLSPlaintext, handshake
/// C:   01 <len24>              ClientHello
/// C:     03 03 <random 32> <session id> <cipher suites> <compression methods>
/// C:     <extensions: server_name (0) "mail.example.org", alpn (16) ["acme-tls/1"], …>
/// ```
///
/// Only the first record is read: a hello split across records, or larger than
/// ``Limits/maxRecordLength``, is not sniffed (``ClientHelloError``), and the connection goes to
/// the TLS library as it came.
public struct ClientHello: Hashable, Sendable {
    /// The `host_name` of the server_name extension; nil when absent.
    public var serverName: String?
    /// The protocol names of the ALPN extension, in the client's order; nil when absent.
    public var alpnProtocols: [[UInt8]]?

    public init(serverName: String? = nil, alpnProtocols: [[UInt8]]? = nil) {
        self.serverName = serverName
        self.alpnProtocols = alpnProtocols
    }

    /// The bounds the parser keeps.
    public enum Limits {
        /// The longest first record read (TLS allows 2^14): a hello longer than this is not
        /// sniffed, so a connection never makes us buffer more than this plus the 5-byte header.
        public static let maxRecordLength = 8192
        /// RFC 6066 §3 (a DNS name): longer is refused.
        public static let maxServerNameLength = 255
    }

    /// The ALPN protocol id of TLS-ALPN-01 (RFC 8737 §6.2).
    public static let acmeTLS1: [UInt8] = Array("acme-tls/1".utf8)

    /// True when ALPN offers exactly one protocol, `name` (RFC 8737 §3: the validator offers
    /// `acme-tls/1` alone).
    public func offersOnly(_ name: [UInt8]) -> Bool { alpnProtocols == [name] }

    // MARK: Parsing

    /// The ClientHello at the start of `bytes` (the first bytes a client sent), nil when more
    /// bytes are needed to decide. Throws when these bytes are not a ClientHello this parser
    /// reads; no input makes it wait for more than 5 + ``Limits/maxRecordLength`` bytes.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ClientHelloError) -> ClientHello? {
        let bytes = Array(bytes.prefix(5 + Limits.maxRecordLength))
        // TLSPlaintext (RFC 8446 §5.1):
        //   ContentType type (22 = handshake); ProtocolVersion legacy_record_version; uint16 length;
        //   opaque fragment[length]
        if let first = bytes.first, first != 22 { throw .notHandshake(contentType: first) }
        if bytes.count >= 2, bytes[1] != 3 { throw .notTLS }
        guard bytes.count >= 5 else { return nil }
        let length = Int(bytes[3]) << 8 | Int(bytes[4])
        guard length > 0 else { throw .badLength("record") }
        guard length <= Limits.maxRecordLength else { throw .tooLarge(length) }
        guard bytes.count >= 5 + length else { return nil }
        var record = Reader(bytes[5..<(5 + length)])
        // Handshake (RFC 8446 §4): HandshakeType msg_type (1 = client_hello); uint24 length; body
        let type = try record.byte("handshake type")
        guard type == 1 else { throw .notClientHello(handshakeType: type) }
        let bodyLength = try record.int(3, "handshake length")
        guard bodyLength <= record.remaining else { throw .fragmented }
        var body = Reader(try record.bytes(bodyLength, "handshake"))
        return try parseBody(&body)
    }

    /// ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2):
    ///   ProtocolVersion legacy_version; Random random (32);
    ///   opaque legacy_session_id<0..32>; CipherSuite cipher_suites<2..2^16-2>;
    ///   opaque legacy_compression_methods<1..2^8-1>; Extension extensions<8..2^16-1>
    /// (the extensions may be absent before TLS 1.3).
    static func parseBody(_ body: inout Reader) throws(ClientHelloError) -> ClientHello {
        guard try body.byte("client version") == 3 else { throw .notTLS }
        _ = try body.bytes(1 + 32, "random")
        let sessionID = try body.vector(1, "session id")
        guard sessionID.count <= 32 else { throw .badLength("session id") }
        let suites = try body.vector(2, "cipher suites")
        guard !suites.isEmpty, suites.count % 2 == 0 else { throw .badLength("cipher suites") }
        guard !(try body.vector(1, "compression methods")).isEmpty else { throw .badLength("compression methods") }
        var hello = ClientHello()
        guard body.remaining > 0 else { return hello }
        var extensions = Reader(try body.vector(2, "extensions"))
        guard body.remaining == 0 else { throw .badLength("client hello") }
        // Extension: ExtensionType extension_type (uint16); opaque extension_data<0..2^16-1>.
        // "There MUST NOT be more than one extension of the same type" (RFC 8446 §4.2).
        var seen = Set<UInt16>()
        while extensions.remaining > 0 {
            let type = UInt16(try extensions.int(2, "extension type"))
            guard seen.insert(type).inserted else { throw .duplicateExtension(type) }
            var data = Reader(try extensions.vector(2, "extension"))
            switch type {
            case 0: hello.serverName = try parseServerName(&data)
            case 16: hello.alpnProtocols = try parseALPN(&data)
            default: continue
            }
            guard data.remaining == 0 else { throw .badLength(type == 0 ? "server_name" : "alpn") }
        }
        return hello
    }

    /// server_name (RFC 6066 §3):
    ///   struct { NameType name_type; select (name_type) { case host_name: HostName; } } ServerName;
    ///   opaque HostName<1..2^16-1>; struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
    /// The first host_name (type 0) is the name; other name types are skipped.
    static func parseServerName(_ data: inout Reader) throws(ClientHelloError) -> String {
        var list = Reader(try data.vector(2, "server_name list"))
        var name: String?
        while list.remaining > 0 {
            let type = try list.byte("server name type")
            let value = try list.vector(2, "server name")
            guard type == 0, name == nil else { continue }
            // A DNS host name in ASCII, no trailing dot (RFC 6066 §3).
            guard !value.isEmpty, value.count <= Limits.maxServerNameLength,
                value.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), value.last != UInt8(ascii: ".")
            else { throw .badServerName }
            name = String(decoding: value, as: UTF8.self)
        }
        guard let name else { throw .badServerName }
        return name
    }

    /// application_layer_protocol_negotiation (RFC 7301 §3.1):
    ///   opaque ProtocolName<1..2^8-1>; struct { ProtocolName protocol_name_list<2..2^16-1> }
    static func parseALPN(_ data: inout Reader) throws(ClientHelloError) -> [[UInt8]] {
        var list = Reader(try data.vector(2, "alpn list"))
        var names: [[UInt8]] = []
        while list.remaining > 0 {
            let name = try list.vector(1, "protocol name")
            guard !name.isEmpty else { throw .badLength("protocol name") }
            names.append(Array(name))
        }
        guard !names.isEmpty else { throw .badLength("alpn list") }
        return names
    }

    // MARK: Encoding

    /// This hello as the first record a client sends: TLS 1.2 legacy versions, one cipher
    /// suite, no compression, then `extraExtensions` (type, data), server_name and ALPN. For
    /// tests and the fuzz target's round trip.
    public func encoded(sessionID: [UInt8] = [], extraExtensions: [(UInt16, [UInt8])] = []) -> [UInt8] {
        func u16(_ n: Int) -> [UInt8] { [UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] }
        func vector16(_ bytes: [UInt8]) -> [UInt8] { u16(bytes.count) + bytes }
        var extensions: [(UInt16, [UInt8])] = extraExtensions
        if let serverName {
            extensions.append((0, vector16([0] + vector16(Array(serverName.utf8)))))
        }
        if let alpnProtocols {
            extensions.append((16, vector16(alpnProtocols.flatMap { [UInt8($0.count)] + $0 })))
        }
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 0x2A, count: 32)
        body += [UInt8(sessionID.count)] + sessionID
        body += vector16([0x13, 0x01])
        body += [1, 0]
        if !extensions.isEmpty { body += vector16(extensions.flatMap { u16(Int($0.0)) + vector16($0.1) }) }
        let handshake = [1, UInt8(body.count >> 16 & 0xFF)] + u16(body.count) + body
        return [22, 3, 1] + u16(handshake.count) + handshake
    }
}

/// Why the first bytes are not a ClientHello this parser reads.
public enum ClientHelloError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first record is not a handshake (an SSLv2 hello, plain HTTP, …).
    case notHandshake(contentType: UInt8)
    /// The version's major byte is not 3.
    case notTLS
    /// The first handshake message is not a ClientHello.
    case notClientHello(handshakeType: UInt8)
    /// The first record is longer than ``ClientHello/Limits/maxRecordLength``.
    case tooLarge(Int)
    /// The ClientHello goes on in a later record.
    case fragmented
    /// A length field disagrees with the bytes around it.
    case badLength(String)
    /// server_name holds no host_name, or one that is not an ASCII DNS name.
    case badServerName
    case duplicateExtension(UInt16)

    public var description: String {
        switch self {
        case .notHandshake(let t): "the first record is not a TLS handshake (content type \(t))"
        case .notTLS: "not TLS (protocol version major is not 3)"
        case .notClientHello(let t): "the first handshake message is not a ClientHello (type \(t))"
        case .tooLarge(let n): "the first record is \(n) bytes, more than \(ClientHello.Limits.maxRecordLength) read"
        case .fragmented: "the ClientHello continues in another record"
        case .badLength(let field): "bad length of \(field)"
        case .badServerName: "server_name holds no valid host_name"
        case .duplicateExtension(let t): "extension \(t) appears twice"
        }
    }
}

/// Reads big-endian fields and length-prefixed vectors off a byte slice, throwing
/// `.badLength` past its end.
struct Reader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var remaining: Int { bytes.count }

    mutating func bytes(_ count: Int, _ field: String) throws(ClientHelloError) -> ArraySlice<UInt8> {
        guard count <= bytes.count else { throw .badLength(field) }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count)
    }

    mutating func byte(_ field: String) throws(ClientHelloError) -> UInt8 { try bytes(1, field).first! }

    /// A big-endian unsigned integer of `width` bytes.
    mutating func int(_ width: Int, _ field: String) throws(ClientHelloError) -> Int {
        try bytes(width, field).reduce(0) { $0 << 8 | Int($1) }
    }

    /// A vector with a `lengthWidth`-byte length prefix.
    mutating func vector(_ lengthWidth: Int, _ field: String) throws(ClientHelloError) -> ArraySlice<UInt8> {
        let count = try int(lengthWidth, field)
        return try bytes(count, field)
    }
}
