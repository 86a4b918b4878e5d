import MailCore

/// The RFC 5228 §8 grammar: text → `SieveScript`. Purely syntactic: which commands exist and
/// what arguments they take is `SieveValidator`'s business.
///
/// Lines may end in CRLF or a bare LF (scripts uploaded from Unix tools do). The parser never
/// recurses deeper than `limits.maxNesting` and reads each octet a bounded number of times.
public struct SieveParser {
    let bytes: [UInt8]
    let limits: SieveLimits
    var pos = 0
    var line = 1
    var lineStart = 0
    var depth = 0

    public static func parse(_ text: String, limits: SieveLimits = SieveLimits()) throws(SieveError) -> SieveScript {
        try parse(Array(text.utf8), limits: limits)
    }

    public static func parse(_ bytes: [UInt8], limits: SieveLimits = SieveLimits()) throws(SieveError) -> SieveScript {
        guard bytes.count <= limits.maxScriptSize else {
            throw SieveError(
                .limit, SieveLocation(line: 1, column: 1),
                "the script is \(bytes.count) octets; the limit is \(limits.maxScriptSize)")
        }
        var parser = SieveParser(bytes: bytes, limits: limits)
        // start = commands
        let commands = try parser.commands(topLevel: true)
        return SieveScript(commands: commands)
    }

    var location: SieveLocation { SieveLocation(line: line, column: pos - lineStart + 1) }

    func error(_ message: String, at location: SieveLocation? = nil) -> SieveError {
        SieveError(.syntax, location ?? self.location, message)
    }

    // MARK: Commands

    // commands = *command
    mutating func commands(topLevel: Bool) throws(SieveError) -> [SieveCommand] {
        var out: [SieveCommand] = []
        while true {
            try skipWhitespace()
            guard pos < bytes.count else {
                if topLevel { return out }
                throw error("the block is not closed: a \"}\" is missing at the end of the script")
            }
            if bytes[pos] == UInt8(ascii: "}") {
                if topLevel { throw error("\"}\" without a block to close") }
                return out
            }
            out.append(try command())
        }
    }

    // command = identifier arguments (";" / block)
    // block   = "{" commands "}"
    mutating func command() throws(SieveError) -> SieveCommand {
        let start = location
        guard let name = identifier() else {
            throw error("expected a command (an identifier such as keep or if), found \(describeHere())")
        }
        if name.lowercased() == "text", pos < bytes.count, bytes[pos] == UInt8(ascii: ":") {
            throw error("a multi-line string (text:) cannot start a command", at: start)
        }
        let (arguments, tests) = try self.arguments()
        try skipWhitespace()
        guard pos < bytes.count else {
            throw error("command \"\(name)\" is not ended: expected \";\" or \"{\" at the end of the script")
        }
        switch bytes[pos] {
        case UInt8(ascii: ";"):
            pos += 1
            return SieveCommand(identifier: name, arguments: arguments, tests: tests, block: nil, location: start)
        case UInt8(ascii: "{"):
            let open = location
            pos += 1
            try enter(open)
            let block = try commands(topLevel: false)
            depth -= 1
            pos += 1  // "}"
            return SieveCommand(identifier: name, arguments: arguments, tests: tests, block: block, location: start)
        default:
            throw error("command \"\(name)\" is not ended: expected \";\" or \"{\", found \(describeHere())")
        }
    }

    mutating func enter(_ at: SieveLocation) throws(SieveError) {
        depth += 1
        guard depth <= limits.maxNesting else {
            throw SieveError(.limit, at, "blocks and tests are nested more than \(limits.maxNesting) deep")
        }
    }

    // arguments = *argument [ test / test-list ]
    mutating func arguments() throws(SieveError) -> ([SieveArgument], SieveTests?) {
        var arguments: [SieveArgument] = []
        while true {
            try skipWhitespace()
            guard pos < bytes.count else { return (arguments, nil) }
            let here = location
            let b = bytes[pos]
            if b == UInt8(ascii: ":") {
                pos += 1
                guard let tag = identifier() else { throw error("a tag needs a name after \":\"", at: here) }
                arguments.append(SieveArgument(.tag(tag), location: here))
            } else if isDigit(b) {
                arguments.append(SieveArgument(.number(try number()), location: here))
            } else if b == UInt8(ascii: "\"") || isMultiLineStart() {
                arguments.append(SieveArgument(.string(try string()), location: here))
            } else if b == UInt8(ascii: "[") {
                arguments.append(SieveArgument(.stringList(try stringList()), location: here))
            } else if b == UInt8(ascii: "(") {
                return (arguments, .list(try testList()))
            } else if isIdentifierStart(b) {
                return (arguments, .single(try test()))
            } else {
                return (arguments, nil)
            }
        }
    }

