import Foundation

/// Reads DATA content (RFC 5321 §4.1.1.4, §4.5.2): lines end in CRLF, a line "." ends the
/// message, a leading "." is removed from other lines. A bare CR or LF anywhere, a line longer
/// than 998 octets or a message over the size limit fails the message — but reading goes on to
/// the real end, so that nothing after a smuggled "end" is taken as commands.
struct DataReader {
    enum Outcome {
        case complete([UInt8])
        case failed(SMTPReply)
    }

    private var message: [UInt8] = []
    private var failure: SMTPReply?
    /// How far past the start of the current line the scan got (resumes there with more input;
    /// relative, because the session compacts its input buffer between calls).
    private var scanOffset = 0

    /// Consumes what it can; nil when the end has not arrived yet.
    mutating func consume(_ input: inout [UInt8], from start: inout Int, limits: SMTPLimits) -> Outcome? {
        var lineStart = start
        var i = start + scanOffset
        // Line by line through the buffer's memory, with memchr: a 10 KB body byte by byte
        // through the array's checked subscript cost more than the rest of reading it.
        let ended: Outcome?? = input.withUnsafeBufferPointer { input in
            while i < input.count {
                guard let lf = memchr(input.baseAddress! + i, 0x0A, input.count - i) else {
                    i = input.count
                    break
                }
                i = UnsafeRawPointer(input.baseAddress!).distance(to: UnsafeRawPointer(lf))
                if i == lineStart || input[i - 1] != UInt8(ascii: "\r") {
                    if failure == nil { failure = .bareCRLFInData }
                    i += 1
                    continue
                }
                // A CRLF-terminated line: input[lineStart ..< i-1] is its content.
                let contentEnd = i - 1
                let length = contentEnd - lineStart
                if length == 1 && input[lineStart] == UInt8(ascii: ".") {
                    start = i + 1
                    scanOffset = 0
                    if let failure { return .some(.failed(failure)) }
                    return .some(.complete(message))
                }
                if failure == nil {
                    if memchr(input.baseAddress! + lineStart, 0x0D, length) != nil {
                        failure = .bareCRLFInData
                    } else if length > limits.textLineOctets - 2 {
                        failure = .dataLineTooLong
                    } else if message.count + length + 2 > limits.maxMessageSize {
                        failure = .messageTooBig
                        message = []
                    } else {
                        let from = input[lineStart] == UInt8(ascii: ".") ? lineStart + 1 : lineStart
                        message.append(contentsOf: UnsafeBufferPointer(rebasing: input[from...i]))
                    }
                }
                lineStart = i + 1
                i += 1
            }
            return .none
        }
        if let ended { return ended }
        start = lineStart
        scanOffset = i - lineStart
        // A line without its end yet: once it is far too long, fail the message and stop
        // keeping the line's bytes (the rest of it is still read and dropped).
        if i - lineStart > limits.textLineOctets * 4 {
            if failure == nil { failure = .dataLineTooLong }
            start = i
            scanOffset = 0
        }
        return nil
    }

    /// BDAT content is not dot-stuffed, but its lines follow the same rules.
    static func checkLines(_ data: [UInt8], limits: SMTPLimits) -> SMTPReply? {
        var lineStart = 0
        for i in data.indices {
            let b = data[i]
            if b == UInt8(ascii: "\n") {
                if i == 0 || data[i - 1] != UInt8(ascii: "\r") { return .bareCRLFInData }
                if i - 1 - lineStart > limits.textLineOctets - 2 { return .dataLineTooLong }
                lineStart = i + 1
            } else if b == UInt8(ascii: "\r"), i + 1 < data.count, data[i + 1] != UInt8(ascii: "\n") {
                return .bareCRLFInData
            }
        }
        if data.last == UInt8(ascii: "\r") { return .bareCRLFInData }
        if data.count - lineStart > limits.textLineOctets - 2 { return .dataLineTooLong }
        return nil
    }
}
