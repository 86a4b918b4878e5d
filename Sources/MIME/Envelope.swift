/// The IMAP ENVELOPE of one header section (RFC 3501 §7.4.2, RFC 9051 §7.5.2).
///
///     envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP
///                env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
///     env-from = "(" 1*address ")" / nil
///
///     S: * 12 FETCH (ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary
///        and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) … "<B27397-0100000@cac.washington.edu>"))
enum Envelope {
    /// Renders the envelope of the header in `header`. Strings are the raw field values,
    /// unfolded and trimmed but not RFC 2047-decoded; the first field of each name counts.
    static func render<B: MIMEBytes>(_ bytes: B, header: Range<Int>) -> [UInt8] {
        let fields = MIMEParser.headerFields(bytes, header)
        func value(_ name: StaticString) -> [UInt8]? { MIMEParser.firstValue(bytes, fields, name) }
        func addresses(_ name: StaticString) -> [Address] { value(name).map(AddressParser.parse) ?? [] }

        let from = addresses("from")
        var sender = addresses("sender")
        var replyTo = addresses("reply-to")
        // RFC 3501 §7.4.2: sender and reply-to default to from.
        if sender.isEmpty { sender = from }
        if replyTo.isEmpty { replyTo = from }

        var out: [UInt8] = [ASCII.openParen]
        out.reserveCapacity(512)
        IMAPString.append(value("date"), to: &out)
        out.append(ASCII.space)
        IMAPString.append(value("subject"), to: &out)
        for list in [from, sender, replyTo, addresses("to"), addresses("cc"), addresses("bcc")] {
            out.append(ASCII.space)
            append(list, to: &out)
        }
        out.append(ASCII.space)
        IMAPString.append(nonEmpty(value("in-reply-to")), to: &out)
        out.append(ASCII.space)
        IMAPString.append(nonEmpty(value("message-id")), to: &out)
        out.append(ASCII.closeParen)
        return out
    }

    private static func nonEmpty(_ v: [UInt8]?) -> [UInt8]? {
        guard let v, !v.isEmpty else { return nil }
        return v
    }

    /// `"(" 1*address ")"`, or NIL for an empty list.
    static func append(_ list: [Address], to out: inout [UInt8]) {
        guard !list.isEmpty else {
            IMAPString.append(nil as [UInt8]?, to: &out)
            return
        }
        out.append(ASCII.openParen)
        for a in list {
            out.append(ASCII.openParen)
            IMAPString.append(a.name, to: &out)
            out.append(ASCII.space)
            IMAPString.append(a.adl, to: &out)
            out.append(ASCII.space)
            IMAPString.append(a.mailbox, to: &out)
            out.append(ASCII.space)
            IMAPString.append(a.host, to: &out)
            out.append(ASCII.closeParen)
        }
        out.append(ASCII.closeParen)
    }
}
