import Foundation

/// Parses complete commands (as framed by ``IMAPFramer``) into ``TaggedCommand``s.
public enum IMAPCommandParser {
    /// command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF
    public static func parse(_ bytes: [UInt8], limits: IMAPLimits = IMAPLimits()) throws -> TaggedCommand {
        var p = IMAPParser(bytes, limits: limits)
        // tag = 1*<any ASTRING-CHAR except "+">
        let start = p.i
        while let c = p.peek, IMAPParser.isAtomChar(c) || c == 0x5D, c != 0x2B { p.i += 1 }
        guard p.i > start, p.i - start <= 64 else { throw IMAPParseError(tag: nil, "Missing or invalid tag") }
        p.tag = String(decoding: p.bytes[start..<p.i], as: UTF8.self)
        try p.sp()
        let command = try p.command()
        try p.end()
        return TaggedCommand(tag: p.tag!, command: command)
    }
}

extension IMAPParser {
    mutating func command() throws -> IMAPCommand {
        let name = try keyword()
        switch name {
        case "CAPABILITY": return .capability
        case "NOOP": return .noop
        case "LOGOUT": return .logout
        case "STARTTLS": return .starttls
        case "CHECK": return .check
        case "CLOSE": return .close
        case "UNSELECT": return .unselect
        case "EXPUNGE": return .expunge
        case "IDLE": return .idle
        case "NAMESPACE": return .namespace
        case "ID":
            try sp()
            return .id(try idParameters())
        case "LOGIN":
            try sp()
            let user = try astringText()
            try sp()
            return .login(user: user, password: try astringText())
        case "AUTHENTICATE":
            try sp()
            let mechanism = try atom("a SASL mechanism").uppercased()
            var initial: String?
            if skip(0x20) {
                let start = i
                while let c = peek, c != 0x20 { i += 1 }
                initial = String(decoding: bytes[start..<i], as: UTF8.self)
            }
            return .authenticate(mechanism: mechanism, initialResponse: initial)
        case "ENABLE":
            var caps: [String] = []
            while skip(0x20) { caps.append(try atom("a capability").uppercased()) }
            guard !caps.isEmpty else { throw fail("ENABLE needs at least one capability") }
            return .enable(caps)
        case "SELECT", "EXAMINE":
            try sp()
            let mailbox = try self.mailbox()
            let params = try selectParameters()
            return name == "SELECT" ? .select(mailbox, params) : .examine(mailbox, params)
        case "CREATE":
            try sp()
            let mailbox = try self.mailbox()
            var uses: [String] = []
            // create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"   (RFC 6154 §3)
            if skip(0x20) {
                try expect(0x28, "(")
                guard skipKeyword("USE") else { throw fail("the only CREATE parameter is USE") }
                try sp()
                try expect(0x28, "(")
                while !skip(0x29) {
                    if !uses.isEmpty { try sp() }
                    try expect(0x5C, "a special-use attribute like \\Sent")
                    uses.append("\\" + (try atom()))
                }
                try expect(0x29, ")")
            }
            return .create(mailbox, specialUse: uses)
        case "DELETE": try sp(); return .delete(try mailbox())
        case "SUBSCRIBE": try sp(); return .subscribe(try mailbox())
        case "UNSUBSCRIBE": try sp(); return .unsubscribe(try mailbox())
        case "RENAME":
            try sp()
            let from = try mailbox()
            try sp()
            return .rename(from, try mailbox())
        case "LIST": return .list(try listCommand())
        case "LSUB":
            try sp()
            let ref = try mailbox()
            try sp()
            return .lsub(reference: ref, pattern: try listMailbox())
        case "STATUS":
            try sp()
            let mailbox = try self.mailbox()
            try sp()
            return .status(mailbox, try statusAttributes())
        case "APPEND":
            try sp()
            let mailbox = try self.mailbox()
            try sp()
            var flags: [String] = []
            var date: Date?
            if peek == 0x28 {
                flags = try flagList()
                try sp()
            }
            if peek == 0x22 {
                date = try dateTime()
                try sp()
            }
            return .append(mailbox, flags: flags, date: date, message: try string())
        case "GETQUOTA": try sp(); return .getQuota(try astringText())
        case "GETQUOTAROOT": try sp(); return .getQuotaRoot(try mailbox())
        case "SETQUOTA":
            try sp()
            let root = try astringText()
            i = bytes.count  // the limits themselves do not matter: setting quotas is the administrator's
            return .setQuota(root)
        case "SEARCH": return .search(try searchCommand(), uid: false)
        case "SORT": return .sort(try sortCommand(), uid: false)
        case "THREAD": return .thread(try threadCommand(), uid: false)
        case "FETCH": return try fetch(uid: false)
        case "STORE": return try store(uid: false)
        case "COPY", "MOVE":
            try sp()
            let set = try sequenceSet()
            try sp()
            let mailbox = try self.mailbox()
            return name == "COPY" ? .copy(set, mailbox, uid: false) : .move(set, mailbox, uid: false)
        case "UID":
            try sp()
            let sub = try keyword()
            switch sub {
            case "SEARCH": return .search(try searchCommand(), uid: true)
            case "SORT": return .sort(try sortCommand(), uid: true)
            case "THREAD": return .thread(try threadCommand(), uid: true)
            case "FETCH": return try fetch(uid: true)
            case "STORE": return try store(uid: true)
            case "COPY", "MOVE":
                try sp()
                let set = try sequenceSet()
                try sp()
                let mailbox = try self.mailbox()
                return sub == "COPY" ? .copy(set, mailbox, uid: true) : .move(set, mailbox, uid: true)
            case "EXPUNGE":
                try sp()
                return .uidExpunge(try sequenceSet())
            default: throw fail("UID \(sub) is not a command (UID goes with FETCH, SEARCH, SORT, THREAD, STORE, COPY, MOVE or EXPUNGE)")
            }
        default:
            throw fail("Unknown command \(name.prefix(40))")
        }
    }

