/// A message split into header fields and body for DKIM.
///
/// Line ends: Mailroom stores and transmits CRLF. A bare LF is read as a line end (and a bare LF in
/// the body is signed as CRLF) because SMTP will put CRLF on the wire — the same choice as dkimpy,
/// which splits lines on `\r?\n`. A CR not followed by LF is ordinary data.
public struct DKIMMessage: Sendable {
    public let headerFields: [DKIMHeaderField]
    /// The body with CRLF line ends: everything after the empty line ending the header section;
    /// empty when there is no such line.
    public let body: [UInt8]

    public init(_ bytes: some Collection<UInt8>) {
        let message = DKIMCanonical.crlfLineEnds(bytes)
        var fields: [DKIMHeaderField] = []
        var bodyStart = message.count
        message.withUnsafeBufferPointer { buffer in
            var current: [UInt8]? = nil
            var index = 0
            while index < buffer.count {
                // With CRLF line ends every LF ends a line: a line runs to the next LF (included),
                // or to the end of the message. memchr finds it; every message is read so.
                let next = DKIMCanonical.nextLF(in: buffer, from: index).map { $0 + 1 } ?? buffer.count
                if next - index == 2, buffer[index] == .cr {
                    bodyStart = next  // the empty line: the body follows it
                    break
                }
                let line = buffer[index..<next]
                if buffer[index].isWSP, current != nil {
                    current?.append(contentsOf: line)  // a continuation line (obs-FWS / folding)
                } else {
                    if let field = current { fields.append(DKIMHeaderField(raw: field)) }
                    current = Array(line)
                }
                index = next
            }
            if let field = current { fields.append(DKIMHeaderField(raw: field)) }
        }
        self.headerFields = fields
        self.body = bodyStart < message.count ? Array(message[bodyStart...]) : []
    }

    /// The fields an `h=` list names, in `h=` order: for a name listed k times the k-th entry
    /// takes the k-th instance counted from the bottom of the header (RFC 6376 §5.4.2). An entry
    /// with no instance left signs nothing (the "absence" an oversigned name protects).
    public func fields(forSignedHeaders names: [String]) -> [DKIMHeaderField] {
        var taken: [String: Int] = [:]
        var result: [DKIMHeaderField] = []
        for name in names {
            let key = name.lowercased()
            var skip = taken[key, default: 0]
            taken[key] = skip + 1
            for field in headerFields.reversed() where field.isNamed(key) {
                if skip == 0 {
                    result.append(field)
                    break
                }
                skip -= 1
            }
        }
        return result
    }

    /// How many times a field name occurs (case-insensitive).
    public func count(of name: String) -> Int {
        let key = name.lowercased()
        return headerFields.count { $0.isNamed(key) }
    }
}
