import Delivery
import Foundation
import IMAP
import MIME
import MailCore
import Storage

/// Message commands on the selected mailbox: FETCH, STORE, COPY, MOVE, EXPUNGE, and the
/// untagged updates that tell the client what others changed.
extension IMAPSession {
    /// The messages a set names, as (sequence number, UID) in sequence order. A sequence
    /// number beyond the mailbox is the client's error (BAD); a UID that does not exist is not.
    func targets(_ set: SequenceSet, uid: Bool, in sel: SelectedMailbox) throws -> [(msn: Int, uid: Int64)] {
        if case .lastResult = set {
            return sel.saved.compactMap { u in sel.msn(of: u).map { ($0, u) } }
        }
        if uid {
            let largest = UInt32(clamping: sel.uids.last ?? 0)
            // Each range is found by binary search in the sorted UIDs, not by a scan per range;
            // marks in sequence order dedupe overlapping ranges without sorting.
            var marks = [Bool](repeating: false, count: sel.uids.count)
            var out: [(msn: Int, uid: Int64)] = []
            for r in set.resolve(largest: largest) {
                var i = sel.firstIndex(atLeast: Int64(r.lowerBound))
                while i < sel.uids.count, sel.uids[i] <= Int64(r.upperBound) {
                    marks[i] = true
                    i += 1
                }
            }
            out.reserveCapacity(sel.uids.count)
            for i in marks.indices where marks[i] { out.append((i + 1, sel.uids[i])) }
            return out
        }
        let count = UInt32(sel.uids.count)
        let ranges = set.resolve(largest: count)
        guard count > 0 || ranges.isEmpty else { throw IMAPError.bad("No messages in the mailbox") }
        var marks = [Bool](repeating: false, count: sel.uids.count)
        for r in ranges {
            guard r.upperBound <= count, r.lowerBound >= 1 else { throw IMAPError.bad("Message sequence number out of range (the mailbox has \(count))") }
            for n in r { marks[Int(n) - 1] = true }
        }
        return marks.indices.filter { marks[$0] }.map { ($0 + 1, sel.uids[$0]) }
    }

    /// FETCH (RFC 9051 §6.4.5). A FETCH of many messages, or of large ones, stops between
    /// messages when the client is behind (``ResponseWriter/shouldPause``) and returns
    /// ``Next/more(_:)`` with the rest: the connection resumes it when the client has read.
    func fetch(_ set: SequenceSet, _ items: [FetchAttribute], _ modifiers: FetchModifiers, uid: Bool, tag: String, out: ResponseWriter) throws -> Next {
        let sel = try selectedMailbox()
        let list = try targets(set, uid: uid, in: sel)
        if modifiers.changedSince != nil || items.contains(.modseq) { enableCondstore(out: out) }
        if modifiers.vanished, let since = modifiers.changedSince {
            guard qresync else { throw IMAPError.bad("ENABLE QRESYNC first") }
            let largest = UInt32(clamping: sel.uids.last ?? 0)
            let vanished = try env.store.expungedSince(mailboxID: sel.id, modseq: Int64(since))
                .filter { set.contains(UInt32(clamping: $0), largest: max(largest, UInt32(clamping: $0))) }
            if !vanished.isEmpty { out.write(.vanished(earlier: true, vanished.map { UInt32(clamping: $0) })) }
        }
        guard let lo = list.first?.uid, let hi = list.last?.uid else { return ok(tag, "FETCH completed", out: out) }
        if items.allSatisfy(Self.isStored), list.count * 8 >= Int(hi - lo + 1) {
            return try fetchStored(list, from: 0, missed: [], expunged: false, items, modifiers, tag: tag, out: out)
        }
        return try fetchDetails(list, expunged: false, items, modifiers, tag: tag, out: out)
    }

    /// The end of a FETCH: `NO [EXPUNGEISSUED]` (RFC 5530) when some of its messages had been
    /// expunged by another session, before this one was told, and could not be answered.
    func fetchCompleted(_ tag: String, expunged: Bool, out: ResponseWriter) -> Next {
        guard expunged else { return ok(tag, "FETCH completed", out: out) }
        out.write(.tagged(tag, .no, code: "EXPUNGEISSUED", "Some of the messages were expunged meanwhile"))
        return .read
    }

