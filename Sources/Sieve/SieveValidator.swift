/// Turns a parsed script into a `SieveProgram`: each command and test checked against its
/// signature (RFC 5228 §§3–5 and the extensions' documents) and against the script's
/// `require`s. Literal strings get their `${hex:…}`/`${unicode:…}` decoded here when
/// encoded-character is required (RFC 5228 §2.4.2.4).
struct SieveValidator {
    var extensions: Set<SieveExtension> = []
    let limits: SieveLimits

    static func validate(_ script: SieveScript, limits: SieveLimits) throws(SieveError) -> SieveProgram {
        var v = SieveValidator(limits: limits)
        var commands = script.commands[...]
        // RFC 5228 §3.2: require must come before any other command.
        while let c = commands.first, c.identifier.lowercased() == "require" {
            try v.require(c)
            commands = commands.dropFirst()
        }
        let program = try v.block(Array(commands))
        return SieveProgram(commands: program, extensions: v.extensions)
    }

    func error(_ at: SieveLocation, _ message: String) -> SieveError { SieveError(.validation, at, message) }

    mutating func require(_ c: SieveCommand) throws(SieveError) {
        guard c.block == nil, c.tests == nil, c.arguments.count == 1 else {
            throw error(c.location, "require takes one string or string list: require [\"fileinto\", \"copy\"];")
        }
        let names: [String]
        switch c.arguments[0].value {
        case .string(let s): names = [s]
        case .stringList(let l): names = l
        default:
            throw error(
                c.arguments[0].location, "require takes one string or string list: require [\"fileinto\", \"copy\"];")
        }
        for name in names {
            guard let e = SieveExtension(rawValue: name.lowercased()) else {
                throw error(
                    c.arguments[0].location,
                    "the extension \"\(name)\" is not supported (supported: \(SieveExtension.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            extensions.insert(e)
        }
        // Extensions that imply others (RFC 5230 §1 for vacation-seconds, RFC 5429 for ereject).
        if extensions.contains(.vacationSeconds) { extensions.insert(.vacation) }
    }

    func need(_ e: SieveExtension, _ what: String, _ at: SieveLocation) throws(SieveError) {
        guard extensions.contains(e) else {
            throw error(
                at,
                "\(what) needs the extension \"\(e.rawValue)\": add require \"\(e.rawValue)\"; at the top of the script"
            )
        }
    }

    func block(_ commands: [SieveCommand]) throws(SieveError) -> [Command] {
        var out: [Command] = []
        var i = 0
        while i < commands.count {
            let c = commands[i]
            let name = c.identifier.lowercased()
            if name == "if" {
                var branches = [Branch(test: try singleTest(c), block: try blockOf(c))]
                var otherwise: [Command]?
                while i + 1 < commands.count {
                    let next = commands[i + 1]
                    let nextName = next.identifier.lowercased()
                    if nextName == "elsif" {
                        branches.append(Branch(test: try singleTest(next), block: try blockOf(next)))
                        i += 1
                    } else if nextName == "else" {
                        guard next.arguments.isEmpty, next.tests == nil else {
                            throw error(next.location, "else takes no arguments or test")
                        }
                        otherwise = try blockOf(next)
                        i += 1
                        break
                    } else {
                        break
                    }
                }
                out.append(Command(kind: .if(branches: branches, otherwise: otherwise), location: c.location))
            } else if name == "elsif" || name == "else" {
                throw error(c.location, "\(name) must follow an if or elsif block")
            } else {
                guard c.block == nil else {
                    throw error(c.location, "command \"\(c.identifier)\" takes no block; end it with \";\"")
                }
                out.append(Command(kind: try simple(c, name), location: c.location))
            }
            i += 1
        }
        return out
    }

    func singleTest(_ c: SieveCommand) throws(SieveError) -> Test {
        guard c.arguments.isEmpty else {
            throw error(c.arguments[0].location, "\(c.identifier) takes a test, not arguments")
        }
        switch c.tests {
        case .single(let t)?: return try test(t)
        case .list?:
            throw error(
                c.location, "\(c.identifier) takes one test, not a test list in parentheses; use anyof(…) or allof(…)")
        case nil: throw error(c.location, "\(c.identifier) needs a test")
        }
    }

    func blockOf(_ c: SieveCommand) throws(SieveError) -> [Command] {
        guard let b = c.block else { throw error(c.location, "\(c.identifier) needs a block { … }") }
        return try block(b)
    }

    // MARK: Commands (RFC 5228 §4 and extensions)

    func simple(_ c: SieveCommand, _ name: String) throws(SieveError) -> Command.Kind {
        if c.tests != nil { throw error(c.location, "command \"\(c.identifier)\" takes no test") }
        var a = ArgumentReader(c.arguments, owner: "\(c.identifier)", location: c.location, validator: self)
        switch name {
        case "require":
            throw error(c.location, "require must come before any other command, at the top of the script")
        case "keep":
            var flags: [String]?
            try a.tags { tag, a throws(SieveError) in
                guard tag == "flags" else { return false }
                try self.need(.imap4flags, ":flags", a.lastLocation)
                flags = try a.stringList("the flags")
                return true
            }
            try a.end()
            return .keep(flags: flags)
        case "discard":
            try a.end()
            return .discard
        case "stop":
            try a.end()
            return .stop
        case "fileinto":
            try need(.fileinto, "fileinto", c.location)
            var copy = false, create = false
            var flags: [String]?
            try a.tags { tag, a throws(SieveError) in
                switch tag {
                case "copy":
                    try self.need(.copy, ":copy", a.lastLocation)
                    copy = true
                case "create":
                    try self.need(.mailbox, ":create", a.lastLocation)
                    create = true
                case "flags":
                    try self.need(.imap4flags, ":flags", a.lastLocation)
                    flags = try a.stringList("the flags")
                default: return false
                }
                return true
            }
            let mailbox = try a.string("the mailbox name")
            try a.end()
            return .fileinto(mailbox: mailbox, copy: copy, flags: flags, create: create)
        case "redirect":
            var copy = false
            try a.tags { tag, a throws(SieveError) in
                guard tag == "copy" else { return false }
                try self.need(.copy, ":copy", a.lastLocation)
                copy = true
                return true
            }
            let address = try a.string("the address to redirect to")
            try a.end()
            if !address.contains("${") {
                guard Self.isRedirectAddress(address) else {
                    throw error(
                        c.arguments.last!.location,
                        "redirect needs an address like user@example.org, not \"\(address)\"")
                }
            }
            return .redirect(address: address, copy: copy)
        case "reject", "ereject":
            try need(name == "reject" ? .reject : .ereject, name, c.location)
            let reason = try a.string("the reason")
            try a.end()
            return .reject(reason: reason, extended: name == "ereject")
        case "set":
            try need(.variables, "set", c.location)
            var modifiers: [SetModifier] = []
            try a.tags { tag, a throws(SieveError) in
                guard let m = SetModifier(rawValue: tag) else { return false }
                if let clash = modifiers.first(where: { $0.precedence == m.precedence }) {
                    throw self.error(a.lastLocation, ":\(m.rawValue) and :\(clash.rawValue) cannot be used together")
                }
                modifiers.append(m)
                return true
            }
            let nameAt = a.nextLocation
            let variable = try a.string("the variable name")
            let value = try a.string("the value")
            try a.end()
            guard Variables.isValidName(variable, settable: true) else {
                throw error(
                    nameAt,
                    "\"\(variable)\" is not a variable name one can set (letters, digits and _; not starting with a digit)"
                )
            }
            return .set(
                name: variable.lowercased(), value: value, modifiers: modifiers.sorted { $0.precedence > $1.precedence }
            )
        case "setflag", "addflag", "removeflag":
            try need(.imap4flags, name, c.location)
            let first = try a.stringList("the flags")
            var variable: String?
            var flags = first
            if a.hasMore {
                try need(.variables, "\(name) with a variable name", c.location)
                guard first.count == 1, Variables.isValidName(first[0], settable: true) else {
                    throw error(c.arguments[0].location, "\"\(first.joined(separator: " "))\" is not a variable name")
                }
                variable = first[0].lowercased()
                flags = try a.stringList("the flags")
            }
            try a.end()
            return .flags(FlagOperation(rawValue: name)!, variable: variable, flags: flags)
        case "vacation":
            try need(.vacation, "vacation", c.location)
            var spec = VacationSpec(addresses: [], mime: false, reason: "")
            try a.tags { tag, a throws(SieveError) in
                switch tag {
                case "days":
                    guard spec.seconds == nil else {
                        throw self.error(a.lastLocation, ":days and :seconds cannot be used together")
                    }
                    spec.days = try a.number("the number of days")
                case "seconds":
                    try self.need(.vacationSeconds, ":seconds", a.lastLocation)
                    guard spec.days == nil else {
                        throw self.error(a.lastLocation, ":days and :seconds cannot be used together")
                    }
                    spec.seconds = try a.number("the number of seconds")
                case "subject": spec.subject = try a.string("the subject")
                case "from": spec.from = try a.string("the from address")
                case "addresses": spec.addresses = try a.stringList("the addresses")
                case "mime": spec.mime = true
                case "handle": spec.handle = try a.string("the handle")
                default: return false
                }
                return true
            }
            spec.reason = try a.string("the reason")
            try a.end()
            return .vacation(spec)
        case "addheader":
            try need(.editheader, "addheader", c.location)
            var last = false
            try a.tags { tag, _ in
                guard tag == "last" else { return false }
                last = true
                return true
            }
            let nameAt = a.nextLocation
            let field = try a.string("the header name")
            let value = try a.string("the value")
            try a.end()
            if !field.contains("${") && !Self.isFieldName(field) {
                throw error(nameAt, "\"\(field)\" is not a header field name")
            }
            return .addheader(name: field, value: value, last: last)
        case "deleteheader":
            try need(.editheader, "deleteheader", c.location)
            var m = MatchReader()
            try a.tags { tag, a throws(SieveError) in try m.read(tag, &a, self, index: true) }
            let nameAt = a.nextLocation
            let field = try a.string("the header name")
            let patterns = a.hasMore ? try a.stringList("the value patterns") : nil
            try a.end()
            if !field.contains("${") && !Self.isFieldName(field) {
                throw error(nameAt, "\"\(field)\" is not a header field name")
            }
            return .deleteheader(index: try m.index(a), match: try m.match(a), name: field, patterns: patterns)
        case "include":
            try need(.include, "include", c.location)
            var global: Bool?
            var once = false, optional = false
            try a.tags { tag, a throws(SieveError) in
                switch tag {
                case "personal", "global":
                    guard global == nil else {
                        throw self.error(a.lastLocation, ":personal and :global cannot be used together")
                    }
                    global = tag == "global"
                case "once": once = true
                case "optional": optional = true
                default: return false
                }
                return true
            }
            let nameAt = a.nextLocation
            let script = try a.string("the script name")
            try a.end()
            guard !script.isEmpty, !script.contains("/"), !script.contains("${") else {
                throw error(nameAt, "\"\(script)\" is not a script name (no \"/\", no variables)")
            }
            return .include(name: script, global: global ?? false, once: once, optional: optional)
        case "return":
            try need(.include, "return", c.location)
            try a.end()
            return .return
        case "global":
            try need(.include, "global", c.location)
            try need(.variables, "global", c.location)
            let names = try a.stringList("the variable names")
            try a.end()
            for n in names where !Variables.isValidName(n, settable: true) {
                throw error(c.arguments[0].location, "\"\(n)\" is not a variable name")
            }
            return .global(names: names.map { $0.lowercased() })
        default:
            throw error(
                c.location,
                "unknown command \"\(c.identifier)\"; is it misspelt, or an extension Mailroom does not support?")
        }
    }

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
            let headers = try a.stringList("the header names")
            let keys = try a.stringList("the key list")
            try a.end()
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

    // MARK: Helpers

    /// A header field name (RFC 5322 §3.6.8: printable ASCII but ":").
    static func isFieldName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }
    }

