/// Splits what a client sends into commands: words separated by spaces, ended by CRLF, with
/// strings quoted or as literals whose octets may span lines (RFC 5804 §4).
///
///     string      = quoted / literal-c2s
///     quoted      = DQUOTE *QUOTED-CHAR DQUOTE      ; at most 1024 octets (§4)
///     literal-c2s = "{" number "+}" CRLF *OCTET     ; "{" number "}" accepted as well
///
/// Lines end with CRLF only. A line longer than the limit, a malformed literal or quoted string
/// ends the connection (``ManageSieveFramingError``); a literal over the size limit is read and
/// thrown away, and the command refused.
public struct ManageSieveFramer: Sendable {
    public enum Frame: Hashable, Sendable {
        case words([ManageSieveWord])
        /// The command was read and dropped; answer `NO` with this code and text.
        case refused(code: String?, String)
    }

    private let limits: ManageSieveLimits
    private var buffer: [UInt8] = []
    /// Octets of an oversized literal still to drop, then the rest of its line.
    private var discarding = 0
    private var skippingLine = false
    private var refusal: Frame?

    public init(limits: ManageSieveLimits) { self.limits = limits }

    public mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// Octets received and not yet framed.
    public var buffered: Int { buffer.count }

    /// Drops whatever is buffered (clear text sent after STARTTLS, RFC 5804 §2.2).
    public mutating func reset() {
        buffer.removeAll()
        discarding = 0
        skippingLine = false
        refusal = nil
    }

    /// The next complete command, or nil when more input is needed.
    public mutating func next() throws(ManageSieveFramingError) -> Frame? {
        if discarding > 0 {
            let n = min(discarding, buffer.count)
            buffer.removeFirst(n)
            discarding -= n
            if discarding > 0 { return nil }
        }
        if skippingLine {
            guard let end = crlf(from: 0) else {
                if buffer.count > limits.maxLineLength { throw .init("Line too long") }
                return nil
            }
            buffer.removeFirst(end + 2)
            skippingLine = false
            defer { refusal = nil }
            return refusal
        }
        return try parse()
    }

    private func crlf(from start: Int) -> Int? {
        var i = start
        while i + 1 < buffer.count {
            if buffer[i] == 0x0D && buffer[i + 1] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    private mutating func parse() throws(ManageSieveFramingError) -> Frame? {
        var words: [ManageSieveWord] = []
        var i = 0
        var literalOctets = 0
        var invalidUTF8 = false
        func tooLong() -> Bool { i - literalOctets > limits.maxLineLength }
        while true {
            while i < buffer.count, buffer[i] == 0x20 { i += 1 }
            guard i < buffer.count else {
                if tooLong() { throw .init("Line too long (the limit is \(limits.maxLineLength) octets)") }
                return nil
            }
            let b = buffer[i]
            if b == 0x0D {
                guard i + 1 < buffer.count else { return nil }
                guard buffer[i + 1] == 0x0A else { throw .init("Lines end with CRLF") }
                buffer.removeFirst(i + 2)
                if invalidUTF8 { return .refused(code: nil, "Strings must be UTF-8") }
                return .words(words)
            }
            if b == 0x0A { throw .init("Lines end with CRLF") }
            guard words.count < limits.maxWords else { throw .init("Too many arguments") }
            if b == 0x22 {
                // quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = SAFE-UTF8-CHAR / "\" QUOTED-SPECIALS
                var j = i + 1
                var octets: [UInt8] = []
                while true {
                    guard j < buffer.count else {
                        if tooLong() || j - i > limits.maxQuotedLength + 2 {
                            throw .init("Quoted string too long; send a literal")
                        }
                        return nil
                    }
                    let c = buffer[j]
                    if c == 0x22 { break }
                    if c == 0x0D || c == 0x0A || c == 0 {
                        throw .init("Quoted strings cannot hold CR, LF or NUL; send a literal")
                    }
                    if c == 0x5C {
                        guard j + 1 < buffer.count else { return nil }
                        let e = buffer[j + 1]
                        guard e == 0x22 || e == 0x5C else {
                            throw .init("Only \\\" and \\\\ are escapes in a quoted string")
                        }
                        octets.append(e)
                        j += 2
                    } else {
                        octets.append(c)
                        j += 1
                    }
                    if octets.count > limits.maxQuotedLength { throw .init("Quoted string too long; send a literal") }
                }
                if let s = String(validating: octets, as: UTF8.self) {
                    words.append(.string(s))
                } else {
                    invalidUTF8 = true
                }
                i = j + 1
            } else if b == 0x7B {
                // literal-c2s = "{" number [ "+" ] "}" CRLF *OCTET
                var j = i + 1
                var size = 0
                var digits = 0
                while j < buffer.count, (0x30...0x39).contains(buffer[j]) {
                    size = size * 10 + Int(buffer[j] - 0x30)
                    digits += 1
                    if digits > 10 { throw .init("Literal size too large") }
                    j += 1
                }
                if j < buffer.count, buffer[j] == 0x2B { j += 1 }
                // Each octet of "}" CRLF is checked as soon as it is there.
                for (k, expected) in [UInt8]([0x7D, 0x0D, 0x0A]).enumerated() where j + k < buffer.count {
                    guard digits > 0, buffer[j + k] == expected else {
                        throw .init("Malformed literal; write {size+} CRLF and the octets")
                    }
                }
                guard j + 2 < buffer.count else { return nil }
                let start = j + 3
                if size > limits.maxLiteralSize {
                    buffer.removeFirst(start)
                    discarding = size
                    skippingLine = true
                    refusal = .refused(code: "QUOTA/MAXSIZE", "A string is at most \(limits.maxLiteralSize) octets")
                    return try next()
                }
                guard buffer.count >= start + size else { return nil }
                if let s = String(validating: buffer[start..<start + size], as: UTF8.self) {
                    words.append(.string(s))
                } else {
                    invalidUTF8 = true
                }
                literalOctets += size
                i = start + size
            } else {
                // atom / number: up to the next space or CR
                var j = i
                while j < buffer.count, buffer[j] != 0x20, buffer[j] != 0x0D, buffer[j] != 0x0A { j += 1 }
                // command names are ALPHA; number = 1*DIGIT
                let token = buffer[i..<j]
                let isNumber = token.allSatisfy { (0x30...0x39).contains($0) }
                guard isNumber || token.allSatisfy({ (0x41...0x5A).contains($0 & 0xDF) }) else {
                    throw .init("Unexpected octet in a command; strings are quoted or literals")
                }
                if j == buffer.count {
                    if j - literalOctets > limits.maxLineLength { throw .init("Line too long") }
                    return nil
                }
                if isNumber {
                    guard token.count <= 10, let n = Int(String(decoding: token, as: UTF8.self)) else {
                        throw .init("Number too large")
                    }
                    words.append(.number(n))
                } else {
                    words.append(.atom(String(decoding: token, as: UTF8.self)))
                }
                i = j
            }
        }
    }
}

/// The client broke the framing: answered `BYE`, the connection closes.
public struct ManageSieveFramingError: Error, Hashable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
