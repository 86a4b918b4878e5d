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
