/// A ManageSieve command (RFC 5804 §2), parsed from the words of one command.
///
///     C: PUTSCRIPT "rules" {31+}
///     C: require "fileinto"; keep;
///     S: OK
public enum ManageSieveCommand: Hashable, Sendable {
    /// `AUTHENTICATE "PLAIN" ["initial response"]` (§2.1)
    case authenticate(mechanism: String, initial: String?)
    case startTLS
    case logout
    case capability
    /// `NOOP ["tag"]` (§2.15): the tag comes back as `OK (TAG "…")`.
    case noop(tag: String?)
    /// `HAVESPACE "name" size` (§2.5)
    case haveSpace(name: String, size: Int)
    case putScript(name: String, script: String)
    case checkScript(String)
    case listScripts
    /// `SETACTIVE ""` deactivates every script (§2.8).
    case setActive(String)
    case getScript(String)
    case deleteScript(String)
    case renameScript(old: String, new: String)
    case unauthenticate

    /// command = name *(SP argument) CRLF; names are case-insensitive atoms (§4).
    public init(words: [ManageSieveWord]) throws(ManageSieveParseError) {
        guard case .atom(let atom)? = words.first else { throw .init("Expected a command name") }
        let args = Array(words.dropFirst())
        func strings(_ n: ClosedRange<Int>) throws(ManageSieveParseError) -> [String] {
            guard n.contains(args.count) else {
                throw .init(
                    "\(atom.uppercased()) takes \(n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound) to \(n.upperBound)") string argument(s)"
                )
            }
            var out: [String] = []
            for a in args {
                guard case .string(let s) = a else {
                    throw .init("\(atom.uppercased()) takes strings, quoted or as literals")
                }
                out.append(s)
            }
            return out
        }
        switch atom.uppercased() {
        case "AUTHENTICATE":
            let s = try strings(1...2)
            self = .authenticate(mechanism: s[0].uppercased(), initial: s.count == 2 ? s[1] : nil)
        case "STARTTLS": _ = try strings(0...0); self = .startTLS
        case "LOGOUT": _ = try strings(0...0); self = .logout
        case "CAPABILITY": _ = try strings(0...0); self = .capability
        case "NOOP": self = .noop(tag: try strings(0...1).first)
        case "HAVESPACE":
            guard args.count == 2, case .string(let name) = args[0], case .number(let size) = args[1] else {
                throw .init("HAVESPACE takes a script name and a size: HAVESPACE \"rules\" 1024")
            }
            self = .haveSpace(name: name, size: size)
        case "PUTSCRIPT": let s = try strings(2...2); self = .putScript(name: s[0], script: s[1])
        case "CHECKSCRIPT": self = .checkScript(try strings(1...1)[0])
        case "LISTSCRIPTS": _ = try strings(0...0); self = .listScripts
        case "SETACTIVE": self = .setActive(try strings(1...1)[0])
        case "GETSCRIPT": self = .getScript(try strings(1...1)[0])
        case "DELETESCRIPT": self = .deleteScript(try strings(1...1)[0])
        case "RENAMESCRIPT": let s = try strings(2...2); self = .renameScript(old: s[0], new: s[1])
        case "UNAUTHENTICATE": _ = try strings(0...0); self = .unauthenticate
        default: throw .init("Unknown command \(atom.prefix(40))")
        }
    }

    /// The command as a client sends it (strings as literals), for round-trip tests.
    public var words: [ManageSieveWord] {
        switch self {
        case .authenticate(let m, let i): [.atom("AUTHENTICATE"), .string(m)] + (i.map { [.string($0)] } ?? [])
        case .startTLS: [.atom("STARTTLS")]
        case .logout: [.atom("LOGOUT")]
        case .capability: [.atom("CAPABILITY")]
        case .noop(let t): [.atom("NOOP")] + (t.map { [.string($0)] } ?? [])
        case .haveSpace(let n, let s): [.atom("HAVESPACE"), .string(n), .number(s)]
        case .putScript(let n, let s): [.atom("PUTSCRIPT"), .string(n), .string(s)]
        case .checkScript(let s): [.atom("CHECKSCRIPT"), .string(s)]
        case .listScripts: [.atom("LISTSCRIPTS")]
        case .setActive(let n): [.atom("SETACTIVE"), .string(n)]
        case .getScript(let n): [.atom("GETSCRIPT"), .string(n)]
        case .deleteScript(let n): [.atom("DELETESCRIPT"), .string(n)]
        case .renameScript(let o, let n): [.atom("RENAMESCRIPT"), .string(o), .string(n)]
        case .unauthenticate: [.atom("UNAUTHENTICATE")]
        }
    }

    /// Encodes the command with non-synchronizing literals (`{n+}`, §4).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for (i, w) in words.enumerated() {
            if i > 0 { out.append(0x20) }
            switch w {
            case .atom(let a): out += a.utf8
            case .number(let n): out += String(n).utf8
            case .string(let s): out += "{\(s.utf8.count)+}\r\n".utf8; out += s.utf8
            }
        }
        return out + [0x0D, 0x0A]
    }
}

/// One word of a command line: an atom (command name), a number, or a string (quoted or literal).
public enum ManageSieveWord: Hashable, Sendable {
    case atom(String)
    case number(Int)
    case string(String)
}

/// A command the client got wrong: answered `NO "…"`, the connection stays open.
public struct ManageSieveParseError: Error, Hashable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Every limit on what a client may send (RFC 5804 leaves them to the server).
public struct ManageSieveLimits: Hashable, Sendable {
    /// A command line without its literals, in octets.
    public var maxLineLength = 8192
    /// A quoted string, in octets (§4: "quoted strings … SHOULD be limited to 1024 octets").
    public var maxQuotedLength = 1024
    /// One literal, in octets: a script can be no larger (Sieve's own 1 MiB limit).
    public var maxLiteralSize = 1 << 20
    /// Words in one command (the longest command has three).
    public var maxWords = 8
    /// Scripts per account.
    public var maxScripts = 64
    /// Commands refused before the connection is closed.
    public var maxErrors = 20
    public var loginTimeoutSeconds = 60
    public var idleTimeoutSeconds = 30 * 60

    public init() {}
}