    /// Messages of a FETCH that another session expunged while this one still shows them (it
    /// learns of it at its next NOOP or IDLE). Their UIDs are known here, so a FETCH of UIDs
    /// alone is answered (RFC 2180 §4.1.1, as Dovecot does); anything else is not, and the
    /// FETCH ends `NO [EXPUNGEISSUED]`. Returns whether some could not be answered.
    func answerExpunged(_ gone: [(msn: Int, uid: Int64)], _ items: [FetchAttribute], out: ResponseWriter) -> Bool {
        guard !gone.isEmpty else { return false }
        guard !condstore, items.allSatisfy({ $0 == .uid }) else { return true }
        for g in gone { out.write(.flagUpdate(g.msn, uid: g.uid, flags: nil, modseq: nil)) }
        return false
    }

    /// Messages per step of a stored-items FETCH: the most that is answered before the
    /// command looks whether the client keeps up.
    static let fetchWindow = 500

    /// The stored-items FETCH of `list[start...]`, a window at a time; `missed` are earlier
    /// messages that need the long way (stored before their ENVELOPE was kept).
    func fetchStored(
        _ list: [(msn: Int, uid: Int64)], from start: Int, missed: [(msn: Int, uid: Int64)], expunged: Bool,
        _ items: [FetchAttribute], _ modifiers: FetchModifiers, tag: String, out: ResponseWriter
    ) throws -> Next {
        let sel = try selectedMailbox()
        var missed = missed
        var expunged = expunged
        var start = start
        while start < list.count {
            let end = min(list.count, start + Self.fetchWindow)
            let window = try fetchStored(
                Array(list[start..<end]), items, changedSince: modifiers.changedSince.map { Int64($0) }, in: sel, out: out)
            missed += window.missed
            expunged = answerExpunged(window.gone, items, out: out) || expunged
            start = end
            if start < list.count, out.shouldPause {
                let (from, sofar, gone) = (start, missed, expunged)
                return .more(
                    Resume { session, out in
                        session.resuming(tag: tag, out: out) {
                            try session.fetchStored(
                                list, from: from, missed: sofar, expunged: gone, items, modifiers, tag: tag, out: out)
                        }
                    })
            }
        }
        guard !missed.isEmpty else { return fetchCompleted(tag, expunged: expunged, out: out) }
        return try fetchDetails(missed, expunged: expunged, items, modifiers, tag: tag, out: out)
    }

    /// FETCH of `list` from the messages' details (and bytes, for body items).
    func fetchDetails(
        _ list: [(msn: Int, uid: Int64)], expunged: Bool, _ items: [FetchAttribute], _ modifiers: FetchModifiers,
        tag: String, out: ResponseWriter
    ) throws -> Next {
        let sel = try selectedMailbox()
        guard let lo = list.first?.uid, let hi = list.last?.uid else {
            return fetchCompleted(tag, expunged: expunged, out: out)
        }
        let wanted = Set(list.map(\.uid))
        var parts: DetailParts = []
        for item in items {
            switch item {
            case .uid, .flags, .modseq: break
            case .internalDate, .rfc822Size: parts.insert(.basics)
            // With the blob's name: a message the indexer has not reached has no stored
            // ENVELOPE yet, and is read.
            case .envelope, .bodyStructure, .body: parts.formUnion([.meta, .basics])
            case .rfc822, .rfc822Header, .rfc822Text, .bodySection, .binary, .binarySize: parts.insert(.data)
            }
        }
        var details = try env.store.messageDetails(mailboxID: sel.id, uids: lo, hi, only: list.map(\.uid), parts: parts) { wanted.contains($0) }
        var expunged = expunged
        if details.count < list.count {
            let found = Set(details.map(\.uid))
            expunged = answerExpunged(list.filter { !found.contains($0.uid) }, items, out: out) || expunged
        }
        if let since = modifiers.changedSince { details = details.filter { $0.modseq > Int64(since) } }
        // Reading a body marks the message \Seen, unless PEEK or read-only (RFC 9051 §6.4.5).
        let setsSeen = !sel.readOnly && items.contains { item in
            switch item {
            case .rfc822, .rfc822Text: return true
            case .bodySection(_, _, let peek), .binary(_, _, let peek): return !peek
            default: return false
            }
        }
        var flagsChanged: Set<Int64> = []
        if setsSeen {
            let unseen = details.filter { !$0.flags.contains("\\Seen") }.map(\.uid)
            if !unseen.isEmpty {
                let r = try env.store.storeFlags(mailboxID: sel.id, uids: unseen, change: .add, flags: ["\\Seen"], unchangedSince: nil)
                let byUID = Dictionary(uniqueKeysWithValues: r.changed.map { ($0.uid, $0) })
                for i in details.indices {
                    if let m = byUID[details[i].uid] {
                        details[i].flags = m.flags
                        details[i].modseq = m.modseq
                        flagsChanged.insert(m.uid)
                    }
                }
            }
        }
        return try fetchMessages(
            details, from: 0, items, flagsChanged: flagsChanged, expunged: expunged, tag: tag, out: out)
    }

