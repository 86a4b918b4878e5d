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

    /// nil when the bytes are not an envelope.
    public init?(imap bytes: [UInt8]) {
        guard let f = bytes.withUnsafeBytes({ EnvelopeFields(imap: $0) }) else { return nil }
        self = f
    }

    public init?(imap bytes: UnsafeRawBufferPointer) {
        var r = Reader(bytes: bytes)
        guard r.skip(ASCII.openParen), let date = r.nstring(), r.skip(ASCII.space), let subject = r.nstring() else {
            return nil
        }
        self.date = date
        self.subject = subject
        for list in 0..<6 {
            guard r.skip(ASCII.space), let first = r.addressList() else { return nil }
            switch list {
            case 0: from = first
            case 3: to = first
            case 4: cc = first
            default: break
            }
        }
        guard r.skip(ASCII.space), let inReplyTo = r.nstring(), r.skip(ASCII.space), let messageID = r.nstring(),
            r.skip(ASCII.closeParen)
        else { return nil }
        self.inReplyTo = inReplyTo
        self.messageID = messageID
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        mutating func skip(_ b: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }

        /// The outer optional: parsed or not; the inner: the value, nil for NIL.
        mutating func nstring() -> [UInt8]?? {
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
                    if b == ASCII.quote { return .some(out) }
                    if b == ASCII.backslash {
                        guard i < bytes.count else { return nil }
                        b = bytes[i]
                        i += 1
                    }
                    out.append(b)
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
                return .some(Array(bytes[i..<(i + n)]))
            default:
                return nil
            }
        }

        /// `"(" 1*address ")" / nil`: the first address.
        mutating func addressList() -> EnvelopeAddress?? {
            if skip(ASCII.openParen) {
                var first: EnvelopeAddress?
                while !skip(ASCII.closeParen) {
                    guard skip(ASCII.openParen), let name = nstring(), skip(ASCII.space), nstring() != nil,
                        skip(ASCII.space),
                        let mailbox = nstring(), skip(ASCII.space), let host = nstring(), skip(ASCII.closeParen)
                    else { return nil }
                    if first == nil { first = EnvelopeAddress(name: name, mailbox: mailbox, host: host) }
                }
                return .some(first)
            }
            guard nstring() != nil else { return nil }
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
