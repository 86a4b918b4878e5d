import Foundation

/// One client command with its tag.
///
/// ```
/// C: a1 SELECT INBOX
/// ```
public struct TaggedCommand: Hashable, Sendable {
    public var tag: String
    public var command: IMAPCommand

    public init(tag: String, command: IMAPCommand) {
        self.tag = tag
        self.command = command
    }
}

/// Every command the server understands (RFC 3501, RFC 9051 and the extensions it
/// advertises). Mailbox names are as the client sent them (bytes), decoded later by the
/// session, which knows whether UTF8=ACCEPT is on.
public enum IMAPCommand: Hashable, Sendable {
    // Any state
    case capability
    case noop
    case logout
    /// RFC 2971: parameters, or nil for `ID NIL`.
    case id([String: String?]?)
    // Not authenticated
    case starttls
    case login(user: String, password: String)
    /// The SASL mechanism and the RFC 4959 initial response (base64 text; "=" is empty).
    case authenticate(mechanism: String, initialResponse: String?)
    // Authenticated
    case enable([String])
    case select(MailboxName, SelectParameters)
    case examine(MailboxName, SelectParameters)
    case create(MailboxName, specialUse: [String])
    case delete(MailboxName)
    case rename(MailboxName, MailboxName)
    case subscribe(MailboxName)
    case unsubscribe(MailboxName)
    case list(ListCommand)
    case lsub(reference: MailboxName, pattern: MailboxName)
    case namespace
    case status(MailboxName, [StatusAttribute])
    case append(MailboxName, flags: [String], date: Date?, message: [UInt8])
    case idle
    case getQuota(String)
    case getQuotaRoot(MailboxName)
    case setQuota(String)
    // Selected
    case check
    case close
    case unselect
    case expunge
    case uidExpunge(SequenceSet)
    case search(SearchCommand, uid: Bool)
    /// RFC 5256 SORT and UID SORT, with RFC 5267 ESORT return options.
    case sort(SortCommand, uid: Bool)
    /// RFC 5256 THREAD and UID THREAD.
    case thread(ThreadCommand, uid: Bool)
    case fetch(SequenceSet, [FetchAttribute], FetchModifiers, uid: Bool)
    case store(SequenceSet, StoreFlags, unchangedSince: UInt64?, uid: Bool)
    case copy(SequenceSet, MailboxName, uid: Bool)
    case move(SequenceSet, MailboxName, uid: Bool)
}

/// A mailbox name as sent: modified UTF-7 or UTF-8 bytes, decoded by the session.
public struct MailboxName: Hashable, Sendable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ s: String) { self.bytes = Array(s.utf8) }
}

/// SELECT/EXAMINE parameters: CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (§3.2.5).
public struct SelectParameters: Hashable, Sendable {
    public var condstore = false
    public var qresync: QResync?
    public init(condstore: Bool = false, qresync: QResync? = nil) {
        self.condstore = condstore
        self.qresync = qresync
    }
}

/// `QRESYNC (uidvalidity modseq [known-uids [(seq-match-data)]])`.
public struct QResync: Hashable, Sendable {
    public var uidValidity: UInt32
    public var modseq: UInt64
    public var knownUIDs: SequenceSet?
    /// The optional `(known-sequence-set known-uid-set)`; accepted and not needed, since
    /// VANISHED (EARLIER) is computed exactly from the expunge log.
    public var matchSequences: SequenceSet?
    public var matchUIDs: SequenceSet?

    public init(uidValidity: UInt32, modseq: UInt64, knownUIDs: SequenceSet? = nil) {
        self.uidValidity = uidValidity
        self.modseq = modseq
        self.knownUIDs = knownUIDs
    }
}

/// LIST with RFC 5258 (LIST-EXTENDED) and RFC 5819 (LIST-STATUS) options.
public struct ListCommand: Hashable, Sendable {
    public var reference: MailboxName
    public var patterns: [MailboxName]
    /// SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE (uppercased).
    public var selectOptions: [String] = []
    /// SUBSCRIBED, CHILDREN, SPECIAL-USE (uppercased), and STATUS attributes.
    public var returnOptions: [String] = []
    public var returnStatus: [StatusAttribute]?

    public init(reference: MailboxName, patterns: [MailboxName]) {
        self.reference = reference
        self.patterns = patterns
    }
}