    /// The FETCH responses for `details[start...]`, stopping between messages when the client
    /// is behind.
    func fetchMessages(
        _ details: [MessageDetail], from start: Int, _ items: [FetchAttribute], flagsChanged: Set<Int64>, expunged: Bool,
        tag: String, out: ResponseWriter
    ) throws -> Next {
        let sel = try selectedMailbox()
        let withModseq = condstore
        for index in details.indices where index >= start {
            if index > start, out.shouldPause {
                return .more(
                    Resume { session, out in
                        session.resuming(tag: tag, out: out) {
                            try session.fetchMessages(
                                details, from: index, items, flagsChanged: flagsChanged, expunged: expunged, tag: tag, out: out)
                        }
                    })
            }
            let d = details[index]
            guard let msn = sel.msn(of: d.uid) else { continue }
            var line = FetchLine(msn: msn)
            var message: [UInt8]?
            var parsed: ParsedMessage?
            // A message kept as a file is read from it as it is sent, and parsed in windows: a
            // FETCH of a 50 MB message costs a few chunks of memory, not 50 MB.
            var file: BlobFile?
            var outline: MessageOutline<BlobFile>?
            func stored() throws -> BlobFile? {
                guard d.inlineData == nil, !d.blobHash.isEmpty else { return nil }
                if let file { return file }
                do {
                    file = try env.delivery.blobs.file(d.blobHash, prefix: d.headerPrefix)
                } catch BlobError.missing {
                    return nil  // perhaps kept in the database after all: read the usual way
                }
                return file
            }
            func fileOutline(_ f: BlobFile) -> MessageOutline<BlobFile> {
                if let outline { return outline }
                let o = MessageOutline(parsing: f)
                outline = o
                return o
            }
            func bytes() throws -> [UInt8] {
                if let message { return message }
                let b = d.headerPrefix + (try d.inlineData ?? env.delivery.readBlob(d.blobHash))
                message = b
                return b
            }
            func mime() throws -> ParsedMessage {
                if let parsed { return parsed }
                let p = ParsedMessage(parsing: try bytes())
                parsed = p
                return p
            }
            var meta: BlobMeta?
            func metadata() throws -> BlobMeta {
                if let meta { return meta }
                let m = try stored().map { BlobMeta(outline: fileOutline($0)) } ?? BlobMeta(parsing: try bytes())
                meta = m
                return m
            }
            /// A body item's literal: from the file, streamed, or from memory.
            func literal(_ label: String, _ content: SectionContent, partial: ClosedRange<Int>?, binary: Bool = false) throws {
                var label = label
                if let partial { label += "<\(partial.lowerBound)>" }
                switch content {
                case .range(let range):
                    let range = partial.map { Self.slice(range, $0) } ?? range
                    if let f = try stored() {
                        line.streamedItem(label + " ", f, range, binary: binary, out: out)
                        if let error = f.error { throw error }
                    } else {
                        let b = try bytes()
                        // The whole message (the usual FETCH BODY[]) is sent without a copy.
                        line.item(label + " ", Self.literal(range == 0..<b.count ? b : Array(b[range]), binary: binary))
                    }
                case .bytes(let b):
                    line.item(label + " ", Self.literal(partial.map { Self.slice(b, $0) } ?? b, binary: binary))
                }
            }
            /// The section of the message, found by the one parser over the file or the bytes.
            func section(_ spec: SectionSpec) throws -> SectionContent? {
                // The whole message needs no MIME parsing.
                if spec == SectionSpec() { return .range(0..<(try stored()?.count ?? bytes().count)) }
                if let f = try stored() {
                    let o = fileOutline(f)
                    return Self.section(spec, root: o.root, bytes: f)
                }
                let m = try mime()
                return Self.section(spec, root: m.root, bytes: m.bytes)
            }
            /// BINARY of a part: decoded in memory (the part, not the whole message).
            func binary(_ part: [Int]) throws -> [UInt8]? {
                if let f = try stored() {
                    if part.isEmpty { return nil }
                    guard let p = fileOutline(f).part(at: part) else { return nil }
                    let body = f.copyBytes(p.bodyRange)
                    if let error = f.error { throw error }
                    return try Self.decode(p, body, 0..<body.count)
                }
                let m = try mime()
                if part.isEmpty { return m.bytes }
                guard let p = m.part(at: part) else { return nil }
                return try Self.decode(p, m.bytes, p.bodyRange)
            }
            for item in items {
                switch item {
                case .uid: line.item("UID \(d.uid)")
                case .flags: line.item("FLAGS (\(flagList(d.flags, uid: d.uid, in: sel).joined(separator: " ")))")
                case .modseq: line.item("MODSEQ (\(d.modseq))")
                case .internalDate: line.item("INTERNALDATE \"\(Self.internalDate(d.internalDate))\"")
                case .rfc822Size: line.item("RFC822.SIZE \(d.size)")
                case .envelope: line.item("ENVELOPE ", (try d.envelope ?? metadata().envelope))
                case .bodyStructure: line.item("BODYSTRUCTURE ", (try d.bodyStructure ?? metadata().bodyStructure))
                case .body: line.item("BODY ", (try d.bodySimple ?? metadata().bodySimple))
                case .rfc822: try literal("RFC822", try section(SectionSpec())!, partial: nil)
                case .rfc822Header: try literal("RFC822.HEADER", try section(SectionSpec(text: .header))!, partial: nil)
                case .rfc822Text: try literal("RFC822.TEXT", try section(SectionSpec(text: .text))!, partial: nil)
                case .bodySection(let spec, let partial, _):
                    guard let content = try section(spec) else {
                        line.item("BODY[\(spec)] NIL")
                        continue
                    }
                    try literal("BODY[\(spec)]", content, partial: partial)
                case .binary(let part, let partial, _):
                    let label = "BINARY[\(part.map(String.init).joined(separator: "."))]"
                    if part.isEmpty, try stored() != nil {
                        try literal(label, try section(SectionSpec())!, partial: partial, binary: true)
                        continue
                    }
                    guard let content = try binary(part) else {
                        line.item("\(label) NIL")
                        continue
                    }
                    try literal(label, .bytes(content), partial: partial, binary: true)
                case .binarySize(let part):
                    let label = "BINARY.SIZE[\(part.map(String.init).joined(separator: "."))]"
                    if part.isEmpty, let f = try stored() {
                        line.item("\(label) \(f.count)")
                        continue
                    }
                    guard let content = try binary(part) else {
                        line.item("\(label) NIL")
                        continue
                    }
                    line.item("\(label) \(content.count)")
                }
            }
            if flagsChanged.contains(d.uid), !items.contains(.flags) { line.item("FLAGS (\(flagList(d.flags, uid: d.uid, in: sel).joined(separator: " ")))") }
            if withModseq, !items.contains(.modseq) { line.item("MODSEQ (\(d.modseq))") }
            out.write(line.finished())
        }
        return fetchCompleted(tag, expunged: expunged, out: out)
    }

