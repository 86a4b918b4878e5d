import Foundation

/// Commands written as a client sends them (literals non-synchronizing, `{n+}`): for the
/// parser's round-trip tests, the fuzz target, and clients of ours (migration from other
/// servers).
extension TaggedCommand {
    public func encoded() -> [UInt8] {
        var w = CommandWriter()
        w.raw(tag + " ")
        w.command(command)
        w.raw("\r\n")
        return w.bytes
    }
}

struct CommandWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ s: String) { bytes += Array(s.utf8) }

    /// An astring: an atom when it can be, a quoted string, or a literal.
    mutating func astring(_ b: [UInt8]) {
        if !b.isEmpty, b.allSatisfy({ IMAPParser.isAtomChar($0) || $0 == 0x5D }) {
            bytes += b
        } else {
            string(b)
        }
    }

    mutating func astring(_ s: String) { astring(Array(s.utf8)) }

    mutating func string(_ b: [UInt8]) {
        if b.count < 200, b.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            bytes.append(0x22)
            for c in b {
                if c == 0x22 || c == 0x5C { bytes.append(0x5C) }
                bytes.append(c)
            }
            bytes.append(0x22)
        } else {
            raw("{\(b.count)+}\r\n")
            bytes += b
        }
    }

    /// list-mailbox: wildcards are fine unquoted.
    mutating func pattern(_ b: [UInt8]) {
        if !b.isEmpty, b.allSatisfy({ IMAPParser.isAtomChar($0) || $0 == 0x25 || $0 == 0x2A || $0 == 0x5D }) {
            bytes += b
        } else {
            string(b)
        }
    }

    mutating func list<T>(_ items: [T], _ each: (inout CommandWriter, T) -> Void) {
        raw("(")
        for (i, item) in items.enumerated() {
            if i > 0 { raw(" ") }
            each(&self, item)
        }
        raw(")")
    }

    static func date(_ d: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day], from: d)
        return "\(c.day!)-\(IMAPParser.months[c.month! - 1].capitalized)-\(c.year!)"
    }

    static func dateTime(_ d: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\"\(two(c.day!))-\(IMAPParser.months[c.month! - 1].capitalized)-\(c.year!) \(two(c.hour!)):\(two(c.minute!)):\(two(c.second!)) +0000\""
    }

    mutating func command(_ c: IMAPCommand) {
        switch c {
        case .capability: raw("CAPABILITY")
        case .noop: raw("NOOP")
        case .logout: raw("LOGOUT")
        case .starttls: raw("STARTTLS")
        case .check: raw("CHECK")
        case .close: raw("CLOSE")
        case .unselect: raw("UNSELECT")
        case .expunge: raw("EXPUNGE")
        case .idle: raw("IDLE")
        case .namespace: raw("NAMESPACE")
        case .id(let params):
            raw("ID ")
            guard let params else { return raw("NIL") }
            list(params.sorted { $0.key < $1.key }) { w, p in
                w.string(Array(p.key.utf8))
                w.raw(" ")
                if let v = p.value { w.string(Array(v.utf8)) } else { w.raw("NIL") }
            }
        case .login(let user, let password):
            raw("LOGIN ")
            astring(user)
            raw(" ")
            astring(password)
        case .authenticate(let mechanism, let initial):
            raw("AUTHENTICATE \(mechanism)")
            if let initial { raw(" \(initial)") }
        case .enable(let caps): raw("ENABLE " + caps.joined(separator: " "))
        case .select(let m, let p), .examine(let m, let p):
            if case .select = c { raw("SELECT ") } else { raw("EXAMINE ") }
            astring(m.bytes)
            var params: [String] = []
            if p.condstore { params.append("CONDSTORE") }
            if let q = p.qresync {
                var s = "QRESYNC (\(q.uidValidity) \(q.modseq)"
                if let k = q.knownUIDs { s += " \(k)" }
                if let a = q.matchSequences, let b = q.matchUIDs { s += " (\(a) \(b))" }
                params.append(s + ")")
            }
            if !params.isEmpty { raw(" (\(params.joined(separator: " ")))") }
        case .create(let m, let uses):
            raw("CREATE ")
            astring(m.bytes)
            if !uses.isEmpty { raw(" (USE (\(uses.joined(separator: " "))))") }
        case .delete(let m): raw("DELETE "); astring(m.bytes)
        case .subscribe(let m): raw("SUBSCRIBE "); astring(m.bytes)
        case .unsubscribe(let m): raw("UNSUBSCRIBE "); astring(m.bytes)
        case .rename(let a, let b):
            raw("RENAME ")
            astring(a.bytes)
            raw(" ")
            astring(b.bytes)
        case .list(let l):
            raw("LIST ")
            if !l.selectOptions.isEmpty { raw("(\(l.selectOptions.joined(separator: " "))) ") }
            astring(l.reference.bytes)
            raw(" ")
            if l.patterns.count == 1 { pattern(l.patterns[0].bytes) } else { list(l.patterns) { w, p in w.pattern(p.bytes) } }
            if !l.returnOptions.isEmpty || l.returnStatus != nil {
                var options = l.returnOptions
                if let s = l.returnStatus { options.append("STATUS (\(s.map(\.rawValue).joined(separator: " ")))") }
                raw(" RETURN (\(options.joined(separator: " ")))")
            }
        case .lsub(let r, let p):
            raw("LSUB ")
            astring(r.bytes)
            raw(" ")
            pattern(p.bytes)
        case .status(let m, let items):
            raw("STATUS ")
            astring(m.bytes)
            raw(" (\(items.map(\.rawValue).joined(separator: " ")))")
        case .append(let m, let flags, let date, let message):
            raw("APPEND ")
            astring(m.bytes)
            if !flags.isEmpty { raw(" (\(flags.joined(separator: " ")))") }
            if let date { raw(" " + Self.dateTime(date)) }
            raw(" {\(message.count)+}\r\n")
            bytes += message
        case .getQuota(let root): raw("GETQUOTA "); string(Array(root.utf8))
        case .getQuotaRoot(let m): raw("GETQUOTAROOT "); astring(m.bytes)
        case .setQuota(let root): raw("SETQUOTA "); string(Array(root.utf8)); raw(" (STORAGE 1)")
        case .uidExpunge(let set): raw("UID EXPUNGE \(set)")
        case .search(let s, let uid):
            raw(uid ? "UID SEARCH" : "SEARCH")
            if let r = s.returnOptions { raw(" RETURN (\(r.joined(separator: " ")))") }
            if let cs = s.charset { raw(" CHARSET \(cs)") }
            raw(" ")
            searchKeys(s.key)
        case .sort(let s, let uid):
            raw(uid ? "UID SORT" : "SORT")
            if let r = s.returnOptions {
                raw(" RETURN ")
                list(r) { w, o in
                    switch o {
                    case .min: w.raw("MIN")
                    case .max: w.raw("MAX")
                    case .all: w.raw("ALL")
                    case .count: w.raw("COUNT")
                    case .save: w.raw("SAVE")
                    case .partial(let range): w.raw("PARTIAL \(range.lowerBound):\(range.upperBound)")
                    }
                }
            }
            raw(" ")
            list(s.criteria) { w, c in w.raw((c.reverse ? "REVERSE " : "") + c.key.rawValue) }
            raw(" ")
            astring(s.charset)
            raw(" ")
            searchKeys(s.key)
        case .thread(let t, let uid):
            raw((uid ? "UID THREAD " : "THREAD ") + t.algorithm.rawValue + " ")
            astring(t.charset)
            raw(" ")
            searchKeys(t.key)
        case .fetch(let set, let items, let modifiers, let uid):
            raw((uid ? "UID FETCH " : "FETCH ") + "\(set) ")
            list(items) { w, item in w.fetchItem(item) }
            var mods: [String] = []
            if let c = modifiers.changedSince { mods.append("CHANGEDSINCE \(c)") }
            if modifiers.vanished { mods.append("VANISHED") }
            if !mods.isEmpty { raw(" (\(mods.joined(separator: " ")))") }
        case .store(let set, let flags, let unchanged, let uid):
            raw((uid ? "UID STORE " : "STORE ") + "\(set) ")
            if let u = unchanged { raw("(UNCHANGEDSINCE \(u)) ") }
            raw(flags.mode == .add ? "+" : flags.mode == .remove ? "-" : "")
            raw("FLAGS\(flags.silent ? ".SILENT" : "") (\(flags.flags.joined(separator: " ")))")
        case .copy(let set, let m, let uid), .move(let set, let m, let uid):
            if case .copy = c { raw(uid ? "UID COPY " : "COPY ") } else { raw(uid ? "UID MOVE " : "MOVE ") }
            raw("\(set) ")
            astring(m.bytes)
        }
    }

    mutating func fetchItem(_ item: FetchAttribute) {
        func partial(_ p: ClosedRange<Int>?) -> String { p.map { "<\($0.lowerBound).\($0.count)>" } ?? "" }
        switch item {
        case .envelope: raw("ENVELOPE")
        case .flags: raw("FLAGS")
        case .internalDate: raw("INTERNALDATE")
        case .rfc822Size: raw("RFC822.SIZE")
        case .bodyStructure: raw("BODYSTRUCTURE")
        case .body: raw("BODY")
        case .uid: raw("UID")
        case .modseq: raw("MODSEQ")
        case .rfc822: raw("RFC822")
        case .rfc822Header: raw("RFC822.HEADER")
        case .rfc822Text: raw("RFC822.TEXT")
        case .bodySection(let spec, let p, let peek):
            raw((peek ? "BODY.PEEK[" : "BODY[") + spec.description + "]" + partial(p))
        case .binary(let part, let p, let peek):
            raw((peek ? "BINARY.PEEK[" : "BINARY[") + part.map(String.init).joined(separator: ".") + "]" + partial(p))
        case .binarySize(let part): raw("BINARY.SIZE[" + part.map(String.init).joined(separator: ".") + "]")
        }
    }

    /// A search program's keys: the top-level AND written as a plain list.
    mutating func searchKeys(_ key: SearchKey) {
        if case .and(let keys) = key, !keys.isEmpty {
            for (i, k) in keys.enumerated() {
                if i > 0 { raw(" ") }
                searchKey(k)
            }
        } else {
            searchKey(key)
        }
    }

    mutating func searchKey(_ key: SearchKey) {
        func text(_ name: String, _ s: String) {
            raw(name + " ")
            string(Array(s.utf8))
        }
        switch key {
        case .all: raw("ALL")
        case .and(let keys): list(keys) { w, k in w.searchKey(k) }
        case .or(let a, let b):
            raw("OR ")
            searchKey(a)
            raw(" ")
            searchKey(b)
        case .not(let k):
            raw("NOT ")
            searchKey(k)
        case .flag(let f, let set):
            let system = ["\\Answered": "ANSWERED", "\\Deleted": "DELETED", "\\Draft": "DRAFT", "\\Flagged": "FLAGGED", "\\Seen": "SEEN"]
            if let name = system[f] { raw(set ? name : "UN" + name) } else { raw((set ? "KEYWORD " : "UNKEYWORD ") + f) }
        case .new: raw("NEW")
        case .old: raw("OLD")
        case .recent: raw("RECENT")
        case .before(let d): raw("BEFORE " + Self.date(d))
        case .on(let d): raw("ON " + Self.date(d))
        case .since(let d): raw("SINCE " + Self.date(d))
        case .sentBefore(let d): raw("SENTBEFORE " + Self.date(d))
        case .sentOn(let d): raw("SENTON " + Self.date(d))
        case .sentSince(let d): raw("SENTSINCE " + Self.date(d))
        case .larger(let n): raw("LARGER \(n)")
        case .smaller(let n): raw("SMALLER \(n)")
        case .header(let f, let s):
            raw("HEADER ")
            astring(f)
            raw(" ")
            string(Array(s.utf8))
        case .subject(let s): text("SUBJECT", s)
        case .from(let s): text("FROM", s)
        case .to(let s): text("TO", s)
        case .cc(let s): text("CC", s)
        case .bcc(let s): text("BCC", s)
        case .body(let s): text("BODY", s)
        case .text(let s): text("TEXT", s)
        case .uid(let set): raw("UID \(set)")
        case .sequence(let set): raw("\(set)")
        case .modseq(let n): raw("MODSEQ \(n)")
        case .older(let n): raw("OLDER \(n)")
        case .younger(let n): raw("YOUNGER \(n)")
        }
    }
}
