import Foundation

/// SEARCH's grammar (RFC 9051 §6.4.4, RFC 4731 ESEARCH, RFC 5182 SEARCHRES, RFC 7162 MODSEQ).
extension IMAPParser {
    /// search = "SEARCH" [search-return-opts] SP search-program
    /// search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)
    mutating func searchCommand() throws -> SearchCommand {
        try sp()
        var returnOptions: [String]?
        if skipKeyword("RETURN") {
            try sp()
            try expect(0x28, "(")
            var options: [String] = []
            while !skip(0x29) {
                if !options.isEmpty { try sp() }
                let o = try keyword()
                guard ["MIN", "MAX", "ALL", "COUNT", "SAVE"].contains(o) else { throw fail("unknown SEARCH RETURN option \(o)") }
                options.append(o)
            }
            returnOptions = options
            try sp()
        }
        var charset: String?
        if skipKeyword("CHARSET") {
            try sp()
            charset = try astringText().uppercased()
            try sp()
        }
        return SearchCommand(returnOptions: returnOptions, charset: charset, key: try searchKeys())
    }

    /// search-key *(SP search-key), the keys of a search program: one key, or all of them.
    mutating func searchKeys() throws -> SearchKey {
        var keys = [try searchKey()]
        while skip(0x20) {
            keys.append(try searchKey())
            guard keys.count <= 1000 else { throw fail("too many search keys") }
        }
        return keys.count == 1 ? keys[0] : .and(keys)
    }

    mutating func searchString() throws -> String { String(decoding: try astring(), as: UTF8.self) }

    mutating func searchKey() throws -> SearchKey {
        if skip(0x28) {
            try nest()
            defer { depth -= 1 }
            var keys = [try searchKey()]
            while skip(0x20) { keys.append(try searchKey()) }
            try expect(0x29, ")")
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if let c = peek, (c >= 0x31 && c <= 0x39) || c == 0x2A || c == 0x24 {
            return .sequence(try sequenceSet())
        }
        let name = try keyword()
        switch name {
        case "ALL": return .all
        case "ANSWERED": return .flag("\\Answered", set: true)
        case "DELETED": return .flag("\\Deleted", set: true)
        case "DRAFT": return .flag("\\Draft", set: true)
        case "FLAGGED": return .flag("\\Flagged", set: true)
        case "SEEN": return .flag("\\Seen", set: true)
        case "UNANSWERED": return .flag("\\Answered", set: false)
        case "UNDELETED": return .flag("\\Deleted", set: false)
        case "UNDRAFT": return .flag("\\Draft", set: false)
        case "UNFLAGGED": return .flag("\\Flagged", set: false)
        case "UNSEEN": return .flag("\\Seen", set: false)
        case "NEW": return .new
        case "OLD": return .old
        case "RECENT": return .recent
        case "KEYWORD", "UNKEYWORD":
            try sp()
            return .flag(try atom("a keyword"), set: name == "KEYWORD")
        case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE":
            try sp()
            let d = try date()
            switch name {
            case "BEFORE": return .before(d)
            case "ON": return .on(d)
            case "SINCE": return .since(d)
            case "SENTBEFORE": return .sentBefore(d)
            case "SENTON": return .sentOn(d)
            default: return .sentSince(d)
            }
        case "LARGER", "SMALLER":
            try sp()
            let n = Int(try number64())
            return name == "LARGER" ? .larger(n) : .smaller(n)
        case "SUBJECT", "FROM", "TO", "CC", "BCC", "BODY", "TEXT":
            try sp()
            let s = try searchString()
            switch name {
            case "SUBJECT": return .subject(s)
            case "FROM": return .from(s)
            case "TO": return .to(s)
            case "CC": return .cc(s)
            case "BCC": return .bcc(s)
            case "BODY": return .body(s)
            default: return .text(s)
            }
        case "HEADER":
            try sp()
            let field = try searchString()
            try sp()
            return .header(field, try searchString())
        case "UID":
            try sp()
            return .uid(try sequenceSet())
        case "OLDER", "YOUNGER":
            // search-key =/ ( "OLDER" / "YOUNGER" ) SP nz-number   (RFC 5032 §4)
            try sp()
            let seconds = try nzNumber()
            return name == "OLDER" ? .older(seconds) : .younger(seconds)
        case "NOT":
            try sp()
            try nest()
            defer { depth -= 1 }
            return .not(try searchKey())
        case "OR":
            try sp()
            try nest()
            defer { depth -= 1 }
            let a = try searchKey()
            try sp()
            return .or(a, try searchKey())
        case "MODSEQ":
            // "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer; search-modseq-ext = SP entry-name SP entry-type-req
            try sp()
            if peek == 0x22 {
                _ = try quoted()
                try sp()
                _ = try atom("an entry type")
                try sp()
            }
            return .modseq(try number64())
        default:
            throw fail("unknown search key \(name.prefix(40))")
        }
    }
}
