import IMAP
import MIME

/// A response the session sends, other than FETCH's message data (RFC 9051 §7), encoded in
/// one place.
///
///     S: * 3 EXISTS
///     S: * OK [UIDNEXT 4] Predicted next UID
///     S: * LIST (\HasNoChildren) "/" Sent
///     S: A1 OK [READ-WRITE] SELECT completed
///
/// Response codes are the text between the brackets, as written (`UIDNEXT 4`), and texts are
/// written as given: neither may hold a line break. Names, strings and numbers are typed and
/// encoded here (atoms, quoted strings or literals as the bytes need).
enum IMAPResponse: Hashable, Sendable {
    /// The condition of a status response (RFC 9051 §7.1).
    enum Status: String, Hashable, Sendable {
        case ok = "OK"
        case no = "NO"
        case bad = "BAD"
    }

    /// A mailbox name as this client reads it: UTF-8 once it enabled UTF8=ACCEPT or
    /// IMAP4rev2, modified UTF-7 otherwise (RFC 9051 §5.1, RFC 6855 §3).
    struct Name: Hashable, Sendable {
        var name: String
        var utf8: Bool
    }

    /// One item of an ESEARCH response (RFC 4731 §3.1, RFC 5267 §3 and §4.4, RFC 7162 §3.1.5).
    enum ESearchItem: Hashable, Sendable {
        case min(UInt32)
        case max(UInt32)
        case count(Int)
        /// The numbers as a sequence-set in the order given: only ascending runs become ranges,
        /// so ESORT's order survives (RFC 5267 §3.2).
        case all([UInt32])
        /// The messages at these positions of the result; none: `NIL`.
        case partial(ClosedRange<UInt32>, [UInt32])
        case modseq(Int64)
    }

    /// A STATUS item and its value.
    struct StatusItem: Hashable, Sendable {
        var attribute: StatusAttribute
        var value: Int64
    }

    /// A resource of a quota root (RFC 9208 §5.1): usage and limit in its units (KiB for STORAGE).
    struct QuotaResource: Hashable, Sendable {
        var name: String
        var usage: Int64
        var limit: Int64
    }

    /// `tag OK [code] text`: the command with this tag is done.
    case tagged(String, Status, code: String? = nil, String)
    /// `* OK [code] text` (or NO, BAD): a status not tied to a command.
    case untagged(Status, code: String? = nil, String)
    /// `* BYE text`: the server closes the connection.
    case bye(String)
    /// `+ text`: go on (a literal, IDLE, a SASL step).
    case continuation(String)
    /// `* CAPABILITY ...`
    case capability([String])
    /// `* ENABLED ...` (RFC 5161): the extensions this ENABLE turned on.
    case enabled([String])
    /// `* ID ("name" "Mailroom" ...)` (RFC 2971): fields and values, in order.
    case id([String])
    /// `* NAMESPACE (("" "/")) NIL NIL` (RFC 2342): the personal namespace's prefix; no
    /// other users' or shared namespaces.
    case namespace(personal: String)
    /// `* FLAGS (...)`: the flags the mailbox has.
    case flags([String])
    /// `* n EXISTS`
    case exists(Int)
    /// `* n RECENT` (IMAP4rev1 only)
    case recent(Int)
    /// `* n EXPUNGE`: message number n is gone; those above it move down by one.
    case expunge(Int)
    /// `* VANISHED [(EARLIER)] uids` (QRESYNC, RFC 7162 §3.2.10): these UIDs are gone;
    /// EARLIER when they went before this command, in answer to the client's MODSEQ.
    case vanished(earlier: Bool, [UInt32])
    /// `* n FETCH (UID u FLAGS (...) MODSEQ (m))`: a message's flags changed (STORE, another
    /// session, QRESYNC); the items given, in that order.
    case flagUpdate(Int, uid: Int64?, flags: [String]?, modseq: Int64?)
    /// `* LIST (attributes) "/" name` and, for RECURSIVEMATCH, `("CHILDINFO" (criteria))`
    /// (RFC 9051 §7.3.1, RFC 5258 §3.5).
    case list([String], Name, childInfo: [String] = [])
    /// `* LSUB (attributes) "/" name` (RFC 3501 §7.2.3).
    case lsub([String], Name)
    /// `* STATUS name (item value ...)` (RFC 9051 §7.3.4).
    case status(Name, [StatusItem])
    /// `* SEARCH n ... [(MODSEQ m)]` (RFC 3501 §7.2.5, RFC 7162 §3.1.5).
    case search([UInt32], modseq: Int64?)
    /// `* ESEARCH (TAG "t") [UID] items` (RFC 4731, RFC 5267 for ESORT).
    case esearch(tag: String, uid: Bool, [ESearchItem])
    /// `* SORT n ... [(MODSEQ m)]` (RFC 5256 §4), in sort order.
    case sort([UInt32], modseq: Int64?)
    /// `* THREAD (...)...` (RFC 5256 §4).
    case thread(ThreadForest)
    /// `* QUOTAROOT name root ...` (RFC 9208 §5.2).
    case quotaRoot(Name, roots: [String])
    /// `* QUOTA root (resource usage limit ...)` (RFC 9208 §5.1).
    case quota(root: String, [QuotaResource])

    /// The response's line, with its CRLF.
    var bytes: [UInt8] {
        var b: [UInt8] = []
        encode(into: &b)
        return b
    }

