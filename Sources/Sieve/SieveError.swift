/// Where in a script something is: 1-based line and column (columns count octets).
public struct SieveLocation: Hashable, Sendable, CustomStringConvertible, Codable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// A script that cannot run, or a run that had to stop. Parse and validation errors carry the
/// position of the offending token; runtime errors the position of the command or test that
/// failed. The caller keeps the message in INBOX after any error (RFC 5228 §2.10.6).
///
///     3:5: unknown command "filein"; is it a typo, or does it need a require?
public struct SieveError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The text is not Sieve (RFC 5228 §8 grammar).
        case syntax
        /// It parses, but a command or test is unknown, not required, or has wrong arguments.
        case validation
        /// A limit was exceeded: size, nesting, steps, actions, redirects.
        case limit
        /// The run failed: conflicting actions, an include that cannot be found, …
        case runtime
    }

    public var kind: Kind
    public var location: SieveLocation
    public var message: String

    public init(_ kind: Kind, _ location: SieveLocation, _ message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
