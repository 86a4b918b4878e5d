import Foundation

/// A server response as a client reads it (RFC 9051 §7): what `mailroom migrate imap` needs
/// from another server, and a generic form for the rest. Framed by ``IMAPFramer`` (responses
/// carry literals as commands do), parsed by ``IMAPResponseParser``.
///
/// ```
/// S: * 3 FETCH (UID 17 FLAGS (\Seen) RFC822.SIZE 5 BODY[] {5}
/// S: hello)
/// S: a4 OK [READ-ONLY] Examine completed
/// ```
public enum IMAPResponse: Hashable, Sendable {
    /// `tag OK|NO|BAD [code] text`, ending a command.
    case tagged(tag: String, IMAPStatusResponse)
    /// `* …`
    case untagged(IMAPUntaggedResponse)
    /// `+ text`: the server waits for more of the command (a literal, SASL data).
    case continuation(String)
}

/// `OK`, `NO`, `BAD`, `BYE` or `PREAUTH` with an optional response code and text.
public struct IMAPStatusResponse: Hashable, Sendable {
    public enum Condition: String, Hashable, Sendable, CaseIterable {
        case ok = "OK", no = "NO", bad = "BAD", bye = "BYE", preauth = "PREAUTH"
    }
    public var condition: Condition
    public var code: IMAPResponseCode?
    public var text: String

    public init(_ condition: Condition, code: IMAPResponseCode? = nil, text: String) {
        self.condition = condition
        self.code = code
        self.text = text
    }
}

/// resp-text-code (RFC 9051 §7.1): the ones a migration reads, the rest as atom and text.
public enum IMAPResponseCode: Hashable, Sendable {
    /// `[CAPABILITY IMAP4rev1 AUTH=PLAIN …]`
    case capability([String])
    /// `[UIDVALIDITY 3857529045]`
    case uidValidity(UInt32)
    /// `[UIDNEXT 4392]`
    case uidNext(UInt32)
    /// Any other code: its atom (upper-cased) and what follows it up to `]`, if anything.
    case other(String, String?)
}

/// One `* …` response.
public enum IMAPUntaggedResponse: Hashable, Sendable {
    /// `* OK [UIDVALIDITY 1] …`, `* BYE …`, `* PREAUTH …`
    case status(IMAPStatusResponse)
    /// `* CAPABILITY IMAP4rev1 …`
    case capability([String])
    /// `* LIST (\HasNoChildren \Sent) "/" Sent`
    case list(IMAPListEntry)
    /// `* FLAGS (\Answered \Flagged …)`
    case flags([String])
    /// `* 23 EXISTS`
    case exists(UInt32)
    /// `* 1 RECENT`
    case recent(UInt32)
    /// `* 4 EXPUNGE`
    case expunge(UInt32)
    /// `* 3 FETCH (…)`
    case fetch(UInt32, [IMAPFetchItem])
    /// Anything else (`SEARCH`, `STATUS`, `ENABLED`, `NAMESPACE`, …): the keyword upper-cased
    /// and the bytes after it, kept as they came.
    case other(String, [UInt8])
}

/// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
/// [SP mbox-list-extended]
public struct IMAPListEntry: Hashable, Sendable {
    /// `\Noselect`, `\HasChildren`, `\Sent`, … as the server spelled them.
    public var attributes: [String]
    /// The hierarchy delimiter; nil for a flat namespace.
    public var delimiter: UInt8?
    /// The name as sent (modified UTF-7 unless UTF8=ACCEPT was enabled).
    public var name: [UInt8]
    /// mbox-list-extended, as it came (nothing when absent).
    public var extended: [UInt8]

    public init(attributes: [String], delimiter: UInt8?, name: [UInt8], extended: [UInt8] = []) {
        self.attributes = attributes
        self.delimiter = delimiter
        self.name = name
        self.extended = extended
    }

    /// Whether the server marks it `attribute` (e.g. `\Noselect`), ignoring case.
    public func has(_ attribute: String) -> Bool {
        attributes.contains { $0.caseInsensitiveCompare(attribute) == .orderedSame }
    }
}

/// msg-att items (RFC 9051 §7.5.2).
public enum IMAPFetchItem: Hashable, Sendable {
    case uid(UInt32)
    case flags([String])
    /// `INTERNALDATE "17-Jul-1996 02:44:25 -0700"`, as sent; ``IMAPDateTime`` reads it.
    case internalDate(String)
    case rfc822Size(UInt64)
    /// `BODY[section]<origin> nstring` (also `BINARY[…]`, `RFC822`, with section ""): nil data
    /// for NIL.
    case body(section: String, origin: UInt32?, data: [UInt8]?)
    /// Any other item: its name upper-cased, and its value's bytes as they came.
    case other(String, [UInt8])
}

extension Array where Element == IMAPFetchItem {
    public var uid: UInt32? {
        for case .uid(let u) in self { return u }
        return nil
    }
    public var flags: [String]? {
        for case .flags(let f) in self { return f }
        return nil
    }
    public var internalDate: String? {
        for case .internalDate(let d) in self { return d }
        return nil
    }
    public var rfc822Size: UInt64? {
        for case .rfc822Size(let s) in self { return s }
        return nil
    }
    /// The whole message: `BODY[]`, `BINARY[]` or `RFC822`.
    public var wholeBody: [UInt8]? {
        for case .body(let section, nil, let data?) in self where section.isEmpty { return data }
        return nil
    }
}
