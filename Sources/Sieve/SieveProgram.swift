/// A validated script: every command and test known, required and given arguments of the right
/// types. Made by `SieveProgram(script)`, run by `SieveInterpreter`.
public struct SieveProgram: Sendable {
    let commands: [Command]
    /// The extensions the script's `require`s named.
    public let extensions: Set<SieveExtension>

    init(commands: [Command], extensions: Set<SieveExtension>) {
        self.commands = commands
        self.extensions = extensions
    }

    /// The scripts this one includes (RFC 6609), in order of appearance: what ManageSieve
    /// checks on upload, since a missing script without `:optional` fails every run.
    public var includes: [SieveInclude] {
        func collect(_ commands: [Command]) -> [SieveInclude] {
            commands.flatMap { c -> [SieveInclude] in
                switch c.kind {
                case .include(let name, let global, _, let optional):
                    [SieveInclude(name: name, global: global, optional: optional, location: c.location)]
                case .if(let branches, let otherwise):
                    branches.flatMap { collect($0.block) } + collect(otherwise ?? [])
                default: []
                }
            }
        }
        return collect(commands)
    }
}

/// One `include` of a script (RFC 6609 §3.2).
public struct SieveInclude: Hashable, Sendable {
    public var name: String
    /// `:global`: a server-wide script; otherwise one of the account's own (`:personal`).
    public var global: Bool
    public var optional: Bool
    public var location: SieveLocation

    public init(name: String, global: Bool, optional: Bool, location: SieveLocation) {
        self.name = name
        self.global = global
        self.optional = optional
        self.location = location
    }
}

/// The extensions a script may `require` (RFC 5228 §3.2). The comparators i;octet and
/// i;ascii-casemap need no `require`; i;ascii-numeric does (RFC 5228 §2.7.3).
public enum SieveExtension: String, Hashable, Sendable, CaseIterable {
    case fileinto
    case reject
    case ereject
    case envelope
    case encodedCharacter = "encoded-character"
    case copy
    case variables
    case imap4flags
    case relational
    case subaddress
    case body
    case vacation
    case vacationSeconds = "vacation-seconds"
    case date
    case index
    case mailbox
    case editheader
    case duplicate
    case include
    case comparatorOctet = "comparator-i;octet"
    case comparatorCasemap = "comparator-i;ascii-casemap"
    case comparatorNumeric = "comparator-i;ascii-numeric"
}

struct Command: Sendable {
    indirect enum Kind: Sendable {
        case keep(flags: [String]?)
        case discard
        case stop
        case `return`
        case fileinto(mailbox: String, copy: Bool, flags: [String]?, create: Bool)
        case redirect(address: String, copy: Bool)
        case reject(reason: String, extended: Bool)
        /// `if`/`elsif` branches in order, then `else`.
        case `if`(branches: [Branch], otherwise: [Command]?)
        case set(name: String, value: String, modifiers: [SetModifier])
        case flags(FlagOperation, variable: String?, flags: [String])
        case vacation(VacationSpec)
        case addheader(name: String, value: String, last: Bool)
        case deleteheader(index: HeaderIndex?, match: Match, name: String, patterns: [String]?)
        case include(name: String, global: Bool, once: Bool, optional: Bool)
        case global(names: [String])
    }

    var kind: Kind
    var location: SieveLocation
}

struct Branch: Sendable {
    var test: Test
    var block: [Command]
}

enum FlagOperation: String, Sendable {
    case setflag, addflag, removeflag
}

/// RFC 5229 §4.1 modifiers, applied highest precedence first.
enum SetModifier: String, Sendable, CaseIterable {
    case lower, upper, lowerfirst, upperfirst, quotewildcard, length

    var precedence: Int {
        switch self {
        case .lower, .upper: 40
        case .lowerfirst, .upperfirst: 30
        case .quotewildcard: 20
        case .length: 10
        }
    }
}

struct VacationSpec: Sendable {
    var seconds: Int64?
    var days: Int64?
    var subject: String?
    var from: String?
    var addresses: [String]
    var mime: Bool
    var handle: String?
    var reason: String
}

struct Test: Sendable {
    indirect enum Kind: Sendable {
        case constant(Bool)
        case not(Test)
        case anyof([Test])
        case allof([Test])
        case address(AddressPart, Match, headers: [String], keys: [String], index: HeaderIndex?)
        case envelope(AddressPart, Match, parts: [String], keys: [String])
        case header(Match, headers: [String], keys: [String], index: HeaderIndex?)
        case exists(headers: [String])
        case size(over: Bool, limit: Int64)
        case body(BodyTransform, Match, keys: [String])
        case string(Match, sources: [String], keys: [String])
        case hasflag(Match, variables: [String]?, keys: [String])
        case date(Match, zone: DateZone, header: String, part: String, keys: [String], index: HeaderIndex?)
        case currentdate(Match, zone: DateZone, part: String, keys: [String])
        case mailboxexists([String])
        case duplicate(DuplicateSpec)
    }

    var kind: Kind
    var location: SieveLocation
}

enum AddressPart: String, Sendable {
    case all, localpart, domain, user, detail
}

struct HeaderIndex: Sendable {
    var position: Int
    var last: Bool
}

enum BodyTransform: Sendable {
    case raw, text
    case content([String])
}

enum DateZone: Sendable {
    /// The run's own zone (`SieveContext.timeZoneMinutes`).
    case local
    /// `:zone "+0100"`: minutes east of UTC.
    case fixed(Int)
    /// `:originalzone`: the zone the date was written in.
    case original
}

struct DuplicateSpec: Sendable {
    var handle: String
    var header: String?
    var uniqueID: String?
    var seconds: Int64?
    var last: Bool
}

/// A match type with its comparator (RFC 5228 §2.7, RFC 5231).
struct Match: Sendable {
    enum Kind: Sendable, Equatable {
        case `is`, contains, matches
        case value(Relation)
        case count(Relation)
    }

    var kind: Kind = .is
    var comparator: Comparator = .asciiCasemap
}

enum Relation: String, Sendable, CaseIterable {
    case gt, ge, lt, le, eq, ne

    func holds(_ order: Int) -> Bool {
        switch self {
        case .gt: order > 0
        case .ge: order >= 0
        case .lt: order < 0
        case .le: order <= 0
        case .eq: order == 0
        case .ne: order != 0
        }
    }
}