    /// An RFC 5321 mailbox, loosely: a local part, "@", a domain; no spaces or angle brackets.
    static func isRedirectAddress(_ s: String) -> Bool {
        guard let at = s.lastIndex(of: "@"), at != s.startIndex, s.index(after: at) != s.endIndex else { return false }
        return !s.contains { $0 == " " || $0 == "<" || $0 == ">" || $0 == "\r" || $0 == "\n" || $0 == "," }
    }

    /// "+0100" → 60; "-0530" → -330 (RFC 5260 §4.1: time-zone = ( "+" / "-" ) 4DIGIT).
    static func zoneMinutes(_ s: String) -> Int? {
        let u = Array(s.utf8)
        guard u.count == 5, u[0] == UInt8(ascii: "+") || u[0] == UInt8(ascii: "-"),
            u[1...].allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return nil }
        let h = Int(u[1] - 48) * 10 + Int(u[2] - 48), m = Int(u[3] - 48) * 10 + Int(u[4] - 48)
        guard m < 60 else { return nil }
        return (u[0] == UInt8(ascii: "-") ? -1 : 1) * (h * 60 + m)
    }
}

/// The comparator, match type, address part and index tags that many tests share.
struct MatchReader {
    var comparator: Comparator?
    var comparatorAt: SieveLocation?
    var kind: Match.Kind?
    var kindAt: SieveLocation?
    var part: AddressPart?
    var position: Int?
    var last = false
    var lastAt: SieveLocation?

