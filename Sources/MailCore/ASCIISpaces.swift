extension StringProtocol {
    /// Without leading and trailing spaces and tabs: the white space of protocol text (SMTP
    /// commands, header parameters). Foundation's `trimmingCharacters(in: .whitespaces)` also
    /// takes Unicode spaces, and bridges through NSString on every call. Inlinable so that
    /// callers get it specialised for `String` and `Substring`: through the generic
    /// witnesses, each byte's step cost a call, and header parsing spent most of its time here.
    @inlinable
    public func trimmingASCIISpaces() -> String {
        let bytes = utf8
        @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        // One pass forward (a generic StringProtocol's UTF-8 view cannot step backwards).
        var start = bytes.startIndex
        while start < bytes.endIndex, isSpace(bytes[start]) { start = bytes.index(after: start) }
        var end = start
        var i = start
        while i < bytes.endIndex {
            let next = bytes.index(after: i)
            if !isSpace(bytes[i]) { end = next }
            i = next
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
