import Foundation

/// The Public Suffix List (https://publicsuffix.org), for the organizational domain of DMARC
/// (RFC 7489 §3.2): `mail.example.co.uk` belongs to `example.co.uk`.
///
/// The list is built in (`PublicSuffixList+Rules.swift`, from Debian's `publicsuffix` package by
/// `scripts/public-suffix-list.py`); ``init(contentsOfFile:)`` reads a newer copy, such as the one
/// Debian keeps up to date at `/usr/share/publicsuffix/public_suffix_list.dat`.
public struct PublicSuffixList: Sendable {
    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []

    /// The built-in list.
    public static let embedded = PublicSuffixList(rules: embeddedRules)

    /// Rules in the list's format: one per line, `//` comments, `*.` wildcards, `!` exceptions.
    /// Labels must be A-labels (the built-in list and Debian's file differ there: Debian's has
    /// U-labels, which are converted only when they are ASCII already, so prefer the built-in
    /// list unless the newer one matters).
    public init(rules text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            guard let word = line.split(whereSeparator: \.isWhitespace).first, !word.hasPrefix("//") else { continue }
            let rule = word.lowercased()
            if rule.hasPrefix("!") {
                exceptions.insert(String(rule.dropFirst()))
            } else if rule.hasPrefix("*.") {
                wildcards.insert(String(rule.dropFirst(2)))
            } else {
                rules.insert(rule)
            }
        }
    }

    public init(contentsOfFile path: String) throws {
        self.init(rules: try String(contentsOfFile: path, encoding: .utf8))
    }

    /// The public suffix of `domain` (lower case, no trailing dot): the longest matching rule,
    /// an exception rule taking one label off, and `*` (the last label) when nothing matches.
    public func publicSuffix(of domain: String) -> String { lastLabels(of: domain, beyondSuffix: 0) }

    /// The organizational domain (RFC 7489 §3.2): the public suffix and one more label; a domain
    /// that is itself a public suffix is its own organizational domain.
    public func organizationalDomain(of domain: String) -> String { lastLabels(of: domain, beyondSuffix: 1) }

    /// The public suffix of `domain` (normalized) and `extra` labels more, as far as it has them.
    private func lastLabels(of domain: String, beyondSuffix extra: Int) -> String {
        let name = Self.normalized(domain)
        let starts = Self.labelStarts(name)
        let take = min(suffixLabels(name, starts) + extra, starts.count)
        return take == 0 ? "" : String(name[starts[starts.count - take]...])
    }

    /// How many labels at the end of `name` (normalized) are its public suffix. Every DMARC
    /// check asks several times, so the candidates are suffixes of the name, not joined labels.
    private func suffixLabels(_ name: String, _ starts: [String.Index]) -> Int {
        guard !starts.isEmpty else { return 0 }
        var longest = 1
        for count in 1...starts.count {
            let candidate = String(name[starts[starts.count - count]...])
            if exceptions.contains(candidate) { return count - 1 }
            if rules.contains(candidate) { longest = max(longest, count) }
            if count < starts.count, wildcards.contains(candidate) { longest = max(longest, count + 1) }
        }
        return longest
    }

    /// Where each label of `name` starts.
    private static func labelStarts(_ name: String) -> [String.Index] {
        guard !name.isEmpty else { return [] }
        var starts = [name.startIndex]
        for i in name.utf8.indices where name.utf8[i] == UInt8(ascii: ".") { starts.append(name.utf8.index(after: i)) }
        return starts
    }

    /// The domain in lower case, without empty labels or a final dot; as it is when it already is.
    static func normalized(_ domain: String) -> String {
        var previous = UInt8(ascii: ".")
        for byte in domain.utf8 {
            if (0x41...0x5A).contains(byte) || byte >= 0x80 || (byte == UInt8(ascii: ".") && previous == byte) {
                return labels(domain).joined(separator: ".")
            }
            previous = byte
        }
        return previous == UInt8(ascii: ".") ? labels(domain).joined(separator: ".") : domain
    }

    static func labels(_ domain: String) -> [String] {
        var d = domain.lowercased()
        while d.hasSuffix(".") { d.removeLast() }
        return d.split(separator: ".", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}
