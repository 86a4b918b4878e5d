import MailCore

/// DNS messages (RFC 1035 §4) with EDNS0 (RFC 6891): a codec without I/O, for the stub
/// resolver the outbound queue will use. Parsing is strict and bounded: compression pointers
/// must point backwards, names stay within 255 octets, and every length is checked.

/// A domain name as labels (case kept; compare with ``DNSName/lowercased``).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    public var labels: [[UInt8]]

    public static let maxLength = 255
    public static let root = DNSName(labels: [])

    public init(labels: [[UInt8]]) { self.labels = labels }

    /// From dotted text (`mail.example.org`, trailing dot optional).
    public init(_ text: String) throws(DNSError) {
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        if trimmed.isEmpty {
            labels = []
            return
        }
        // Octets, not Characters: a name is ASCII, and this runs for every lookup, cached or not.
        labels = trimmed.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
        for l in labels where l.isEmpty || l.count > 63 { throw .badName("label of \(l.count) octets in \(text)") }
        guard wireLength <= Self.maxLength else { throw .badName("\(text) is longer than 255 octets") }
    }

    var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// Each label's bytes at once: the synthesized hash fed them to the hasher one by one, and
    /// every lookup, cached or not, hashes its name.
    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            label.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    public var description: String {
        labels.isEmpty ? "." : labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
    }

    public var lowercased: DNSName {
        // Names are nearly always lower case already: no copy then.
        guard labels.contains(where: { $0.contains { $0.asciiLowercased != $0 } }) else { return self }
        return DNSName(labels: labels.map { $0.map(\.asciiLowercased) })
    }
}

public enum DNSRecordType: Hashable, Sendable {
    case a, ns, cname, soa, ptr, mx, txt, aaaa, opt, tlsa
    case other(UInt16)

    public init(_ code: UInt16) {
        switch code {
        case 1: self = .a
        case 2: self = .ns
        case 5: self = .cname
        case 6: self = .soa
        case 12: self = .ptr
        case 15: self = .mx
        case 16: self = .txt
        case 28: self = .aaaa
        case 41: self = .opt
        case 52: self = .tlsa
        default: self = .other(code)
        }
    }

    public var code: UInt16 {
        switch self {
        case .a: return 1
        case .ns: return 2
        case .cname: return 5
        case .soa: return 6
        case .ptr: return 12
        case .mx: return 15
        case .txt: return 16
        case .aaaa: return 28
        case .opt: return 41
        case .tlsa: return 52
        case .other(let c): return c
        }
    }
}

/// Record data, decoded for the types mail needs; anything else stays raw.
public enum DNSRecordData: Hashable, Sendable {
    case a([UInt8])
    case aaaa([UInt8])
    case mx(preference: UInt16, exchange: DNSName)
    case txt([[UInt8]])
    case cname(DNSName)
    case ptr(DNSName)
    case ns(DNSName)
    /// RFC 6698: usage, selector, matching type, certificate association data.
    case tlsa(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8])
    case soa(mname: DNSName, rname: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)
    case raw([UInt8])
}

public struct DNSRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSRecordType
    public var rrClass: UInt16
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: DNSRecordType, rrClass: UInt16 = 1, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.rrClass = rrClass
        self.ttl = ttl
        self.data = data
    }
}

public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSRecordType
    public var qClass: UInt16

    public init(name: DNSName, type: DNSRecordType, qClass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.qClass = qClass
    }
}

public enum DNSResponseCode: Hashable, Sendable {
    case noError, formatError, serverFailure, nameError, notImplemented, refused
    case other(UInt16)

    init(_ v: UInt16) {
        switch v {
        case 0: self = .noError
        case 1: self = .formatError
        case 2: self = .serverFailure
        case 3: self = .nameError
        case 4: self = .notImplemented
        case 5: self = .refused
        default: self = .other(v)
        }
    }

    var value: UInt16 {
        switch self {
        case .noError: return 0
        case .formatError: return 1
        case .serverFailure: return 2
        case .nameError: return 3
        case .notImplemented: return 4
        case .refused: return 5
        case .other(let v): return v
        }
    }
}

/// EDNS0 OPT pseudo-record (RFC 6891 §6.1).
public struct EDNS: Hashable, Sendable {
    public var udpPayloadSize: UInt16
    /// DNSSEC OK: ask for signatures (and keep the AD bit meaningful).
    public var dnssecOK: Bool

    public init(udpPayloadSize: UInt16 = 1232, dnssecOK: Bool = false) {
        self.udpPayloadSize = udpPayloadSize
        self.dnssecOK = dnssecOK
    }
}

public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16
    public var isResponse = false
    public var opcode: UInt8 = 0
    public var authoritative = false
    public var truncated = false
    public var recursionDesired = true
    public var recursionAvailable = false
    /// Authentic Data: the resolver validated the answer with DNSSEC (kept for DANE).
    public var authenticData = false
    public var checkingDisabled = false
    public var rcode = DNSResponseCode.noError
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authority: [DNSRecord] = []
    public var additional: [DNSRecord] = []
    public var edns: EDNS?

    public init(id: UInt16) { self.id = id }

    /// A recursive query for one name and type, with EDNS0.
    public static func query(id: UInt16, name: DNSName, type: DNSRecordType, edns: EDNS? = EDNS()) -> DNSMessage {
        var m = DNSMessage(id: id)
        m.questions = [DNSQuestion(name: name, type: type)]
        m.edns = edns
        return m
    }
}

public enum DNSError: Error, Hashable, Sendable {
    case truncatedMessage
    case badName(String)
    case badPointer
    case badRecord(String)
    case trailingData
}