    /// What FETCH can answer from stored columns alone, without the message's bytes.
    static func isStored(_ item: FetchAttribute) -> Bool {
        switch item {
        case .uid, .flags, .modseq, .internalDate, .rfc822Size, .envelope, .bodyStructure, .body: return true
        default: return false
        }
    }

    /// FETCH of stored items only (flags for a sync, ENVELOPE for a message list: what clients
    /// ask of whole mailboxes): the stored bytes go straight into the response, with no value
    /// built per message. Returns the messages it could not answer (no ENVELOPE kept).
    func fetchStored(
        _ list: [(msn: Int, uid: Int64)], _ items: [FetchAttribute], changedSince: Int64?, in sel: SelectedMailbox,
        out: ResponseWriter
    ) throws -> (missed: [(msn: Int, uid: Int64)], gone: [(msn: Int, uid: Int64)]) {
        /// The items as a plain enum, so that the loop per message copies no payloads.
        enum Field { case uid, flags, modseq, internalDate, size, envelope, bodyStructure, body }
        let fields: [Field] = (items + (condstore && !items.contains(.modseq) ? [.modseq] : [])).map {
            switch $0 {
            case .uid: return .uid
            case .flags: return .flags
            case .internalDate: return .internalDate
            case .rfc822Size: return .size
            case .envelope: return .envelope
            case .bodyStructure: return .bodyStructure
            case .body: return .body
            default: return .modseq
            }
        }
        let meta = fields.contains { $0 == .envelope || $0 == .bodyStructure || $0 == .body }
        let basics = fields.contains { $0 == .internalDate || $0 == .size }
        let showRecent = !rev2 && !sel.recent.isEmpty
        var missed: [(msn: Int, uid: Int64)] = []
        // The scan meets every stored message of the range in UID order, so one of the list it
        // passes over is no longer stored.
        var gone: [(msn: Int, uid: Int64)] = []
        var k = 0
        try env.store.scanMessages(mailboxID: sel.id, uids: list[0].uid, list[list.count - 1].uid, basics: basics, meta: meta) { m in
            while k < list.count && list[k].uid < m.uid {
                gone.append(list[k])
                k += 1
            }
            guard k < list.count, list[k].uid == m.uid else { return }
            let entry = list[k]
            k += 1
            if let changedSince, m.modseq <= changedSince { return }
            if meta && (m.envelope == nil || m.bodyStructure == nil || m.bodySimple == nil) {
                missed.append(entry)
                return
            }
            let msn = entry.msn
            out.write { b in
                b.append(contentsOf: FlagsText.star)
                b.appendDecimal(Int64(msn))
                b.append(contentsOf: FlagsText.fetch)
                for (i, field) in fields.enumerated() {
                    if i > 0 { b.append(0x20) }
                    switch field {
                    case .uid:
                        b.append(contentsOf: FlagsText.uid)
                        b.appendDecimal(m.uid)
                    case .flags:
                        b.append(contentsOf: FlagsText.flags)
                        b.append(contentsOf: m.flags)
                        if showRecent && sel.isRecent(m.uid) {
                            if !m.flags.isEmpty { b.append(0x20) }
                            b.append(contentsOf: FlagsText.recent)
                        }
                        b.append(0x29)
                    case .modseq:
                        b.append(contentsOf: FlagsText.modseq)
                        b.appendDecimal(m.modseq)
                        b.append(0x29)
                    case .internalDate:
                        b.append(contentsOf: "INTERNALDATE \"\(Self.internalDate(Date(timeIntervalSince1970: m.internalDate)))\"".utf8)
                    case .size:
                        b.append(contentsOf: FlagsText.size)
                        b.appendDecimal(m.size)
                    case .envelope:
                        b.append(contentsOf: FlagsText.envelope)
                        b.append(contentsOf: m.envelope!)
                    case .bodyStructure:
                        b.append(contentsOf: FlagsText.bodyStructure)
                        b.append(contentsOf: m.bodyStructure!)
                    case .body:
                        b.append(contentsOf: FlagsText.body)
                        b.append(contentsOf: m.bodySimple!)
                    }
                }
                b.append(contentsOf: FlagsText.end)
            }
        }
        return (missed, gone + list[k...])
    }