    /// id-params-list = "(" *(string SP nstring) ")" / nil   (RFC 2971)
    mutating func idParameters() throws -> [String: String?]? {
        if skipKeyword("NIL") { return nil }
        try expect(0x28, "(")
        var out: [String: String?] = [:]
        while !skip(0x29) {
            if !out.isEmpty { try sp() }
            let key = String(decoding: try string(), as: UTF8.self)
            try sp()
            out.updateValue(try nstring().map { String(decoding: $0, as: UTF8.self) }, forKey: key)
            guard out.count <= 30 else { throw fail("too many ID parameters (30 at most)") }
        }
        return out
    }

    /// select-params = SP "(" select-param *(SP select-param) ")"   (RFC 4466, RFC 7162)
    mutating func selectParameters() throws -> SelectParameters {
        var params = SelectParameters()
        guard skip(0x20) else { return params }
        try expect(0x28, "(")
        var first = true
        while !skip(0x29) {
            if !first { try sp() }
            first = false
            let name = try keyword()
            switch name {
            case "CONDSTORE": params.condstore = true
            case "QRESYNC":
                // "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
                try sp()
                try expect(0x28, "(")
                var q = QResync(uidValidity: try nzNumber(), modseq: 0)
                try sp()
                q.modseq = try number64()
                if skip(0x20) {
                    if peek == 0x28 {
                        try seqMatch(&q)
                    } else {
                        q.knownUIDs = try sequenceSet()
                        if skip(0x20) { try seqMatch(&q) }
                    }
                }
                try expect(0x29, ")")
                params.qresync = q
            default: throw fail("unknown SELECT parameter \(name)")
            }
        }
        return params
    }

    mutating func seqMatch(_ q: inout QResync) throws {
        try expect(0x28, "(")
        q.matchSequences = try sequenceSet()
        try sp()
        q.matchUIDs = try sequenceSet()
        try expect(0x29, ")")
    }

