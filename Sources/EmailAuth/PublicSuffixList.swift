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
    public func publicSuffix(of domain: String) -> String {
        let labels = Self.labels(domain)
        guard !labels.isEmpty else { return "" }
        var longest = 1
        for count in 1...labels.count {
            let candidate = labels.suffix(count).joined(separator: ".")
            if exceptions.contains(candidate) {
                return labels.suffix(count - 1).joined(separator: ".")
            }
            if rules.contains(candidate) { longest = max(longest, count) }
            if count < labels.count, wildcards.contains(candidate) { longest = max(longest, count + 1) }
        }
        return labels.suffix(longest).joined(separator: ".")
    }

    /// The organizational domain (RFC 7489 §3.2): the public suffix and one more label; a domain
    /// that is itself a public suffix is its own organizational domain.
    public func organizationalDomain(of domain: String) -> String {
        let labels = Self.labels(domain)
        let suffixCount = Self.labels(publicSuffix(of: domain)).count
        guard labels.count > suffixCount else { return labels.joined(separator: ".") }
        return labels.suffix(suffixCount + 1).joined(separator: ".")
    }

    static func labels(_ domain: String) -> [String] {
        var d = domain.lowercased()
        while d.hasSuffix(".") { d.removeLast() }
        return d.split(separator: ".", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}