    static func literal(_ bytes: [UInt8], binary: Bool = false) -> [UInt8] {
        Array("\(binary && bytes.contains(0) ? "~" : ""){\(bytes.count)}\r\n".utf8) + bytes
    }

    static func slice(_ bytes: [UInt8], _ r: ClosedRange<Int>) -> [UInt8] {
        guard r.lowerBound < bytes.count else { return [] }
        return Array(bytes[r.lowerBound...min(r.upperBound, bytes.count - 1)])
    }

    /// The part of `range` that a partial `<o.n>` asks for: the same octets as ``slice(_:_:)``.
    static func slice(_ range: Range<Int>, _ r: ClosedRange<Int>) -> Range<Int> {
        range.lowerBound + min(r.lowerBound, range.count)..<range.lowerBound + min(r.upperBound + 1, range.count)
    }

    /// INTERNALDATE's form: `17-Jul-1996 02:44:25 +0000`.
    static func internalDate(_ d: Date) -> String {
        let c = UTCTime(d)
        return "\(c.two(c.day))-\(RFC5322Date.months[c.month - 1])-\(c.year) \(c.two(c.hour)):\(c.two(c.minute)):\(c.two(c.second)) +0000"
    }

    /// The octets of a body section (RFC 9051 §6.4.5) as a range of the message (sent from
    /// wherever the message is) or as bytes made for the answer (HEADER.FIELDS); nil when the
    /// message has no such part.
    static func section<Bytes: MIMEBytes>(_ spec: SectionSpec, root: MIMEPart, bytes: Bytes) -> SectionContent? {
        var entity = root
        if !spec.part.isEmpty {
            guard let part = root.descendant(at: spec.part) else { return nil }
            switch spec.text {
            case nil: return .range(part.bodyRange)
            case .mime: return .range(part.headerRange)
            default:
                // HEADER and TEXT of a part are those of the message it encapsulates.
                guard let inner = part.message else { return nil }
                entity = inner
            }
        }
        switch spec.text {
        case nil: return .range(0..<bytes.count)
        case .header: return .range(entity.headerRange)
        case .text: return .range(entity.bodyRange)
        case .mime: return nil
        case .headerFields(let names): return .bytes(HeaderFields.select(bytes.copyBytes(entity.headerRange)[...], names: names, keep: true))
        case .headerFieldsNot(let names):
            return .bytes(HeaderFields.select(bytes.copyBytes(entity.headerRange)[...], names: names, keep: false))
        }
    }

