import Foundation

/// Frames and parses server replies for the SMTP client (RFC 5321 §4.2, RFC 2034).
///
/// ```
/// Reply-line     = *( Reply-code "-" [ textstring ] CRLF )
///                  Reply-code [ SP textstring ] CRLF        ; RFC 5321 §4.2
/// Reply-code     = %x32-35 %x30-35 %x30-39
/// textstring     = 1*(%d09 / %d32-126)                      ; we accept any octet but CR, LF
/// status-code    = class "." subject "." detail             ; RFC 3463 §2, RFC 2034 §4
/// class          = "2" / "4" / "5"
/// subject        = 1*3digit
/// detail         = 1*3digit
/// ```
///
/// ```
/// S: 250-mail.example.org
/// S: 250-PIPELINING
/// S: 250 ENHANCEDSTATUSCODES
/// S: 550 5.1.1 no such user
/// ```
///
/// Lines end in CRLF only: a bare CR or LF is an error, never a line end. Every line of a
/// multi-line reply must carry the same code. The enhanced status code is taken from the
/// first line only when `enhancedStatusCodes` is on (the server announced
/// ENHANCEDSTATUSCODES); it is then removed from every line that starts with it, so that
/// `SMTPReply.encoded()` gives the reply back.
public struct SMTPReplyParser: Sendable {
    /// Why a reply could not be parsed. The connection cannot be trusted after any of them.
    public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        case lineTooLong(limit: Int)
        case tooManyLines(limit: Int)
        case bareLineEnding
        case badReplyCode(String)
        case badSeparator(String)
        case codeMismatch(first: Int, line: String)

        public var description: String {
            switch self {
            case .lineTooLong(let limit): "reply line longer than \(limit) octets"
            case .tooManyLines(let limit): "reply with more than \(limit) lines"
            case .bareLineEnding: "reply line ends in a bare CR or LF instead of CRLF"
            case .badReplyCode(let line): "reply does not start with a three-digit code: \(line.debugDescription)"
            case .badSeparator(let line): "reply code not followed by space, \"-\" or CRLF: \(line.debugDescription)"
            case .codeMismatch(let first, let line):
                "multi-line reply changes its code from \(first): \(line.debugDescription)"
            }
        }
    }

    public var enhancedStatusCodes: Bool
    public var limits: SMTPClientLimits

    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the CRLF search resumes (so a reply trickling in is not rescanned).
    private var scanIndex = 0
    private var pendingCode: Int?
    private var pendingLines: [String] = []

    public init(enhancedStatusCodes: Bool = false, limits: SMTPClientLimits = SMTPClientLimits()) {
        self.enhancedStatusCodes = enhancedStatusCodes
        self.limits = limits
    }

    /// Octets received but not yet part of a complete reply.
    public var bufferedCount: Int { buffer.count - readIndex }

    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
            scanIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        append(bytes.bindMemory(to: UInt8.self))
    }

    /// The next complete reply, nil when more input is needed.
    public mutating func next() throws(ParseError) -> SMTPReply? {
        while true {
            guard let line = try nextLine() else {
                compact()
                return nil
            }
            if let reply = try take(line) { return reply }
        }
    }

    /// Forgets buffered input and any partial reply (after the STARTTLS handshake the
    /// plaintext is gone).
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        readIndex = 0
        scanIndex = 0
        pendingCode = nil
        pendingLines = []
    }

    // MARK: - Framing

    /// The next CRLF-terminated line without its CRLF.
    private mutating func nextLine() throws(ParseError) -> ArraySlice<UInt8>? {
        var i = max(scanIndex, readIndex)
        let end = buffer.count
        while i < end {
            let byte = buffer[i]
            if byte == UInt8(ascii: "\n") {
                guard i > readIndex, buffer[i - 1] == UInt8(ascii: "\r") else { throw .bareLineEnding }
                let line = buffer[readIndex..<(i - 1)]
                readIndex = i + 1
                scanIndex = readIndex
                return line
            }
            if byte == UInt8(ascii: "\r"), i + 1 < end, buffer[i + 1] != UInt8(ascii: "\n") {
                throw .bareLineEnding
            }
            i += 1
            if i - readIndex > limits.replyLineOctets { throw .lineTooLong(limit: limits.replyLineOctets) }
        }
        scanIndex = i
        return nil
    }

    private mutating func compact() {
        if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
    }

    // MARK: - Reply lines

    private mutating func take(_ line: ArraySlice<UInt8>) throws(ParseError) -> SMTPReply? {
        let text = String(decoding: line, as: UTF8.self)
        guard line.count >= 3 else { throw .badReplyCode(text) }
        let d0 = line[line.startIndex], d1 = line[line.startIndex + 1], d2 = line[line.startIndex + 2]
        // Reply-code = %x32-35 %x30-35 %x30-39
        guard (0x32...0x35).contains(d0), (0x30...0x35).contains(d1), (0x30...0x39).contains(d2) else {
            throw .badReplyCode(text)
        }
        let code = Int(d0 - 0x30) * 100 + Int(d1 - 0x30) * 10 + Int(d2 - 0x30)
        let isLast: Bool
        var body = ""
        if line.count == 3 {
            isLast = true
        } else {
            let sep = line[line.startIndex + 3]
            guard sep == UInt8(ascii: " ") || sep == UInt8(ascii: "-") else { throw .badSeparator(text) }
            isLast = sep == UInt8(ascii: " ")
            body = String(decoding: line[(line.startIndex + 4)...], as: UTF8.self)
        }
        if let first = pendingCode, first != code { throw .codeMismatch(first: first, line: text) }
        pendingCode = code
        pendingLines.append(body)
        if !isLast && pendingLines.count >= limits.replyLines { throw .tooManyLines(limit: limits.replyLines) }
        guard isLast else { return nil }
        var lines = pendingLines
        pendingLines = []
        pendingCode = nil
        var enhanced: String?
        if enhancedStatusCodes, let status = Self.enhancedStatus(in: lines[0], code: code) {
            enhanced = status
            let prefix = status + " "
            lines = lines.map { line in
                if line == status { return "" }
                return line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)) : line
            }
        }
        return SMTPReply(code, enhanced, lines)
    }

    /// `status-code` at the start of `text`, followed by SP or the end, whose class matches
    /// the reply code's first digit (RFC 3463 §3.1: they must agree; if not, it is text).
    static func enhancedStatus(in text: String, code: Int) -> String? {
        let utf8 = Array(text.utf8.prefix(12))
        var i = 0
        func digits(max: Int) -> Bool {
            let start = i
            while i < utf8.count, i - start < max, (0x30...0x39).contains(utf8[i]) { i += 1 }
            return i > start && (i == utf8.count || !(0x30...0x39).contains(utf8[i]))
        }
        guard utf8.count >= 5, utf8[0] == UInt8(ascii: "0") + UInt8(code / 100), [2, 4, 5].contains(code / 100) else {
            return nil
        }
        i = 1
        guard utf8[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        guard digits(max: 3), i < utf8.count, utf8[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        guard digits(max: 3) else { return nil }
        guard i == utf8.count || utf8[i] == UInt8(ascii: " ") else { return nil }
        // The prefix(12) cut could only shorten a too-long detail, which `digits` refused.
        return String(decoding: utf8[0..<i], as: UTF8.self)
    }
}
