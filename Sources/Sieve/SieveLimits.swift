/// Every limit the Sieve parser and interpreter enforce, in one place. A script or message that
/// exceeds one gets a `SieveError`, never a crash or an unbounded run.
public struct SieveLimits: Hashable, Sendable {
    /// Script text, in octets (Pigeonhole's default `sieve_max_script_size` is 1 MiB).
    public var maxScriptSize = 1 << 20
    /// Nesting of blocks and tests (`if` inside `if`, `not` inside `anyof`, …).
    public var maxNesting = 32
    /// Strings and string-list entries, in octets.
    public var maxStringLength = 64 * 1024
    /// Entries in one string list.
    public var maxListLength = 1024
    /// Steps of one run: each command, test and comparison counts one.
    public var maxSteps = 100_000
    /// Actions a run may produce (keep, fileinto, redirect, …), implicit keep included.
    public var maxActions = 32
    /// `redirect`s a run may perform (Pigeonhole's `sieve_max_redirects` defaults to 4).
    public var maxRedirects = 4
    /// Variables a script may set, and the length of one value (RFC 5229 §6 lets us truncate).
    public var maxVariables = 256
    public var maxVariableLength = 4096
    /// `include` nesting, and how many scripts one run may include in all (RFC 6609 §3.2).
    public var maxIncludeDepth = 10
    public var maxIncludes = 32
    /// Header edits (addheader/deleteheader) one run may make.
    public var maxHeaderEdits = 64
    /// Body text the body test reads, in octets; the rest is not searched.
    public var maxBodyText = 1 << 20

    public init() {}
}