    /// A part's content with its transfer encoding undone (BINARY, RFC 3516), from `bytes[range]`.
    static func decode(_ p: MIMEPart, _ bytes: [UInt8], _ range: Range<Int>) throws -> [UInt8] {
        let encoding = p.encoding?.lowercased() ?? "7bit"
        guard ["7bit", "8bit", "binary", "base64", "quoted-printable"].contains(encoding) else {
            throw IMAPError.no("UNKNOWN-CTE", "Cannot decode the part's encoding \(encoding)")
        }
        return TransferEncoding.decode(bytes, range, encoding: encoding)
    }

    // MARK: STORE

    func store(_ set: SequenceSet, _ flags: StoreFlags, unchangedSince: UInt64?, uid: Bool, tag: String, out: ResponseWriter) throws -> Next {
        let sel = try selectedMailbox()
        guard !sel.readOnly else { throw IMAPError.no("READ-ONLY", "The mailbox is read-only (EXAMINE)") }
        if unchangedSince != nil { enableCondstore(out: out) }
        let list = try targets(set, uid: uid, in: sel)
        let change: FlagChange = flags.mode == .add ? .add : flags.mode == .remove ? .remove : .replace
        let r = try env.store.storeFlags(
            mailboxID: sel.id, uids: list.map(\.uid), change: change, flags: flags.flags.filter { $0 != "\\Recent" },
            unchangedSince: unchangedSince.map { Int64(clamping: $0) })
        // New keywords change only the mailbox's keyword list: `sel` still has its messages right.
        try updateSelected { try announceNewKeywords(in: &$0, out: out) }
        var report = r.changed
        if !flags.silent { report += r.unchanged }
        for m in report.sorted(by: { $0.uid < $1.uid }) {
            guard let msn = sel.msn(of: m.uid) else { continue }
            out.write(.flagUpdate(
                msn, uid: uid ? m.uid : nil, flags: !flags.silent || condstore ? flagList(m.flags, uid: m.uid, in: sel) : nil,
                modseq: condstore ? m.modseq : nil))
        }
        if !r.failed.isEmpty {
            let numbers = uid ? r.failed.map { UInt32(clamping: $0) } : r.failed.compactMap { sel.msn(of: $0).map { UInt32($0) } }
            let code = "MODIFIED \(SequenceSet.compact(numbers.sorted()))"
            return ok(tag, code: code, "Conditional STORE failed", out: out)
        }
        return ok(tag, "STORE completed", out: out)
    }

    /// New keywords in the mailbox go out as FLAGS and PERMANENTFLAGS.
    func announceNewKeywords(in sel: inout SelectedMailbox, out: ResponseWriter) throws {
        guard let record = try env.store.mailbox(id: sel.id), record.keywords != sel.keywords else { return }
        sel.keywords = record.keywords
        let flags = Self.systemFlags + record.keywords
        out.write(.flags(flags))
        out.write(.untagged(.ok, code: Self.permanentFlagsCode(flags + ["\\*"]), "Flags permitted"))
    }

    // MARK: COPY, MOVE, EXPUNGE

