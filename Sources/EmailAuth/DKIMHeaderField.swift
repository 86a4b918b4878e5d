import MailCore

/// One header field of a message as DKIM sees it (RFC 6376 §3.4, RFC 5322 §2.2).
///
/// `raw` is the field exactly as it appears, continuation lines and final CRLF included — what
/// "simple" canonicalisation signs. `name` is nil for a line that is not a well-formed field
/// (no colon, or a name with bytes outside %d33-126): such lines are kept but never signed.
public struct DKIMHeaderField: Hashable, Sendable {
    /// The field name as written, without trailing white space before the colon.
    public let name: [UInt8]?
    /// The field as written, including its final CRLF (if the message had one).
    public let raw: [UInt8]
    /// Offset in `raw` of the first byte after the colon (the unfolded value starts there).
    let valueStart: Int

    /// The bytes after the colon up to, not including, the final CRLF.
    public var value: ArraySlice<UInt8> {
        var end = raw.count
        if end >= valueStart + 2, raw[end - 2] == .cr, raw[end - 1] == .lf { end -= 2 }
        return raw[min(valueStart, end)..<end]
    }

    /// The name in lower case, for comparing with `h=` entries.
    public var lowercasedName: String? {
        name.map { String(decoding: $0.map(\.asciiLowercased), as: UTF8.self) }
    }

    /// Whether the name is `lowercased` (given in lower case), in any case. Every message's
    /// checks look for a few names among all its fields: no string is made per field.
    public func isNamed(_ lowercased: String) -> Bool {
        guard let name, name.count == lowercased.utf8.count else { return false }
        return zip(name, lowercased.utf8).allSatisfy { $0.asciiLowercased == $1 }
    }

    init(raw: [UInt8]) {
        self.raw = raw
        // field-name = 1*ftext; ftext = %d33-57 / %d59-126; obs-optional allows WSP before ":".
        guard let colon = raw.firstIndex(of: .colon) else {
            self.name = nil
            self.valueStart = raw.count
            return
        }
        var nameEnd = colon
        while nameEnd > 0, raw[nameEnd - 1].isWSP { nameEnd -= 1 }
        let name = raw[0..<nameEnd]
        if name.isEmpty || name.contains(where: { $0 < 33 || $0 > 126 }) {
            self.name = nil
        } else {
            self.name = Array(name)
        }
        self.valueStart = colon + 1
    }
}
