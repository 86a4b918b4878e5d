import Foundation
import MIME

/// The tokens a per-user junk classifier learns from and judges by: the words of the Subject
/// and of the text parts, lower-cased, and a few tokens from header fields that tell senders
/// and their software apart. Each token counts once per message (presence, not frequency),
/// as in SpamBayes and mox.
///
///     JunkTokenizer.tokens(Array("From: a@shop.test\r\nSubject: Cheap pills\r\n\r\nBuy now!\r\n".utf8))
///     → ["from-domain:shop.test", "subject:cheap", "subject:pills", "buy", "now"]
///
/// Pure: no I/O, no state.
public enum JunkTokenizer {
    /// Words shorter than this carry little (articles, "is", "to") and are skipped.
    public static let minimumWordLength = 3
    /// Longer "words" are base64 runs, hashes and the like: skipped.
    public static let maximumWordLength = 40
    /// Distinct tokens taken from one message (headers first, then the Subject, then the body),
    /// so that a huge message costs as much as a large one.
    public static let maximumTokens = 1000
    /// Text taken from the decoded body, in characters.
    public static let maximumBodyCharacters = 200_000

    /// Header fields whose value (lower-cased, first 40 characters) becomes a token: the
    /// software that wrote the message and the bulk-mail markers.
    static let valueFields = ["x-mailer", "user-agent", "precedence", "x-priority", "importance"]
    /// Header fields whose presence alone becomes a token.
    static let presenceFields = [
        "list-id", "list-unsubscribe", "in-reply-to", "references", "dkim-signature", "mime-version",
    ]

    /// The tokens of a message as it arrived (header and body).
    public static func tokens(_ message: [UInt8]) -> [String] {
        let parsed = ParsedMessage(parsing: message)
        let fields = parsed.searchFields()
        return tokens(headerFields: parsed.headerFields, subject: fields.subject, body: fields.body)
    }

    /// The tokens of a message's parts: its top-level header fields (raw values), its decoded
    /// Subject and the decoded text of its text parts.
    public static func tokens(headerFields: [(name: String, value: String)], subject: String, body: String) -> [String]
    {
        var out = TokenSet()
        for (name, value) in headerFields {
            let lower = name.lowercased()
            switch lower {
            case "from", "reply-to":
                let domains = HeaderMailboxes.parse(Array(value.utf8)).map { $0.domain.lowercased() }
                for d in domains where !d.isEmpty { out.insert("\(lower == "from" ? "from" : "reply-to")-domain:\(d)") }
            case "message-id":
                if let at = value.lastIndex(of: "@") {
                    let domain = value[value.index(after: at)...].prefix { $0 != ">" && !$0.isWhitespace }.lowercased()
                    if !domain.isEmpty { out.insert("message-id-domain:\(domain)") }
                }
            case "content-type":
                let type = value.prefix { $0 != ";" }.trimmingSpaces.lowercased()
                if !type.isEmpty { out.insert("header:content-type:\(type.prefix(maximumWordLength))") }
            default:
                if valueFields.contains(lower) {
                    let v = value.trimmingSpaces.lowercased()
                    out.insert("header:\(lower):\(v.prefix(maximumWordLength))")
                } else if presenceFields.contains(lower) {
                    out.insert("header:\(lower)")
                }
            }
        }
        for word in words(subject) { out.insert("subject:" + word) }
        let raw = String(body.prefix(maximumBodyCharacters))
        // Links first, from the markup too (`href="…"`), then the words of the text.
        for host in urlHosts(raw) { out.insert("url:" + host) }
        for word in words(stripTags(raw)) { out.insert(word) }
        return out.tokens
    }

    /// Lower-cased runs of letters, digits, `'`, `$` and `€`, of 3 to 40 characters. A run
    /// inside a longer one (a URL's parts) counts separately, since `.`, `/`, `-` split.
    public static func words(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var count = 0
        func flush() {
            if count >= minimumWordLength && count <= maximumWordLength { result.append(current.lowercased()) }
            current = ""
            count = 0
        }
        for ch in text {
            if ch.isLetter || ch.isNumber || ch == "'" || ch == "$" || ch == "€" {
                if count <= maximumWordLength { current.append(ch) }
                count += 1
            } else {
                flush()
            }
        }
        flush()
        return result.map { $0.trimming("'") }.filter { $0.count >= minimumWordLength }
    }

    /// Hosts of `http://` and `https://` links, lower-cased.
    static func urlHosts(_ text: String) -> [String] {
        var hosts: [String] = []
        var rest = text.lowercased()[...]
        while let r = rest.range(of: "http") {
            rest = rest[r.upperBound...]
            var after = rest
            if after.hasPrefix("s") { after = after.dropFirst() }
            guard after.hasPrefix("://") else { continue }
            after = after.dropFirst(3)
            let host = after.prefix { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
            if host.count >= minimumWordLength && host.count <= 80 { hosts.append(String(host)) }
            rest = after
        }
        return hosts
    }

    /// HTML tags become spaces, so that markup gives no words (`<td>`, `style`, `font`).
    static func stripTags(_ text: String) -> String {
        guard text.contains("<") else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var inTag = false
        for ch in text {
            if inTag {
                if ch == ">" { inTag = false }
            } else if ch == "<" {
                inTag = true
                out.append(" ")
            } else {
                out.append(ch)
            }
        }
        return out
    }

    /// Distinct tokens in the order first seen, up to ``maximumTokens``.
    struct TokenSet {
        var seen: Set<String> = []
        var tokens: [String] = []

        mutating func insert(_ token: String) {
            guard tokens.count < JunkTokenizer.maximumTokens, seen.insert(token).inserted else { return }
            tokens.append(token)
        }
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    fileprivate func trimming(_ c: Character) -> String {
        String(drop { $0 == c }.reversed().drop { $0 == c }.reversed())
    }
}