    func copy(_ set: SequenceSet, to name: MailboxName, move: Bool, uid: Bool, tag: String, out: ResponseWriter) throws -> Next {
        let command = move ? "MOVE" : "COPY"
        let sel = try selectedMailbox(), account = try authenticatedAccount()
        if move, sel.readOnly { throw IMAPError.no("READ-ONLY", "The mailbox is read-only (EXAMINE)") }
        let decoded = try mailboxName(name)
        guard let target = try env.store.mailbox(accountID: account.id, name: decoded) else {
            throw IMAPError.no("TRYCREATE", "Mailbox \(decoded) does not exist; create it first")
        }
        let list = try targets(set, uid: uid, in: sel)
        let result = try env.store.copyMessages(
            from: sel.id, uids: list.map(\.uid), to: target.id, move: move, accountID: account.id, quota: quota)
        env.delivery.forgetUsage(of: account.id)
        guard !result.pairs.isEmpty else { return ok(tag, "\(command) completed (no messages)", out: out) }
        if let junkClass = try junkLesson(from: sel.id, to: target, move: move) {
            env.delivery.junkTrainer.learn(
                result.pairs.map { .init(accountID: account.id, mailboxID: target.id, uid: $0.1, junkClass: junkClass) })
        }
        let code = "COPYUID \(result.uidValidity) \(SequenceSet.compact(result.pairs.map { UInt32(clamping: $0.0) })) \(SequenceSet.compact(result.pairs.map { UInt32(clamping: $0.1) }))"
        // Into the selected mailbox itself: the copies are new messages there (`* n EXISTS`).
        let intoSelected = target.id == sel.id
        guard move else {
            if intoSelected { reportChanges(out: out, expunges: true) }
            return ok(tag, code: code, "COPY completed", out: out)
        }
        out.write(.untagged(.ok, code: code, "Moved"))
        updateSelected { announceExpunges(result.pairs.map(\.0), in: &$0, out: out) }
        if intoSelected { reportChanges(out: out, expunges: true) }
        return ok(tag, "MOVE completed", out: out)
    }

    /// What a COPY or MOVE teaches the account's junk classifier: into `\Junk` (from any other
    /// mailbox) is spam; a MOVE out of `\Junk` into any mailbox but `\Trash` is ham (deleting
    /// junk says nothing about it; a COPY out leaves it in Junk, so it says nothing either).
    func junkLesson(from source: Int64, to target: MailboxRecord, move: Bool) throws -> JunkClass? {
        guard source != target.id else { return nil }
        if target.specialUse == "\\Junk" { return .spam }
        guard move, target.specialUse != "\\Trash", try env.store.mailbox(id: source)?.specialUse == "\\Junk" else { return nil }
        return .ham
    }

    func expunge(uids: SequenceSet?, tag: String, out: ResponseWriter) throws -> Next {
        let sel = try selectedMailbox(), account = try authenticatedAccount()
        guard !sel.readOnly else { throw IMAPError.no("READ-ONLY", "The mailbox is read-only (EXAMINE)") }
        var only: Set<Int64>?
        if let uids { only = Set(try targets(uids, uid: true, in: sel).map(\.uid)) }
        let removed = try env.store.expunge(mailboxID: sel.id, uids: only)
        env.delivery.forgetUsage(of: account.id)
        updateSelected { announceExpunges(removed, in: &$0, out: out) }
        reportChanges(out: out, expunges: true)
        return ok(tag, "EXPUNGE completed", out: out)
    }

    /// Tells the client that messages are gone (VANISHED under QRESYNC, else EXPUNGE with the
    /// sequence number each had at that moment), and forgets them.
    func announceExpunges(_ uids: [Int64], in sel: inout SelectedMailbox, out: ResponseWriter) {
        let gone = uids.filter { sel.msn(of: $0) != nil }.sorted()
        guard !gone.isEmpty else { return }
        if qresync {
            out.write(.vanished(earlier: false, gone.map { UInt32(clamping: $0) }))
            let set = Set(gone)
            sel.uids.removeAll { set.contains($0) }
            return
        }
        for u in gone.reversed() {
            // Highest first: each number is still right when the client reads it.
            guard let msn = sel.msn(of: u) else { continue }
            out.write(.expunge(msn))
            sel.uids.remove(at: msn - 1)
        }
    }

    /// Tells the client what changed in the selected mailbox since it was last told: expunges
    /// (only where RFC 9051 §7.5.1 allows them), new messages, flag changes.
    func reportChanges(out: ResponseWriter, expunges: Bool) {
        guard expunges else { return }
        updateSelected { sel in
            guard let news = try? env.store.changes(mailboxID: sel.id, since: sel.modseq), let mailbox = news.mailbox else {
                return
            }
            let (changed, expunged) = (news.changed, news.expunged)
            announceExpunges(expunged, in: &sel, out: out)
            let last = sel.uids.last ?? 0
            let new = changed.filter { $0.uid > last }.map(\.uid)
            if !new.isEmpty {
                sel.uids += new
                takeRecent(into: &sel, through: new[new.count - 1], after: last, claimedUpTo: mailbox.recentUID)
                out.write(.exists(sel.uids.count))
                if !rev2 { out.write(.recent(sel.recentCount)) }
            }
            if mailbox.keywords != sel.keywords { try? announceNewKeywords(in: &sel, out: out) }
            for m in changed where m.uid <= last {
                guard let msn = sel.msn(of: m.uid) else { continue }
                out.write(.flagUpdate(msn, uid: m.uid, flags: flagList(m.flags, uid: m.uid, in: sel), modseq: condstore ? m.modseq : nil))
            }
            sel.modseq = max(sel.modseq, mailbox.highestModseq)
        }
    }
}