    /// Selection and return options this server knows (RFC 5258 §3, RFC 6154 §5.1, RFC 5819).
    /// Others are the client's error: "the server MUST return a tagged BAD" (RFC 5258 §3).
    static let listSelectOptions: Set<String> = ["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"]
    static let listReturnOptions: Set<String> = ["SUBSCRIBED", "CHILDREN", "SPECIAL-USE"]

    /// list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]   (RFC 5258)
    /// list-select-opts = "(" [(*(list-select-mod SP) list-select-base-opt *(SP list-select-opt))] ")"
    /// list-select-mod = "RECURSIVEMATCH"   ; only beside a base option (REMOTE is none)
    mutating func listCommand() throws -> ListCommand {
        try sp()
        var selectOptions: [String] = []
        if skip(0x28) {
            while !skip(0x29) {
                if !selectOptions.isEmpty { try sp() }
                let option = try keyword()
                guard Self.listSelectOptions.contains(option) else { throw fail("unknown LIST selection option \(option.prefix(40))") }
                selectOptions.append(option)
            }
            if selectOptions.contains("RECURSIVEMATCH") && !selectOptions.contains(where: { $0 != "RECURSIVEMATCH" && $0 != "REMOTE" }) {
                throw fail("RECURSIVEMATCH needs another selection option, such as SUBSCRIBED")
            }
            try sp()
        }
        let reference = try mailbox()
        try sp()
        var patterns: [MailboxName] = []
        if skip(0x28) {
            while !skip(0x29) {
                if !patterns.isEmpty { try sp() }
                patterns.append(try listMailbox())
            }
        } else {
            patterns.append(try listMailbox())
        }
        var list = ListCommand(reference: reference, patterns: patterns)
        list.selectOptions = selectOptions
        if skip(0x20) {
            guard skipKeyword("RETURN") else { throw fail("expected RETURN (...)") }
            try sp()
            try expect(0x28, "(")
            while !skip(0x29) {
                if !list.returnOptions.isEmpty || list.returnStatus != nil { try sp() }
                let option = try keyword()
                if option == "STATUS" {
                    try sp()
                    list.returnStatus = try statusAttributes()
                } else {
                    guard Self.listReturnOptions.contains(option) else { throw fail("unknown LIST return option \(option.prefix(40))") }
                    list.returnOptions.append(option)
                }
            }
        }
        return list
    }

    /// "(" status-att *(SP status-att) ")"
    mutating func statusAttributes() throws -> [StatusAttribute] {
        try expect(0x28, "(")
        var out: [StatusAttribute] = []
        while !skip(0x29) {
            if !out.isEmpty { try sp() }
            let name = try keyword()
            guard let a = StatusAttribute(rawValue: name) else { throw fail("unknown STATUS item \(name)") }
            out.append(a)
        }
        guard !out.isEmpty else { throw fail("STATUS needs at least one item") }
        return out
    }

    /// store = "STORE" SP sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"] SP store-att-flags
    mutating func store(uid: Bool) throws -> IMAPCommand {
        try sp()
        let set = try sequenceSet()
        try sp()
        var unchangedSince: UInt64?
        if skip(0x28) {
            guard skipKeyword("UNCHANGEDSINCE") else { throw fail("the only STORE modifier is UNCHANGEDSINCE") }
            try sp()
            unchangedSince = try number64()
            try expect(0x29, ")")
            try sp()
        }
        // store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
        let mode: StoreFlags.Mode = skip(0x2B) ? .add : skip(0x2D) ? .remove : .replace
        let item = try keyword()
        guard item == "FLAGS" || item == "FLAGS.SILENT" else { throw fail("STORE changes FLAGS or FLAGS.SILENT") }
        try sp()
        var flags: [String] = []
        if peek == 0x28 {
            flags = try flagList()
        } else {
            repeat { flags.append(try flag()) } while skip(0x20)
        }
        return .store(set, StoreFlags(mode: mode, silent: item.hasSuffix(".SILENT"), flags: flags), unchangedSince: unchangedSince, uid: uid)
    }
}
