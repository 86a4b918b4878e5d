/// A Sieve script as written (RFC 5228 §8.2): commands, their arguments, tests and blocks.
/// This is syntax only; `SieveProgram` is what validation makes of it. Locations are kept for
/// error messages but do not take part in equality, so that a printed script that parses back
/// compares equal to the original.
///
///     require "fileinto";
///     if header :contains "subject" "[list]" { fileinto "Lists"; stop; }
public struct SieveScript: Hashable, Sendable {
    public var commands: [SieveCommand]

    public init(commands: [SieveCommand]) {
        self.commands = commands
    }
}

///     command = identifier arguments (";" / block)
public struct SieveCommand: Hashable, Sendable {
    /// As written; commands are matched case-insensitively.
    public var identifier: String
    public var arguments: [SieveArgument]
    public var tests: SieveTests?
    /// nil for a command ended by ";", the commands of `{ … }` otherwise (possibly none).
    public var block: [SieveCommand]?
    public var location: SieveLocation

    public init(
        identifier: String, arguments: [SieveArgument] = [], tests: SieveTests? = nil, block: [SieveCommand]? = nil,
        location: SieveLocation
    ) {
        self.identifier = identifier
        self.arguments = arguments
        self.tests = tests
        self.block = block
        self.location = location
    }

    public static func == (a: SieveCommand, b: SieveCommand) -> Bool {
        a.identifier == b.identifier && a.arguments == b.arguments && a.tests == b.tests && a.block == b.block
    }

    public func hash(into h: inout Hasher) {
        h.combine(identifier)
        h.combine(arguments)
        h.combine(tests)
        h.combine(block)
    }
}

///     test = identifier arguments
public struct SieveTest: Hashable, Sendable {
    public var identifier: String
    public var arguments: [SieveArgument]
    public var tests: SieveTests?
    public var location: SieveLocation

    public init(identifier: String, arguments: [SieveArgument] = [], tests: SieveTests? = nil, location: SieveLocation)
    {
        self.identifier = identifier
        self.arguments = arguments
        self.tests = tests
        self.location = location
    }

    public static func == (a: SieveTest, b: SieveTest) -> Bool {
        a.identifier == b.identifier && a.arguments == b.arguments && a.tests == b.tests
    }

    public func hash(into h: inout Hasher) {
        h.combine(identifier)
        h.combine(arguments)
        h.combine(tests)
    }
}

/// The test part of `arguments`: one test, or a parenthesised test-list (even of one test, so
/// that `if (true)` and `if true` stay apart: only the second is valid).
///
///     arguments = *argument [ test / test-list ]
///     test-list = "(" test *("," test) ")"
public indirect enum SieveTests: Hashable, Sendable {
    case single(SieveTest)
    case list([SieveTest])
}

///     argument    = string-list / number / tag
///     string-list = "[" string *("," string) "]" / string
public struct SieveArgument: Hashable, Sendable {
    public enum Value: Hashable, Sendable {
        /// `:name`, without the colon, as written.
        case tag(String)
        /// With its K/M/G quantifier applied.
        case number(Int64)
        /// One string (quoted or multi-line), escapes and dot-stuffing undone, `${hex:…}` not yet.
        case string(String)
        case stringList([String])
    }

    public var value: Value
    public var location: SieveLocation

    public init(_ value: Value, location: SieveLocation) {
        self.value = value
        self.location = location
    }

    public static func == (a: SieveArgument, b: SieveArgument) -> Bool { a.value == b.value }
    public func hash(into h: inout Hasher) { h.combine(value) }
}