    mutating func read(
        _ tag: String, _ a: inout ArgumentReader, _ v: SieveValidator, index: Bool = false, addressPart: Bool = false
    ) throws(SieveError) -> Bool {
        let at = a.lastLocation
        switch tag {
        case "comparator":
            guard comparator == nil else { throw v.error(at, "only one :comparator may be given") }
            let name = try a.string("the comparator name")
            guard let c = Comparator(rawValue: name.lowercased()) else {
                throw v.error(
                    at, "the comparator \"\(name)\" is not supported (i;octet, i;ascii-casemap, i;ascii-numeric)")
            }
            if c == .asciiNumeric { try v.need(.comparatorNumeric, "the comparator i;ascii-numeric", at) }
            comparator = c
            comparatorAt = at
        case "is", "contains", "matches", "value", "count":
            guard kind == nil else {
                throw v.error(at, "only one match type (:is, :contains, :matches, :value, :count) may be given")
            }
            switch tag {
            case "is": kind = .is
            case "contains": kind = .contains
            case "matches": kind = .matches
            default:
                try v.need(.relational, ":\(tag)", at)
                let relationAt = a.nextLocation
                let r = try a.string("the relational operator")
                guard let relation = Relation(rawValue: r.lowercased()) else {
                    throw v.error(relationAt, "\"\(r)\" is not a relational operator (gt, ge, lt, le, eq, ne)")
                }
                kind = tag == "value" ? .value(relation) : .count(relation)
            }
            kindAt = at
        case "all", "localpart", "domain", "user", "detail":
            guard addressPart else { return false }
            guard part == nil else {
                throw v.error(at, "only one address part (:all, :localpart, :domain, :user, :detail) may be given")
            }
            if tag == "user" || tag == "detail" { try v.need(.subaddress, ":\(tag)", at) }
            part = AddressPart(rawValue: tag)
        case "index" where index:
            try v.need(.index, ":index", at)
            guard position == nil else { throw v.error(at, "only one :index may be given") }
            let n = try a.number("the index")
            guard n >= 1, n <= Int64(Int32.max) else { throw v.error(at, ":index counts from 1") }
            position = Int(n)
        case "last" where index:
            try v.need(.index, ":last", at)
            last = true
            lastAt = at
        default:
            return false
        }
        return true
    }

