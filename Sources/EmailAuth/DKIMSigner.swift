import Crypto
import Foundation
import MailCore

/// Signs messages for one domain and selector with `c=relaxed/relaxed` (RFC 6376, RFC 8463).
///
/// ```swift
/// let signer = DKIMSigner(domain: "example.org", selector: "mail2026", key: key)
/// let signed = Array(signer.signature(for: message).utf8) + message
/// ```
///
/// The `h=` list names each listed field once per instance present in the message, plus once
/// more for the names in `oversignedHeaders` (present or not): the extra entry signs "no further
/// instance", so a From, Subject, … added in transit breaks the signature (RFC 6376 §8.15).
public struct DKIMSigner: Sendable {
    /// The fields signed when present: RFC 6376 §5.4.1's recommendations, the threading and MIME
    /// fields, and the RFC 2369/8058 list fields.
    public static let defaultHeaders: [String] = [
        "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
        "mime-version", "content-type", "content-transfer-encoding", "content-id", "content-description",
        "resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-message-id",
        "in-reply-to", "references",
        "list-id", "list-help", "list-unsubscribe", "list-unsubscribe-post", "list-subscribe", "list-post",
        "list-owner", "list-archive",
    ]

    /// The fields signed once more than they occur. From must be (it is what DMARC aligns); the
    /// others are the fields a reader sees whose addition would change the meaning.
    public static let defaultOversignedHeaders: [String] = ["from", "reply-to", "subject", "to", "cc"]

    public let domain: String
    public let selector: String
    public let key: DKIMKey
    /// The names signed when present, in lower case; always starts with "from" (RFC 6376 §5.4).
    public let headers: [String]
    /// The names added once more than they occur, in lower case.
    public let oversignedHeaders: [String]

    /// Lines of the signature field are at most this many characters (RFC 5322 §2.1.1 asks for
    /// at most 78). A `d=` longer than a line cannot be folded and stays long.
    static let lineWidth = 76

    /// `domain` is lower-cased and a trailing dot removed; pass the ASCII (A-label) form and check
    /// it with `validate(domain:selector:)` first — a bad name gives signatures that never verify.
    public init(
        domain: String,
        selector: String,
        key: DKIMKey,
        headers: [String] = DKIMSigner.defaultHeaders,
        oversignedHeaders: [String] = DKIMSigner.defaultOversignedHeaders
    ) {
        var domain = domain.lowercased()
        while domain.hasSuffix(".") { domain.removeLast() }
        self.domain = domain
        self.selector = selector.lowercased()
        self.key = key
        var names = ["from"]
        for name in (headers + oversignedHeaders).map({ $0.lowercased() })
        where Self.isValidFieldName(name) && !names.contains(name) {
            names.append(name)
        }
        self.headers = names
        var oversigned: [String] = []
        for name in oversignedHeaders.map({ $0.lowercased() })
        where Self.isValidFieldName(name) && !oversigned.contains(name) {
            oversigned.append(name)
        }
        self.oversignedHeaders = oversigned
    }

    /// Checks that the domain and selector can be used in `d=`/`s=` and a DNS name.
    public static func validate(domain: String, selector: String) throws(DKIMError) {
        var trimmed = domain
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        guard isValidDNSName(trimmed), trimmed.contains(".") else { throw .invalidDomain(domain) }
        guard isValidDNSName(selector) else { throw .invalidSelector(selector) }
    }

    /// The complete "DKIM-Signature: ..." field, folded to lines of at most 76 characters and
    /// ending in CRLF, to put in front of `message`. Never fails: any bytes are accepted.
    public func signature(for message: [UInt8], at time: Date = Date()) -> String {
        let parsed = DKIMMessage(message)
        let signedNames = signedHeaderNames(for: parsed)
        let bodyHash = Self.bodyHash(of: parsed)
        let seconds = time.timeIntervalSince1970
        let timestamp = seconds.isFinite ? Int64(min(max(seconds, 0), 9e12).rounded(.down)) : 0

        var folder = Folder(start: "DKIM-Signature:", width: Self.lineWidth)
        folder.add("v=1;")
        folder.add("a=\(key.algorithm.signatureAlgorithm);")
        folder.add("c=relaxed/relaxed;")
        folder.add("d=\(domain);")
        folder.add("s=\(selector);")
        folder.add("t=\(timestamp);")
        for (position, name) in signedNames.enumerated() {
            let isLast = position == signedNames.count - 1
            let piece = (position == 0 ? "h=" : "") + name + (isLast ? ";" : ":")
            folder.add(piece, glued: position > 0)
        }
        folder.add("bh=\(bodyHash);")
        folder.add("b=")
        let unsigned = folder.text
        let b = Self.signatureValue(unsignedField: unsigned, signedHeaderNames: signedNames, message: parsed, key: key)
        folder.addBreakable(b)
        return folder.text + "\r\n"
    }