    // test = identifier arguments
    mutating func test() throws(SieveError) -> SieveTest {
        let start = location
        guard let name = identifier() else { throw error("expected a test, found \(describeHere())") }
        try enter(start)
        defer { depth -= 1 }
        let (arguments, tests) = try self.arguments()
        return SieveTest(identifier: name, arguments: arguments, tests: tests, location: start)
    }

    // test-list = "(" test *("," test) ")"
    mutating func testList() throws(SieveError) -> [SieveTest] {
        let open = location
        pos += 1
        try enter(open)
        defer { depth -= 1 }
        var tests: [SieveTest] = []
        while true {
            try skipWhitespace()
            tests.append(try test())
            try skipWhitespace()
            guard pos < bytes.count else { throw error("the test list opened at \(open) is not closed with \")\"") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
            } else if bytes[pos] == UInt8(ascii: ")") {
                pos += 1
                return tests
            } else {
                throw error("expected \",\" or \")\" in the test list, found \(describeHere())")
            }
        }
    }

    // string-list = "[" string *("," string) "]"
    mutating func stringList() throws(SieveError) -> [String] {
        let open = location
        pos += 1
        var strings: [String] = []
        while true {
            try skipWhitespace()
            guard pos < bytes.count else { throw error("the string list opened at \(open) is not closed with \"]\"") }
            guard bytes[pos] == UInt8(ascii: "\"") || isMultiLineStart() else {
                throw error("expected a string in the string list, found \(describeHere())")
            }
            strings.append(try string())
            guard strings.count <= limits.maxListLength else {
                throw SieveError(.limit, open, "the string list has more than \(limits.maxListLength) entries")
            }
            try skipWhitespace()
            guard pos < bytes.count else { throw error("the string list opened at \(open) is not closed with \"]\"") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
            } else if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return strings
            } else {
                throw error("expected \",\" or \"]\" in the string list, found \(describeHere())")
            }
        }
    }

    // MARK: Tokens

    // identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_")
    mutating func identifier() -> String? {
        guard pos < bytes.count, isIdentifierStart(bytes[pos]) else { return nil }
        let start = pos
        while pos < bytes.count, isIdentifierStart(bytes[pos]) || isDigit(bytes[pos]) { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    // number = 1*DIGIT [ QUANTIFIER ] ; QUANTIFIER = "K" / "M" / "G"
    mutating func number() throws(SieveError) -> Int64 {
        let start = location
        var value: Int64 = 0
        while pos < bytes.count, isDigit(bytes[pos]) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(bytes[pos] - UInt8(ascii: "0")))
            guard !o1, !o2, sum <= Self.maxNumber else {
                throw error("the number is too large (at most \(Self.maxNumber))", at: start)
            }
            value = sum
            pos += 1
        }
        if pos < bytes.count {
            let shift: Int64? =
                switch bytes[pos].asciiLowercased {
                case UInt8(ascii: "k"): 10
                case UInt8(ascii: "m"): 20
                case UInt8(ascii: "g"): 30
                default: nil
                }
            if let shift {
                pos += 1
                guard value <= Self.maxNumber >> shift else {
                    throw error("the number is too large (at most \(Self.maxNumber))", at: start)
                }
                value <<= shift
            }
        }
        if pos < bytes.count, isIdentifierStart(bytes[pos]) {
            throw error("a number may only be followed by K, M or G, found \(describeHere())")
        }
        return value
    }

    /// Sieve numbers are unsigned 63-bit here: room for sizes in G without overflow in Int64.
    public static let maxNumber: Int64 = Int64.max

    // string = quoted-string / multi-line
    mutating func string() throws(SieveError) -> String {
        let start = location
        let value = bytes[pos] == UInt8(ascii: "\"") ? try quotedString() : try multiLine()
        guard value.utf8.count <= limits.maxStringLength else {
            throw SieveError(.limit, start, "the string is longer than \(limits.maxStringLength) octets")
        }
        return value
    }

    // quoted-string = DQUOTE quoted-text DQUOTE
    // quoted-text   = *(quoted-safe / quoted-special / quoted-other)
    // quoted-other  = "\" octet-not-qspecial   ; the backslash is dropped (RFC 5228 §2.4.2)
    mutating func quotedString() throws(SieveError) -> String {
        let start = location
        pos += 1
        var out: [UInt8] = []
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") {
                pos += 1
                guard pos < bytes.count else { break }
            }
            if bytes[pos] == 10 { newLine(at: pos) }
            out.append(bytes[pos])
            pos += 1
            if out.count > limits.maxStringLength {
                throw SieveError(.limit, start, "the string is longer than \(limits.maxStringLength) octets")
            }
        }
        throw error("the string that starts here is not terminated: a closing \" is missing", at: start)
    }

    func isMultiLineStart() -> Bool {
        bytes[pos...].hasASCIIPrefix(lowercased: "text:") && (pos == 0 || !isIdentifierStart(bytes[pos - 1]))
    }

    // multi-line = "text:" *(SP / HTAB) (hash-comment / CRLF)
    //              *(multiline-literal / multiline-dotstart) "." CRLF
    // multiline-dotstart = "." 1*octet-not-crlf CRLF   ; the leading dot is removed
    mutating func multiLine() throws(SieveError) -> String {
        let start = location
        pos += 5
        while pos < bytes.count, bytes[pos] == 32 || bytes[pos] == 9 { pos += 1 }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "#") {
            while pos < bytes.count, bytes[pos] != 10 { pos += 1 }
        } else if pos < bytes.count, bytes[pos] == 13 {
            pos += 1
        }
        guard pos < bytes.count, bytes[pos] == 10 else {
            throw error("after text: only a comment may follow on the same line", at: start)
        }
        pos += 1
        newLine(at: pos - 1)
        var out: [UInt8] = []
        while pos < bytes.count {
            let end = bytes[pos...].firstIndex(of: 10) ?? bytes.count
            var content = bytes[pos..<end]
            if content.last == 13 { content = content.dropLast() }
            if content.elementsEqual([UInt8(ascii: ".")]) {
                pos = min(end + 1, bytes.count)
                if end < bytes.count { newLine(at: end) }
                return String(decoding: out, as: UTF8.self)
            }
            guard end < bytes.count else { break }
            let line = content.first == UInt8(ascii: ".") ? bytes[(pos + 1)...end] : bytes[pos...end]
            out += line
            if out.count > limits.maxStringLength {
                throw SieveError(.limit, start, "the string is longer than \(limits.maxStringLength) octets")
            }
            pos = end + 1
            newLine(at: end)
        }
        throw error(
            "the multi-line string that starts here is not terminated: a line with a single \".\" is missing", at: start
        )
    }

    mutating func newLine(at lf: Int) {
        line += 1
        lineStart = lf + 1
    }

    // white-space = 1*(SP / CRLF / HTAB) / comment
    // comment     = bracket-comment / hash-comment
    mutating func skipWhitespace() throws(SieveError) {
        while pos < bytes.count {
            switch bytes[pos] {
            case 32, 9, 13:
                pos += 1
            case 10:
                newLine(at: pos)
                pos += 1
            case UInt8(ascii: "#"):
                while pos < bytes.count, bytes[pos] != 10 { pos += 1 }
            case UInt8(ascii: "/") where pos + 1 < bytes.count && bytes[pos + 1] == UInt8(ascii: "*"):
                let start = location
                pos += 2
                while true {
                    guard pos + 1 < bytes.count else {
                        throw error("the comment that starts here is not closed with */", at: start)
                    }
                    if bytes[pos] == UInt8(ascii: "*"), bytes[pos + 1] == UInt8(ascii: "/") {
                        pos += 2
                        break
                    }
                    if bytes[pos] == 10 { newLine(at: pos) }
                    pos += 1
                }
            default:
                return
            }
        }
    }

    func describeHere() -> String {
        guard pos < bytes.count else { return "the end of the script" }
        let b = bytes[pos]
        if b == UInt8(ascii: "\"") { return "a string" }
        if b >= 0x21 && b < 0x7F { return "\"\(Character(Unicode.Scalar(b)))\"" }
        return "the octet 0x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
    }

    func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    func isIdentifierStart(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 || b == UInt8(ascii: "_") }
}