public enum StatusAttribute: String, Hashable, Sendable, CaseIterable {
    case messages = "MESSAGES", recent = "RECENT", uidNext = "UIDNEXT", uidValidity = "UIDVALIDITY", unseen = "UNSEEN"
    case deleted = "DELETED", size = "SIZE", highestModseq = "HIGHESTMODSEQ", appendLimit = "APPENDLIMIT"
}

/// STORE's flags: `[+|-]FLAGS[.SILENT] (flags)`.
public struct StoreFlags: Hashable, Sendable {
    public enum Mode: Hashable, Sendable { case add, remove, replace }
    public var mode: Mode
    public var silent: Bool
    public var flags: [String]
    public init(mode: Mode, silent: Bool, flags: [String]) {
        self.mode = mode
        self.silent = silent
        self.flags = flags
    }
}

/// FETCH modifiers: `(CHANGEDSINCE n [VANISHED])` (RFC 7162).
public struct FetchModifiers: Hashable, Sendable {
    public var changedSince: UInt64?
    public var vanished = false
    public init(changedSince: UInt64? = nil, vanished: Bool = false) {
        self.changedSince = changedSince
        self.vanished = vanished
    }
}

/// What FETCH can ask for (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ).
public enum FetchAttribute: Hashable, Sendable {
    case envelope, flags, internalDate, rfc822Size, bodyStructure, body, uid, modseq
    case rfc822, rfc822Header, rfc822Text
    /// BODY[section]<partial>, BODY.PEEK when `peek`.
    case bodySection(SectionSpec, partial: ClosedRange<Int>?, peek: Bool)
    /// BINARY[part]<partial> and BINARY.PEEK.
    case binary(part: [Int], partial: ClosedRange<Int>?, peek: Bool)
    case binarySize(part: [Int])
}

/// A body section: part numbers and what of the part (RFC 9051 §6.4.5).
public struct SectionSpec: Hashable, Sendable {
    public enum Text: Hashable, Sendable {
        case header, headerFields([String]), headerFieldsNot([String]), text, mime
    }
    public var part: [Int]
    public var text: Text?

    public init(part: [Int] = [], text: Text? = nil) {
        self.part = part
        self.text = text
    }
}

extension SectionSpec: CustomStringConvertible {
    /// The section as written between brackets, in commands and in FETCH responses:
    /// `1.2.HEADER.FIELDS (Subject From)`.
    public var description: String {
        var parts = part.map(String.init)
        switch text {
        case nil: break
        case .header: parts.append("HEADER")
        case .text: parts.append("TEXT")
        case .mime: parts.append("MIME")
        case .headerFields(let f): parts.append("HEADER.FIELDS (\(f.joined(separator: " ")))")
        case .headerFieldsNot(let f): parts.append("HEADER.FIELDS.NOT (\(f.joined(separator: " ")))")
        }
        return parts.joined(separator: ".")
    }
}

/// SEARCH with its ESEARCH return options (RFC 4731) and charset.
public struct SearchCommand: Hashable, Sendable {
    /// nil: a plain SEARCH, answered with `* SEARCH`; otherwise `RETURN (...)` options
    /// (MIN, MAX, ALL, COUNT, SAVE); an empty list means ALL.
    public var returnOptions: [String]?
    public var charset: String?
    public var key: SearchKey

    public init(returnOptions: [String]? = nil, charset: String? = nil, key: SearchKey) {
        self.returnOptions = returnOptions
        self.charset = charset
        self.key = key
    }
}

/// One search criterion (RFC 9051 §6.4.4, RFC 7162 MODSEQ). A list of keys means all of them.
public indirect enum SearchKey: Hashable, Sendable {
    case all
    case and([SearchKey])
    case or(SearchKey, SearchKey)
    case not(SearchKey)
    /// \Answered, \Deleted, \Draft, \Flagged, \Seen or a keyword; `set` false means "without".
    case flag(String, set: Bool)
    case new, old, recent
    case before(Date), on(Date), since(Date)
    case sentBefore(Date), sentOn(Date), sentSince(Date)
    case larger(Int), smaller(Int)
    case header(String, String)
    case subject(String), from(String), to(String), cc(String), bcc(String)
    case body(String), text(String)
    case uid(SequenceSet)
    case sequence(SequenceSet)
    case modseq(UInt64)
    /// RFC 5032 WITHIN: the internal date is at least / less than this many seconds ago.
    case older(UInt32), younger(UInt32)
}