    /// Appends the response's line, with its CRLF.
    func encode(into b: inout [UInt8]) {
        switch self {
        case .tagged(let tag, let status, let code, let text):
            b += tag.utf8
            b.append(0x20)
            Self.status(status, code, text, into: &b)
        case .untagged(let status, let code, let text):
            b += Self.star
            Self.status(status, code, text, into: &b)
        case .bye(let text): b += "* BYE \(text)".utf8
        case .continuation(let text): b += "+ \(text)".utf8
        case .capability(let caps): b += "* CAPABILITY \(caps.joined(separator: " "))".utf8
        case .enabled(let caps): b += "* ENABLED \(caps.joined(separator: " "))".utf8
        case .id(let fields):
            b += "* ID (".utf8
            for (i, field) in fields.enumerated() {
                if i > 0 { b.append(0x20) }
                b += IMAPString.quoted(string: field)
            }
            b.append(0x29)
        case .namespace(let prefix):
            b += "* NAMESPACE ((".utf8
            b += IMAPString.quoted(string: prefix)
            b += " \"/\")) NIL NIL".utf8
        case .flags(let flags): b += "* FLAGS (\(flags.joined(separator: " ")))".utf8
        case .exists(let n): Self.numbered(n, "EXISTS", into: &b)
        case .recent(let n): Self.numbered(n, "RECENT", into: &b)
        case .expunge(let n): Self.numbered(n, "EXPUNGE", into: &b)
        case .vanished(let earlier, let uids):
            b += "* VANISHED \(earlier ? "(EARLIER) " : "")\(SequenceSet.compact(uids))".utf8
        case .flagUpdate(let msn, let uid, let flags, let modseq):
            Self.numbered(msn, "FETCH (", into: &b)
            var items: [String] = []
            if let uid { items.append("UID \(uid)") }
            if let flags { items.append("FLAGS (\(flags.joined(separator: " ")))") }
            if let modseq { items.append("MODSEQ (\(modseq))") }
            b += items.joined(separator: " ").utf8
            b.append(0x29)
        case .list(let attributes, let name, let childInfo):
            b += "* LIST (\(attributes.joined(separator: " "))) \"/\" ".utf8
            Self.name(name, into: &b)
            if !childInfo.isEmpty {
                b += " (\"CHILDINFO\" (\(childInfo.map { "\"\($0)\"" }.joined(separator: " "))))".utf8
            }
        case .lsub(let attributes, let name):
            b += "* LSUB (\(attributes.joined(separator: " "))) \"/\" ".utf8
            Self.name(name, into: &b)
        case .status(let name, let items):
            b += "* STATUS ".utf8
            Self.name(name, into: &b)
            b += " (\(items.map { "\($0.attribute.rawValue) \($0.value)" }.joined(separator: " ")))".utf8
        case .search(let numbers, let modseq):
            b += "* SEARCH".utf8
            Self.numbers(numbers, modseq: modseq, into: &b)
        case .sort(let numbers, let modseq):
            b += "* SORT".utf8
            Self.numbers(numbers, modseq: modseq, into: &b)
        case .esearch(let tag, let uid, let items):
            b += "* ESEARCH (TAG ".utf8
            b += IMAPString.quoted(string: tag)
            b.append(0x29)
            if uid { b += " UID".utf8 }
            for item in items {
                switch item {
                case .min(let n): b += " MIN \(n)".utf8
                case .max(let n): b += " MAX \(n)".utf8
                case .count(let n): b += " COUNT \(n)".utf8
                case .all(let numbers): b += " ALL \(SequenceSet.compact(numbers))".utf8
                case .partial(let range, let numbers):
                    let set = numbers.isEmpty ? "NIL" : SequenceSet.compact(numbers)
                    b += " PARTIAL (\(range.lowerBound):\(range.upperBound) \(set))".utf8
                case .modseq(let m): b += " MODSEQ \(m)".utf8
                }
            }
        case .thread(let threads):
            b += "* THREAD".utf8
            if !threads.roots.isEmpty { b += " \(Threader.encode(threads))".utf8 }
        case .quotaRoot(let name, let roots):
            b += "* QUOTAROOT ".utf8
            Self.name(name, into: &b)
            for root in roots {
                b.append(0x20)
                b += IMAPString.quoted(string: root)
            }
        case .quota(let root, let resources):
            b += "* QUOTA ".utf8
            b += IMAPString.quoted(string: root)
            b += " (\(resources.map { "\($0.name) \($0.usage) \($0.limit)" }.joined(separator: " ")))".utf8
        }
        b += Self.crlf
    }

    private static let star = Array("* ".utf8)
    private static let crlf: [UInt8] = [0x0D, 0x0A]

    /// resp-cond-state (RFC 9051 §9): `OK [code] text`.
    private static func status(_ status: Status, _ code: String?, _ text: String, into b: inout [UInt8]) {
        b += "\(status.rawValue) \(code.map { "[\($0)] " } ?? "")\(text)".utf8
    }

    /// `* n WORD`
    private static func numbered(_ n: Int, _ word: String, into b: inout [UInt8]) {
        b += star
        b.appendDecimal(Int64(n))
        b.append(0x20)
        b += word.utf8
    }

    /// ` n n n [(MODSEQ m)]`: SEARCH and SORT answers are long; the digits go straight in.
    private static func numbers(_ numbers: [UInt32], modseq: Int64?, into b: inout [UInt8]) {
        b.reserveCapacity(b.count + numbers.count * 7)
        for n in numbers {
            b.append(0x20)
            b.appendDecimal(Int64(n))
        }
        if let modseq { b += " (MODSEQ \(modseq))".utf8 }
    }

    /// mailbox (RFC 9051 §9): an astring, in the client's encoding of names.
    private static func name(_ name: Name, into b: inout [UInt8]) {
        b += name.utf8
            ? IMAPString.astring(Array(name.name.utf8), utf8: true)
            : IMAPString.astring(Array(ModifiedUTF7.encode(name.name).utf8))
    }
}

extension ResponseWriter {
    func write(_ response: IMAPResponse) { write { response.encode(into: &$0) } }
}
