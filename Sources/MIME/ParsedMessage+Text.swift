extension ParsedMessage {
    /// The body of a part with its transfer encoding and charset undone (Sieve's body test).
    public func decodedText(of part: MIMEPart) -> String {
        Charset.decode(
            TransferEncoding.decode(bytes, part.bodyRange, encoding: part.encoding), charset: part.parameter("charset"))
    }

    /// The header fields of any part, in order: names as written, values unfolded and raw.
    public func headerFields(of part: MIMEPart) -> [(name: String, value: String)] {
        MIMEParser.headerFields(bytes, part.headerRange).map {
            (ASCII.string(bytes[$0.name]), ASCII.string(MIMEParser.unfolded(bytes, $0.value)))
        }
    }
}
