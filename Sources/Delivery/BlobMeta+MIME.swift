import MIME
import Storage

extension BlobMeta {
    /// What IMAP needs about a message (its search words are the indexer's).
    public init(parsing bytes: [UInt8]) {
        self.init(parsed: ParsedMessage(parsing: bytes))
    }

    /// The same, from a message parsed already.
    public init(parsed: ParsedMessage) {
        let sent = parsed.sentDateAndZone
        let envelope = parsed.envelope()
        self.init(
            envelope: envelope, bodyStructure: parsed.bodyStructure(extensible: true),
            bodySimple: parsed.bodyStructure(extensible: false), sentDate: sent?.date, sentZone: sent?.zoneMinutes,
            text: nil,
            sortKeys: SortKeys(envelope: envelope))
    }
}

extension SortKeys {
    /// The keys SORT compares, from a stored ENVELOPE (nil when the bytes are not one): what
    /// SORT computed from the envelope of each message it sorted, before the keys were kept.
    public init?(envelope: [UInt8]) {
        guard let e = EnvelopeFields(imap: envelope, parts: [.subject, .from, .to, .cc]) else { return nil }
        self.init(
            subject: Array(BaseSubject(String(decoding: e.subject ?? [], as: UTF8.self)).text.utf8),
            from: e.from?.mailbox ?? [], to: e.to?.mailbox ?? [], cc: e.cc?.mailbox ?? [],
            fromName: Array((e.from?.displayName ?? "").utf8), toName: Array((e.to?.displayName ?? "").utf8))
    }
}

extension BlobMeta {
    /// What IMAP needs about a message parsed in place (a large one, from its file); the search
    /// text is left to the background indexer. The same values as ``init(parsing:)``.
    public init<Bytes: MIMEBytes>(outline: MessageOutline<Bytes>) {
        let sent = outline.sentDateAndZone
        let envelope = outline.envelope()
        self.init(
            envelope: envelope, bodyStructure: outline.bodyStructure(extensible: true),
            bodySimple: outline.bodyStructure(extensible: false), sentDate: sent?.date, sentZone: sent?.zoneMinutes,
            text: nil,
            sortKeys: SortKeys(envelope: envelope))
    }
}

extension SearchText {
    /// Text kept for search is capped, so one huge message cannot bloat the index.
    public static let limit = 1 << 20

    /// A message's text as the full-text index keeps it.
    public init(_ parsed: ParsedMessage, textLimit: Int = limit) {
        self.init(parsed.searchFields(), textLimit: textLimit)
    }

    /// The text of a message parsed in place (from its file): each text part is read up to
    /// four times the cap (enough for the capped text after base64, quoted-printable or a
    /// wide charset), so indexing a huge message costs a few megabytes, not the message.
    public init<Bytes: MIMEBytes>(outline: MessageOutline<Bytes>, textLimit: Int = limit) {
        self.init(outline.searchFields(partLimit: 4 * textLimit), textLimit: textLimit)
    }

    init(_ f: SearchFields, textLimit: Int) {
        func cap(_ s: String) -> String {
            s.utf8.count <= textLimit ? s : String(decoding: Array(s.utf8.prefix(textLimit)), as: UTF8.self)
        }
        self.init(
            subject: f.subject, from: f.from, to: f.to, cc: f.cc, bcc: f.bcc, headers: cap(f.headers), body: cap(f.body)
        )
    }
}