    func match(_ a: ArgumentReader) throws(SieveError) -> Match {
        let m = Match(kind: kind ?? .is, comparator: comparator ?? .asciiCasemap)
        if !m.comparator.hasSubstring, m.kind == .contains || m.kind == .matches {
            throw SieveError(
                .validation, kindAt ?? a.location,
                "the comparator i;ascii-numeric cannot be used with :contains or :matches")
        }
        return m
    }

    func index(_ a: ArgumentReader) throws(SieveError) -> HeaderIndex? {
        if last && position == nil {
            throw SieveError(.validation, lastAt ?? a.location, ":last needs :index: :index 1 :last")
        }
        return position.map { HeaderIndex(position: $0, last: last) }
    }
}

/// Reads a command's or test's arguments in order: tagged arguments first, then positional
/// ones (RFC 5228 §2.6.2).
struct ArgumentReader {
    let items: [SieveArgument]
    let owner: String
    let location: SieveLocation
    let validator: SieveValidator
    var next = 0

    init(_ items: [SieveArgument], owner: String, location: SieveLocation, validator: SieveValidator) {
        self.items = items
        self.owner = owner
        self.location = location
        self.validator = validator
    }

    var hasMore: Bool { next < items.count }
    var lastLocation: SieveLocation { next > 0 ? items[next - 1].location : location }
    var nextLocation: SieveLocation { next < items.count ? items[next].location : location }

    /// Offers each leading tag to `handle`, which reads the tag's own arguments and returns
    /// false for a tag it does not know.
    mutating func tags(_ handle: (String, inout ArgumentReader) throws(SieveError) -> Bool) throws(SieveError) {
        var seen: Set<String> = []
        while next < items.count, case .tag(let written) = items[next].value {
            let tag = written.lowercased()
            next += 1
            guard try handle(tag, &self) else {
                throw SieveError(.validation, lastLocation, "\(owner) has no tag :\(written)")
            }
            guard seen.insert(tag).inserted else {
                throw SieveError(.validation, lastLocation, "\(owner): the tag :\(written) is given twice")
            }
        }
    }

    func found() -> String {
        guard next < items.count else { return "nothing" }
        switch items[next].value {
        case .tag(let t): return "the tag :\(t)"
        case .number(let n): return "the number \(n)"
        case .string: return "a string"
        case .stringList: return "a string list"
        }
    }

