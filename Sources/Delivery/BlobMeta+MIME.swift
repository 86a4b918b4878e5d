import MIME
import MailCore
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
            sortKeys: SortKeys(
                envelope: envelope, thread: MessageIDs.threadIDs(parsed.bytes, header: parsed.root.headerRange)))
    }
}

extension SortKeys {
    /// The keys SORT compares, from a stored ENVELOPE (nil when the bytes are not one), and
    /// THREAD's, given the IDs of the message's header (``MessageIDs/threadIDs(_:header:)``).
    public init?(envelope: [UInt8], thread ids: (messageID: String?, references: [String])? = nil) {
        guard let e = EnvelopeFields(imap: envelope, parts: [.subject, .from, .to, .cc]) else { return nil }
        self.init(e, thread: ids)
    }

    /// The keys of an envelope read back (the fields it was not read for are empty).
    public init(_ e: EnvelopeFields, thread ids: (messageID: String?, references: [String])? = nil) {
        let subject = BaseSubject(String(decoding: e.subject ?? [], as: UTF8.self))
        // RFC 5256 §3: FROM, TO and CC compare the first address's addr-mailbox.
        self.init(
            subject: Casemap.key(subject.text),
            from: Casemap.key(e.from?.mailbox ?? []), to: Casemap.key(e.to?.mailbox ?? []),
            cc: Casemap.key(e.cc?.mailbox ?? []), fromName: Casemap.key(e.from?.displayName ?? ""),
            toName: Casemap.key(e.to?.displayName ?? ""),
            thread: ids.map { ThreadKeys($0, subject: subject) })
    }
}

extension ThreadKeys {
    /// THREAD's keys from a header's IDs (``MessageIDs/threadIDs(_:header:)``) and the subject
    /// of the stored ENVELOPE (nil when the bytes are not one): what the indexer keeps for mail
    /// stored before they were kept, without computing its SORT keys again.
    init?(envelope: [UInt8], ids: (messageID: String?, references: [String])) {
        guard let e = EnvelopeFields(imap: envelope, parts: [.subject]) else { return nil }
        self.init(ids, subject: BaseSubject(String(decoding: e.subject ?? [], as: UTF8.self)))
    }

    init(_ ids: (messageID: String?, references: [String]), subject: BaseSubject) {
        self.init(messageID: ids.messageID, references: ids.references, isReplyOrForward: subject.isReplyOrForward)
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
            sortKeys: SortKeys(
                envelope: envelope, thread: MessageIDs.threadIDs(outline.bytes, header: outline.root.headerRange)))
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
