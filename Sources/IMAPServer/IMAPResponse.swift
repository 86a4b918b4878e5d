import IMAP

/// A response the session sends, other than FETCH's (RFC 9051 §7), encoded in one place.
///
///     S: * 3 EXISTS
///     S: * OK [UIDNEXT 4] Predicted next UID
///     S: A1 OK [READ-WRITE] SELECT completed
///
/// Response codes are the text between the brackets, as written (`UIDNEXT 4`), and texts are
/// written as given: neither may hold a line break.
enum IMAPResponse: Hashable, Sendable {
    /// The condition of a status response (RFC 9051 §7.1).
    enum Status: String, Hashable, Sendable {
        case ok = "OK"
        case no = "NO"
        case bad = "BAD"
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

    /// The response's line, with its CRLF.
    var bytes: [UInt8] { Array(text.utf8) }

    var text: String {
        switch self {
        case .tagged(let tag, let status, let code, let text): return "\(tag) \(Self.status(status, code, text))\r\n"
        case .untagged(let status, let code, let text): return "* \(Self.status(status, code, text))\r\n"
        case .bye(let text): return "* BYE \(text)\r\n"
        case .continuation(let text): return "+ \(text)\r\n"
        case .capability(let caps): return "* CAPABILITY \(caps.joined(separator: " "))\r\n"
        case .enabled(let caps): return "* ENABLED \(caps.joined(separator: " "))\r\n"
        case .flags(let flags): return "* FLAGS (\(flags.joined(separator: " ")))\r\n"
        case .exists(let n): return "* \(n) EXISTS\r\n"
        case .recent(let n): return "* \(n) RECENT\r\n"
        case .expunge(let n): return "* \(n) EXPUNGE\r\n"
        case .vanished(let earlier, let uids):
            return "* VANISHED \(earlier ? "(EARLIER) " : "")\(SequenceSet.compact(uids))\r\n"
        }
    }

    /// resp-cond-state (RFC 9051 §9): `OK [code] text`.
    private static func status(_ status: Status, _ code: String?, _ text: String) -> String {
        "\(status.rawValue) \(code.map { "[\($0)] " } ?? "")\(text)"
    }
}

extension ResponseWriter {
    func write(_ response: IMAPResponse) { write(response.bytes) }
}
