import Foundation
import MIME

/// Runs a validated script over one message (RFC 5228 §2.10): commands in order, tests
/// against the message and envelope, actions collected, the implicit keep added at the end
/// unless an action cancelled it. Pure: the only outside calls are the context's closures.
///
///     let program = try SieveProgram(scriptText)
///     let result = try SieveInterpreter.run(program, message: bytes, context: context)
///     // on a thrown SieveError the caller keeps the message in INBOX
public struct SieveInterpreter {
    let context: SieveContext
    let limits: SieveLimits
    let message: ParsedMessage
    /// Top-level header fields as the script sees them, edits applied: names as written,
    /// values unfolded and raw.
    var headers: [(name: String, value: String)]
    var edits: [SieveHeaderEdit] = []
    var actions: [SieveAction] = []
    var implicitKeep = true
    var steps = 0
    /// What :matches may spend on backtracking in one run.
    var matchWork = 10_000_000
    var redirects = 0
    /// The imap4flags internal variable (RFC 5232 §3).
    var internalFlags: [String] = []
    var globals: [String: String] = [:]
    var included: Set<String> = []
    var includeCount = 0
    var frames: [Frame] = []

    /// One script's run: the main script or an included one (RFC 6609 §3.4).
    struct Frame {
        var program: SieveProgram
        var variables: Variables
        var globalNames: Set<String> = []
        /// "personal:NAME" or "global:NAME"; "" for the main script.
        var name: String
    }

    enum Flow { case next, stop, `return` }

    public static func run(
        _ program: SieveProgram, message: [UInt8], context: SieveContext, limits: SieveLimits = SieveLimits()
    ) throws(SieveError) -> SieveResult {
        var i = SieveInterpreter(context: context, limits: limits, message: ParsedMessage(parsing: message))
        i.frames = [Frame(program: program, variables: Variables(limits: limits), name: "")]
        _ = try i.execute(program.commands)
        // A fileinto :copy "INBOX" already stores the message where the implicit keep would.
        let inInbox = i.actions.contains {
            if case .fileinto(let m, _, _, _) = $0 { m.uppercased() == "INBOX" } else { false }
        }
        if inInbox { i.implicitKeep = false }
        if i.implicitKeep {
            try i.add(
                .keep(flags: program.extensions.contains(.imap4flags) ? i.internalFlags : []),
                at: SieveLocation(line: 0, column: 0))
        }
        return SieveResult(actions: i.actions, implicitKeep: i.implicitKeep, headerEdits: i.edits, steps: i.steps)
    }

    init(context: SieveContext, limits: SieveLimits, message: ParsedMessage) {
        self.context = context
        self.limits = limits
        self.message = message
        self.headers = message.headerFields
    }

    var frame: Frame {
        get { frames[frames.count - 1] }
        set { frames[frames.count - 1] = newValue }
    }

    var extensions: Set<SieveExtension> { frame.program.extensions }

    mutating func step(_ at: SieveLocation) throws(SieveError) {
        steps += 1
        guard steps <= limits.maxSteps else {
            throw SieveError(.limit, at, "the script took more than \(limits.maxSteps) steps and was stopped")
        }
    }

    // MARK: Variables

    func lookup(_ name: String) -> String {
        if name.hasPrefix("global.") { return globals[String(name.dropFirst(7))] ?? "" }
        if frame.globalNames.contains(name) { return globals[name] ?? "" }
        return frame.variables.value(name)
    }

    /// A string argument as the script means it now: variables expanded when required.
    func expand(_ s: String) -> String {
        guard extensions.contains(.variables) else { return s }
        return Variables.expand(s, limit: limits.maxStringLength) { lookup($0) }
    }

    func expand(_ list: [String]) -> [String] { list.map { expand($0) } }

    mutating func setVariable(_ name: String, _ value: String, at: SieveLocation) throws(SieveError) {
        let v = Variables.truncate(value, limits.maxVariableLength)
        if frame.globalNames.contains(name) {
            guard globals[name] != nil || globals.count < limits.maxVariables else {
                throw SieveError(.limit, at, "more than \(limits.maxVariables) variables")
            }
            globals[name] = v
        } else {
            do { try frame.variables.set(name, v) } catch { throw SieveError(.limit, at, error.message) }
        }
    }

    // MARK: Commands

    mutating func execute(_ commands: [Command]) throws(SieveError) -> Flow {
        for c in commands {
            try step(c.location)
            let flow = try execute(c)
            if flow != .next { return flow }
        }
        return .next
    }