    /// The `h=` list for a message: each configured name once per instance present, oversigned
    /// names once more.
    public func signedHeaderNames(for message: DKIMMessage) -> [String] {
        var names: [String] = []
        for name in headers {
            var count = message.count(of: name)
            if oversignedHeaders.contains(name) { count += 1 }
            names.append(contentsOf: repeatElement(name, count: count))
        }
        return names
    }

    /// `bh=`: base64 SHA-256 of the relaxed-canonicalised body (RFC 6376 §3.7).
    public static func bodyHash(of message: DKIMMessage) -> String {
        Data(SHA256.hash(data: DKIMCanonical.relaxedBody(message.body))).base64EncodedString()
    }

    /// The `b=` value for a signature field written out up to and including an empty `b=`
    /// (folded or not, with or without the `DKIM-Signature:` name): RSA/Ed25519 over the
    /// relaxed-canonicalised signed fields followed by the relaxed-canonicalised signature field
    /// without its CRLF (RFC 6376 §3.7, §5.4).
    public static func signatureValue(
        unsignedField: String,
        signedHeaderNames: [String],
        message: DKIMMessage,
        key: DKIMKey
    ) -> String {
        var data: [UInt8] = []
        for field in message.fields(forSignedHeaders: signedHeaderNames) {
            if let canonical = DKIMCanonical.relaxedHeader(field) { data.append(contentsOf: canonical) }
        }
        var fieldBytes = Array(unsignedField.utf8)
        if !fieldBytes.starts(with: Array("dkim-signature:".utf8), by: { $0.asciiLowercased == $1 }) {
            fieldBytes = Array("DKIM-Signature:".utf8) + fieldBytes
        }
        let field = DKIMHeaderField(raw: fieldBytes)
        var canonical = DKIMCanonical.relaxedHeader(name: field.name ?? [], value: field.value)
        canonical.removeLast(2)  // the signature field is hashed without its CRLF
        data.append(contentsOf: canonical)
        return Data(key.sign(data)).base64EncodedString()
    }

    static func isValidFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != .colon && $0 != 0x3B }
    }

    static func isValidDNSName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        // One pass over the bytes, label by label (every signature checked asks twice).
        var labelLength = 0
        var previous: UInt8 = 0
        for byte in name.utf8 {
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0, previous != 0x2D else { return false }
                labelLength = 0
            } else {
                let allowed = byte.isLetterOrDigit || byte == 0x5F || (byte == 0x2D && labelLength > 0)  // _, - inside
                guard allowed, labelLength < 63 else { return false }
                labelLength += 1
            }
            previous = byte
        }
        return labelLength > 0 && previous != 0x2D
    }
}

/// Folds a tag list into lines of at most `width` characters, continuation lines starting with
/// one space. Between tags the fold replaces a space, so relaxed canonicalisation sees the same
/// text either way; inside `h=` a fold adds a space after a colon (allowed: RFC 6376 §3.5,
/// `*FWS ":" *FWS`), and the signature is computed over the folded text, so it stays valid.
struct Folder {
    private(set) var lines: [String]
    let width: Int

    init(start: String, width: Int) {
        self.lines = [start]
        self.width = width
    }

    var text: String { lines.joined(separator: "\r\n") }

    /// Adds a piece after a space, or directly after the previous one (`glued`), folding first
    /// when it would not fit.
    mutating func add(_ piece: String, glued: Bool = false) {
        let separator = glued ? "" : " "
        let last = lines[lines.count - 1]
        if last.count + separator.count + piece.count <= width || last.count <= 1 {
            lines[lines.count - 1] = last + separator + piece
        } else {
            lines.append(" " + piece)
        }
    }

    /// Adds text that may be broken anywhere (base64 in `b=`), filling lines to the width.
    mutating func addBreakable(_ text: String) {
        var rest = Substring(text)
        while !rest.isEmpty {
            let room = width - lines[lines.count - 1].count
            if room <= 0 {
                lines.append(" ")
                continue
            }
            lines[lines.count - 1] += rest.prefix(room)
            rest = rest.dropFirst(room)
        }
    }
}
