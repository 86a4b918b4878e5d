/// The fields SORT and THREAD need, read back from a stored ENVELOPE (the bytes ``Envelope``
/// rendered when the message was stored), so that sorting a mailbox reads no message.
///
///     envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP
///                env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
///     address  = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
///     nstring  = string / nil;  string = quoted / literal            ; RFC 3501 §9
public struct EnvelopeFields: Hashable, Sendable {
    public var date: [UInt8]?
    public var subject: [UInt8]?
    /// The first address of each list: what SORT FROM/TO/CC and DISPLAYFROM/DISPLAYTO use
    /// (RFC 5256 §3, RFC 5957 §2). For `group: a@x;` that is the group's start, whose
    /// addr-mailbox is the group name and whose host is NIL (Dovecot sorts it so too).
    public var from: EnvelopeAddress?
    public var to: EnvelopeAddress?
    public var cc: EnvelopeAddress?
    public var inReplyTo: [UInt8]?
    public var messageID: [UInt8]?

    public init() {}

    /// Which fields to copy out; the others are only stepped over (a SORT by one key parses
    /// every envelope of the mailbox, and copies cost more than stepping).
    public struct Parts: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let date = Parts(rawValue: 1)
        public static let subject = Parts(rawValue: 2)
        public static let from = Parts(rawValue: 4)
        public static let to = Parts(rawValue: 8)
        public static let cc = Parts(rawValue: 16)
        /// In-Reply-To and Message-ID.
        public static let ids = Parts(rawValue: 32)
        public static let all: Parts = [.date, .subject, .from, .to, .cc, .ids]
    }

    /// nil when the bytes are not an envelope.
    public init?(imap bytes: [UInt8], parts: Parts = .all) {
        guard let f = bytes.withUnsafeBytes({ EnvelopeFields(imap: $0, parts: parts) }) else { return nil }
        self = f
    }

    public init?(imap bytes: UnsafeRawBufferPointer, parts: Parts = .all) {
        var r = Reader(bytes: bytes)
        guard r.skip(ASCII.openParen), let date = r.nstring(keep: parts.contains(.date)), r.skip(ASCII.space),
            let subject = r.nstring(keep: parts.contains(.subject))
        else { return nil }
        if parts.contains(.date) { self.date = date }
        if parts.contains(.subject) { self.subject = subject }
        let lists: [Parts] = [.from, [], [], .to, .cc, []]
        for list in lists {
            guard r.skip(ASCII.space), let first = r.addressList(keep: parts.contains(list) && !list.isEmpty) else {
                return nil
            }
            switch list {
            case .from: from = first
            case .to: to = first
            case .cc: cc = first
            default: break
            }
        }
        let ids = parts.contains(.ids)
        guard r.skip(ASCII.space), let inReplyTo = r.nstring(keep: ids), r.skip(ASCII.space),
            let messageID = r.nstring(keep: ids), r.skip(ASCII.closeParen)
        else { return nil }
        if ids {
            self.inReplyTo = inReplyTo
            self.messageID = messageID
        }
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        mutating func skip(_ b: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }

        /// The outer optional: parsed or not; the inner: the value, nil for NIL (and nil
        /// whatever the value, without `keep`).
        mutating func nstring(keep: Bool = true) -> [UInt8]?? {
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case 78:  // NIL
                guard i + 3 <= bytes.count, bytes[i + 1] == 73, bytes[i + 2] == 76 else { return nil }
                i += 3
                return .some(nil)
            case ASCII.quote:
                i += 1
                var out: [UInt8] = []
                while i < bytes.count {
                    var b = bytes[i]
                    i += 1
                    if b == ASCII.quote { return .some(keep ? out : nil) }
                    if b == ASCII.backslash {
                        guard i < bytes.count else { return nil }
                        b = bytes[i]
                        i += 1
                    }
                    if keep { out.append(b) }
                }
                return nil
            case 123:  // {n}CRLF
                i += 1
                var n = 0
                while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57, n < 1 << 30 {
                    n = n * 10 + Int(bytes[i] - 48)
                    i += 1
                }
                guard skip(125), skip(ASCII.cr), skip(ASCII.lf), i + n <= bytes.count else { return nil }
                defer { i += n }
                return .some(keep ? Array(bytes[i..<(i + n)]) : nil)
            default:
                return nil
            }
        }

        /// `"(" 1*address ")" / nil`: the first address.
        mutating func addressList(keep: Bool) -> EnvelopeAddress?? {
            if skip(ASCII.openParen) {
                var first: EnvelopeAddress?
                while !skip(ASCII.closeParen) {
                    let wanted = keep && first == nil
                    guard skip(ASCII.openParen), let name = nstring(keep: wanted), skip(ASCII.space),
                        nstring(keep: false) != nil, skip(ASCII.space), let mailbox = nstring(keep: wanted),
                        skip(ASCII.space), let host = nstring(keep: wanted), skip(ASCII.closeParen)
                    else { return nil }
                    if wanted { first = EnvelopeAddress(name: name, mailbox: mailbox, host: host) }
                }
                return .some(first)
            }
            guard nstring(keep: false) != nil else { return nil }
            return .some(nil)
        }
    }
}

/// One address of an envelope, as raw bytes (the name may hold RFC 2047 words).
public struct EnvelopeAddress: Hashable, Sendable {
    public var name: [UInt8]?
    public var mailbox: [UInt8]?
    public var host: [UInt8]?

    public init(name: [UInt8]?, mailbox: [UInt8]?, host: [UInt8]?) {
        self.name = name
        self.mailbox = mailbox
        self.host = host
    }

    /// RFC 5957 §2: the display name (RFC 2047 words decoded) when there is one, otherwise
    /// the addr-spec `mailbox@host`.
    public var displayName: String {
        if let name, !name.isEmpty {
            let decoded = EncodedWord.decode(String(decoding: name, as: UTF8.self))
            if !decoded.allSatisfy(\.isWhitespace) { return decoded }
        }
        return addrSpec
    }

    /// `mailbox@host`; a group's start (NIL host) is its name alone.
    public var addrSpec: String {
        let local = String(decoding: mailbox ?? [], as: UTF8.self)
        guard let host else { return local }
        return local + "@" + String(decoding: host, as: UTF8.self)
    }
}
