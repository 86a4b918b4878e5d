extension SieveValidator {
    // MARK: Tests (RFC 5228 §5 and extensions)

    func tests(_ t: SieveTest) throws(SieveError) -> [Test] {
        guard case .list(let list)? = t.tests else {
            throw error(t.location, "\(t.identifier) takes a test list in parentheses: \(t.identifier) (test, test, …)")
        }
        guard t.arguments.isEmpty else { throw error(t.arguments[0].location, "\(t.identifier) takes no arguments") }
        var out: [Test] = []
        for x in list { out.append(try test(x)) }
        return out
    }

    func test(_ t: SieveTest) throws(SieveError) -> Test {
        let name = t.identifier.lowercased()
        switch name {
        case "anyof": return Test(kind: .anyof(try tests(t)), location: t.location)
        case "allof": return Test(kind: .allof(try tests(t)), location: t.location)
        case "not":
            guard case .single(let inner)? = t.tests, t.arguments.isEmpty else {
                throw error(t.location, "not takes one test: not exists \"x\"")
            }
            return Test(kind: .not(try test(inner)), location: t.location)
        default: break
        }
        if t.tests != nil { throw error(t.location, "test \"\(t.identifier)\" takes no test") }
        var a = ArgumentReader(t.arguments, owner: t.identifier, location: t.location, validator: self)
        var m = MatchReader()
        let kind: Test.Kind
        switch name {
        case "true", "false":
            try a.end()
            kind = .constant(name == "true")
        case "exists":
            let headers = try a.stringList("the header names")
            try a.end()
            kind = .exists(headers: headers)
        case "size":
            var over: Bool?
            try a.tags { tag, a throws(SieveError) in
                guard tag == "over" || tag == "under" else { return false }
                guard over == nil else { throw self.error(a.lastLocation, "size takes one of :over and :under") }
                over = tag == "over"
                return true
            }
            guard let over else { throw error(t.location, "size needs :over or :under: size :over 100K") }
            let limit = try a.number("the size")
            try a.end()
            kind = .size(over: over, limit: limit)
        case "header":
            try a.tags { tag, a throws(SieveError) in try m.read(tag, &a, self, index: true) }
            let headers = try a.stringList("the header names")
            let keys = try a.stringList("the key list")
            try a.end()
            kind = .header(try m.match(a), headers: headers, keys: keys, index: try m.index(a))
        case "address":
            try a.tags { tag, a throws(SieveError) in try m.read(tag, &a, self, index: true, addressPart: true) }
            let headersAt = a.nextLocation
            let headers = try a.stringList("the header names")
            let keys = try a.stringList("the key list")
            try a.end()
            // RFC 5228 §5.1: the address test is restricted to fields that hold addresses.
            for h in headers where !h.contains("${") && !Self.addressFields.contains(h.lowercased()) {
                throw error(
                    headersAt,
                    "the address test reads address fields (From, To, Cc, …), not \"\(h)\"; use header for other fields"
                )
            }
            kind = .address(m.part ?? .all, try m.match(a), headers: headers, keys: keys, index: try m.index(a))
        case "envelope":
            try need(.envelope, "envelope", t.location)
            try a.tags { tag, a throws(SieveError) in try m.read(tag, &a, self, addressPart: true) }
            let partsAt = a.nextLocation
            let parts = try a.stringList("the envelope parts")
            let keys = try a.stringList("the key list")
            try a.end()
            for p in parts where !p.contains("${") && !["from", "to", "auth"].contains(p.lowercased()) {
                throw error(partsAt, "\"\(p)\" is not an envelope part (from, to or auth)")
            }
            kind = .envelope(m.part ?? .all, try m.match(a), parts: parts.map { $0.lowercased() }, keys: keys)
        case "body":
            try need(.body, "body", t.location)
            var transform: BodyTransform?
            try a.tags { tag, a throws(SieveError) in
                let at = a.lastLocation
                let t: BodyTransform
                switch tag {
                case "raw": t = .raw
                case "text": t = .text
                case "content": t = .content(try a.stringList("the content types"))
                default: return try m.read(tag, &a, self)
                }
                guard transform == nil else { throw self.error(at, "body takes one of :raw, :text and :content") }
                transform = t
                return true
            }
            let keys = try a.stringList("the key list")
            try a.end()
            kind = .body(transform ?? .text, try m.match(a), keys: keys)
        case "string":
            try need(.variables, "string", t.location)
            try a.tags { tag, a throws(SieveError) in try m.read(tag, &a, self) }
            let sources = try a.stringList("the source strings")
            let keys = try a.stringList("the key list")
            try a.end()
            kind = .string(try m.match(a), sources: sources, keys: keys)
        case "hasflag":
            try need(.imap4flags, "hasflag", t.location)
            try a.tags { tag, a throws(SieveError) in try m.read(tag, &a, self) }
            let first = try a.stringList("the flags")
            var variables: [String]?
            var keys = first
            if a.hasMore {
                try need(.variables, "hasflag with variable names", t.location)
                variables = first.map { $0.lowercased() }
                keys = try a.stringList("the flags")
            }
            try a.end()
            kind = .hasflag(try m.match(a), variables: variables, keys: keys)
        case "date", "currentdate":
            try need(.date, name, t.location)
            var zone: DateZone?
            try a.tags { tag, a throws(SieveError) in
                let at = a.lastLocation
                switch tag {
                case "zone":
                    let z = try a.string("the zone")
                    guard let minutes = Self.zoneMinutes(z) else {
                        throw self.error(at, "\"\(z)\" is not a zone like +0100 or -0530")
                    }
                    guard zone == nil else { throw self.error(at, ":zone and :originalzone cannot be used together") }
                    zone = .fixed(minutes)
                case "originalzone" where name == "date":
                    guard zone == nil else { throw self.error(at, ":zone and :originalzone cannot be used together") }
                    zone = .original
                default: return try m.read(tag, &a, self, index: name == "date")
                }
                return true
            }
            let header = name == "date" ? try a.string("the header name") : ""
            let partAt = a.nextLocation
            let part = try a.string("the date part").lowercased()
            let keys = try a.stringList("the key list")
            try a.end()
            guard SieveDate.parts.contains(part) else {
                throw error(partAt, "\"\(part)\" is not a date part (\(SieveDate.parts.joined(separator: ", ")))")
            }
            if name == "date" {
                kind = .date(
                    try m.match(a), zone: zone ?? .local, header: header, part: part, keys: keys, index: try m.index(a))
            } else {
                kind = .currentdate(try m.match(a), zone: zone ?? .local, part: part, keys: keys)
            }
        case "mailboxexists":
            try need(.mailbox, "mailboxexists", t.location)
            let names = try a.stringList("the mailbox names")
            try a.end()
            kind = .mailboxexists(names)
        case "duplicate":
            try need(.duplicate, "duplicate", t.location)
            var spec = DuplicateSpec(handle: "", last: false)
            try a.tags { tag, a throws(SieveError) in
                let at = a.lastLocation
                switch tag {
                case "handle": spec.handle = try a.string("the handle")
                case "header", "uniqueid":
                    guard spec.header == nil, spec.uniqueID == nil else {
                        throw self.error(at, ":header and :uniqueid cannot be used together")
                    }
                    if tag == "header" {
                        spec.header = try a.string("the header name")
                    } else {
                        spec.uniqueID = try a.string("the unique id")
                    }
                case "seconds": spec.seconds = try a.number("the number of seconds")
                case "last": spec.last = true
                default: return false
                }
                return true
            }
            try a.end()
            kind = .duplicate(spec)
        default:
            throw error(
                t.location,
                "unknown test \"\(t.identifier)\"; is it misspelt, or an extension Mailroom does not support?")
        }
        return Test(kind: kind, location: t.location)
    }

    /// The fields whose values are address lists (RFC 5322 §3.6, RFC 3798, and the common
    /// delivery fields).
    static let addressFields: Set<String> = [
        "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-to", "resent-cc",
        "resent-bcc",
        "resent-reply-to", "return-path", "delivered-to", "envelope-to", "x-original-to", "original-recipient",
        "errors-to",
        "disposition-notification-to",
    ]
}