    mutating func execute(_ c: Command) throws(SieveError) -> Flow {
        switch c.kind {
        case .if(let branches, let otherwise):
            for b in branches where try evaluate(b.test) {
                return try execute(b.block)
            }
            return try otherwise.map { (block) throws(SieveError) in try execute(block) } ?? .next
        case .stop:
            return .stop
        case .return:
            return .return
        case .keep(let flags):
            implicitKeep = false
            try add(.keep(flags: flagsFor(flags)), at: c.location)
        case .discard:
            implicitKeep = false
            try add(.discard, at: c.location)
        case .fileinto(let mailbox, let copy, let flags, let create):
            if !copy { implicitKeep = false }
            let name = expand(mailbox)
            guard !name.isEmpty else {
                throw SieveError(.runtime, c.location, "fileinto needs a mailbox name; the name is empty")
            }
            try add(.fileinto(mailbox: name, flags: flagsFor(flags), copy: copy, create: create), at: c.location)
        case .redirect(let address, let copy):
            if !copy { implicitKeep = false }
            let to = expand(address)
            guard SieveValidator.isRedirectAddress(to) else {
                throw SieveError(.runtime, c.location, "redirect needs an address like user@example.org, not \"\(to)\"")
            }
            try add(.redirect(address: to, copy: copy), at: c.location)
        case .reject(let reason, let extended):
            implicitKeep = false
            try add(.reject(reason: expand(reason), extended: extended), at: c.location)
        case .set(let name, let value, let modifiers):
            try setVariable(name, Variables.apply(modifiers, expand(value)), at: c.location)
        case .flags(let op, let variable, let flags):
            let given = Self.flagList(expand(flags))
            var current = variable.map { Self.flagList([lookup($0)]) } ?? internalFlags
            switch op {
            case .setflag: current = given
            case .addflag: current = Self.flagList(current + given)
            case .removeflag: current.removeAll { f in given.contains { $0.lowercased() == f.lowercased() } }
            }
            if let variable {
                try setVariable(variable, current.joined(separator: " "), at: c.location)
            } else {
                internalFlags = current
            }
        case .vacation(let spec):
            try vacation(spec, at: c.location)
        case .addheader(let name, let value, let last):
            try edit(at: c.location)
            // One line: a line break in the value would start a field of the script's choosing.
            let n = expand(name), v = Self.oneLine(expand(value))
            guard SieveValidator.isFieldName(n) else {
                throw SieveError(.runtime, c.location, "\"\(n)\" is not a header field name")
            }
            guard !Self.protectedHeaders.contains(n.lowercased()) else { return .next }
            if last { headers.append((n, v)) } else { headers.insert((n, v), at: 0) }
            edits.append(.add(name: n, value: v, last: last))
        case .deleteheader(let index, let match, let name, let patterns):
            try edit(at: c.location)
            let n = expand(name)
            guard !Self.protectedHeaders.contains(n.lowercased()) else { return .next }
            let positions = headers.indices.filter { headers[$0].name.lowercased() == n.lowercased() }
            var chosen = Array(positions.enumerated())
            if let index {
                let k = index.last ? positions.count - index.position : index.position - 1
                chosen = positions.indices.contains(k) ? [chosen[k]] : []
            }
            var remove: [(occurrence: Int, position: Int)] = []
            for (occurrence, position) in chosen {
                if let patterns {
                    let value = Self.decoded(headers[position].value)
                    guard try matchValues(match, [value], expand(patterns), at: c.location, capture: false) else {
                        continue
                    }
                }
                remove.append((occurrence + 1, position))
            }
            // From the bottom up, so each recorded occurrence is right when replayed in order.
            for r in remove.reversed() {
                headers.remove(at: r.position)
                edits.append(.delete(name: n, occurrence: r.occurrence))
            }
        case .include(let name, let global, let once, let optional):
            return try include(name, global: global, once: once, optional: optional, at: c.location)
        case .global(let names):
            for n in names { frame.globalNames.insert(n) }
        }
        return .next
    }

    /// `s` with each line break (CRLF, CR or LF) replaced by a space.
    static func oneLine(_ s: String) -> String {
        guard s.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return s }
        return String(s.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }

    /// RFC 5293 §6 lets a site protect fields; these are the ones trace and loop detection need.
    static let protectedHeaders: Set<String> = ["received", "auto-submitted"]

    mutating func edit(at: SieveLocation) throws(SieveError) {
        guard edits.count < limits.maxHeaderEdits else {
            throw SieveError(.limit, at, "more than \(limits.maxHeaderEdits) header edits")
        }
    }

    /// The flags for keep or fileinto: `:flags` when given, else the internal variable
    /// (RFC 5232 §5); none without imap4flags.
    func flagsFor(_ explicit: [String]?) -> [String] {
        guard extensions.contains(.imap4flags) else { return [] }
        if let explicit { return Self.flagList(expand(explicit)) }
        return internalFlags
    }

    /// Space-separated flag names, split, without repeats (compared without case).
    static func flagList(_ strings: [String]) -> [String] {
        var out: [String] = []
        for s in strings {
            for f in s.split(whereSeparator: { $0 == " " })
            where !out.contains(where: { $0.lowercased() == f.lowercased() }) {
                out.append(String(f))
            }
        }
        return out
    }
}