    mutating func string(_ what: String) throws(SieveError) -> String {
        if next < items.count {
            switch items[next].value {
            case .string(let s):
                next += 1
                return validator.decode(s)
            case .stringList(let l) where l.count == 1:
                next += 1
                return validator.decode(l[0])
            default: break
            }
        }
        throw SieveError(.validation, nextLocation, "\(owner) expects a string (\(what)) here, found \(found())")
    }

    mutating func stringList(_ what: String) throws(SieveError) -> [String] {
        if next < items.count {
            switch items[next].value {
            case .string(let s):
                next += 1
                return [validator.decode(s)]
            case .stringList(let l):
                next += 1
                return l.map(validator.decode)
            default: break
            }
        }
        throw SieveError(.validation, nextLocation, "\(owner) expects a string list (\(what)) here, found \(found())")
    }

    mutating func number(_ what: String) throws(SieveError) -> Int64 {
        if next < items.count, case .number(let n) = items[next].value {
            next += 1
            return n
        }
        throw SieveError(.validation, nextLocation, "\(owner) expects a number (\(what)) here, found \(found())")
    }

    func end() throws(SieveError) {
        guard next < items.count else { return }
        throw SieveError(
            .validation, items[next].location, "\(owner) has too many arguments: \(found()) is not expected here")
    }
}

extension SieveValidator {
    /// RFC 5228 §2.4.2.4: `${hex: 41 42}` and `${unicode: 263A}` become the characters they
    /// name, when encoded-character is required; a malformed sequence stays as written.
    func decode(_ s: String) -> String {
        guard extensions.contains(.encodedCharacter), s.contains("${") else { return s }
        return EncodedCharacter.decode(s)
    }
}

enum EncodedCharacter {
    static func decode(_ s: String) -> String {
        let u = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < u.count {
            if u[i] == "$", i + 1 < u.count, u[i + 1] == "{", let (decoded, end) = sequence(u, i + 2) {
                out.append(contentsOf: decoded)
                i = end
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(out)
    }

    // encoded-arb-octets   = "${hex:" hex-pair-seq "}"
    // encoded-unicode-char = "${unicode:" unicode-hex-seq "}"
    static func sequence(_ u: [Unicode.Scalar], _ start: Int) -> ([Unicode.Scalar], Int)? {
        var i = start
        var name = ""
        while i < u.count, u[i] != ":", name.count < 8 {
            name.unicodeScalars.append(u[i])
            i += 1
        }
        guard i < u.count, u[i] == ":" else { return nil }
        let hex = name.lowercased() == "hex"
        guard hex || name.lowercased() == "unicode" else { return nil }
        i += 1
        var values: [UInt32] = []
        while true {
            while i < u.count, u[i] == " " || u[i] == "\t" || u[i] == "\r" || u[i] == "\n" { i += 1 }
            guard i < u.count else { return nil }
            if u[i] == "}" { break }
            var digits = ""
            while i < u.count, u[i].properties.isASCIIHexDigit {
                digits.unicodeScalars.append(u[i])
                i += 1
            }
            guard !digits.isEmpty, let v = UInt32(digits, radix: 16) else { return nil }
            if hex {
                guard digits.count <= 2 else { return nil }  // hex-pair = 1*2HEXDIG
            } else {
                guard digits.count <= 6 else { return nil }
            }
            values.append(v)
            guard i < u.count, u[i] == " " || u[i] == "\t" || u[i] == "}" || u[i] == "\r" || u[i] == "\n" else {
                return nil
            }
        }
        if hex {
            let bytes = values.map { UInt8($0) }
            return (Array(String(decoding: bytes, as: UTF8.self).unicodeScalars), i + 1)
        }
        var scalars: [Unicode.Scalar] = []
        for v in values {
            // RFC 5228 §2.4.2.4: a value that is not a Unicode scalar makes the script invalid;
            // we leave the sequence as written instead of failing the whole script.
            guard let s = Unicode.Scalar(v) else { return nil }
            scalars.append(s)
        }
        return (scalars, i + 1)
    }
}

extension SieveProgram {
    /// Parses and validates `text`.
    public init(_ text: String, limits: SieveLimits = SieveLimits()) throws(SieveError) {
        self = try SieveValidator.validate(try SieveParser.parse(text, limits: limits), limits: limits)
    }

    /// Validates a parsed script.
    public init(_ script: SieveScript, limits: SieveLimits = SieveLimits()) throws(SieveError) {
        self = try SieveValidator.validate(script, limits: limits)
    }
}