/// What a FETCH body item sends: octets of the message (read from where it is kept as they
/// are sent), or octets made for the answer.
enum SectionContent {
    case range(Range<Int>)
    case bytes([UInt8])
}

/// One `* n FETCH (...)` response, built in one buffer; a literal streamed from a file goes out
/// in pieces between what comes before and after it.
struct FetchLine {
    private var bytes: [UInt8]
    private var empty = true

    init(msn: Int) {
        bytes = Array("* \(msn) FETCH (".utf8)
        bytes.reserveCapacity(128)
    }

    mutating func item(_ text: String, _ tail: [UInt8] = []) {
        if !empty { bytes.append(0x20) }
        empty = false
        bytes.append(contentsOf: text.utf8)
        bytes.append(contentsOf: tail)
    }

    /// An item whose literal is `range` of `file`: the line so far and the literal's size go
    /// out, then the octets a chunk at a time, as the client takes them (see ``ResponseWriter``).
    mutating func streamedItem(_ text: String, _ file: BlobFile, _ range: Range<Int>, binary: Bool, out: ResponseWriter) {
        if !empty { bytes.append(0x20) }
        empty = false
        bytes.append(contentsOf: text.utf8)
        // A BINARY literal holding a NUL is a literal8 (RFC 3516), as for one in memory.
        let literal8 = binary && file.containsNUL(range)
        bytes.append(contentsOf: "\(literal8 ? "~" : ""){\(range.count)}\r\n".utf8)
        out.write(bytes)
        bytes.removeAll()
        out.write(file: file, range)
    }

    func finished() -> [UInt8] { bytes + [0x29, 0x0D, 0x0A] }
}

/// Picks header fields out of a header section (HEADER.FIELDS and HEADER.FIELDS.NOT): whole
/// fields with their continuation lines, then the empty line that ends a header.
enum HeaderFields {
    static func select(_ header: ArraySlice<UInt8>, names: [String], keep: Bool) -> [UInt8] {
        let wanted = Set(names.map { $0.lowercased() })
        var out: [UInt8] = []
        var i = header.startIndex
        var including = false
        while i < header.endIndex {
            let lineEnd = header[i...].firstIndex(of: 0x0A).map { $0 + 1 } ?? header.endIndex
            let line = header[i..<lineEnd]
            if line.first == 0x0D || line.first == 0x0A { break }
            if line.first != 0x20 && line.first != 0x09 {
                let colon = line.firstIndex(of: 0x3A) ?? line.endIndex
                let name = String(decoding: header[i..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
                including = wanted.contains(name) == keep
            }
            if including { out += line }
            i = lineEnd
        }
        return out + [0x0D, 0x0A]
    }
}

extension [UInt8] {
    /// Appends a non-negative number in decimal, without making a String.
    mutating func appendDecimal(_ value: Int64) {
        var n = UInt64(clamping: value)
        var width = 1
        var rest = n
        while rest >= 10 {
            rest /= 10
            width += 1
        }
        let start = count
        append(contentsOf: repeatElement(0x30, count: width))
        // Digits written in place from the last: no reversing, no slice.
        withUnsafeMutableBufferPointer { p in
            var i = start + width - 1
            repeat {
                p[i] = UInt8(truncatingIfNeeded: 48 + n % 10)
                n /= 10
                i -= 1
            } while n > 0
        }
    }
}

/// The fixed parts of a stored-items FETCH line, made once.
enum FlagsText {
    static let star = Array("* ".utf8)
    static let fetch = Array(" FETCH (".utf8)
    static let uid = Array("UID ".utf8)
    static let flags = Array("FLAGS (".utf8)
    static let recent = Array("\\Recent".utf8)
    static let size = Array("RFC822.SIZE ".utf8)
    static let envelope = Array("ENVELOPE ".utf8)
    static let bodyStructure = Array("BODYSTRUCTURE ".utf8)
    static let body = Array("BODY ".utf8)
    static let modseq = Array("MODSEQ (".utf8)
    static let end = Array(")\r\n".utf8)
}
