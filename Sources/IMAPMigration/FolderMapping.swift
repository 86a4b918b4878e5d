import Foundation
import IMAP

/// Where each folder of the other server goes here: our hierarchy delimiter is `/`, the
/// special-use folders (RFC 6154) and their common names go to ours (`Sent Items` → Sent), an
/// `INBOX.` personal namespace prefix is dropped (`INBOX.Lists.swift` → Lists/swift), and
/// `--map` and `--exclude` have the last word.
public struct FolderMapping: Sendable, Hashable {
    public struct Override: Sendable, Hashable {
        public var from: String
        public var to: String
    }

    /// What becomes of one source folder.
    public struct Plan: Sendable, Hashable {
        /// The name as the server sends it (for EXAMINE).
        public var wireName: [UInt8]
        /// The name decoded from modified UTF-7, with the server's delimiter (for people and
        /// for the migration state).
        public var source: String
        /// Our folder; nil when excluded.
        public var target: String?
        public var excluded: String?
    }

    public var overrides: [Override]
    public var excludes: [String]

    /// `map` lines are `Source/Name=Our/Name` (the source name as the other server shows it,
    /// with its own delimiter); `exclude` patterns match source names (`*` any text, `?` one
    /// character).
    public init(map: [String], exclude: [String]) throws(MappingError) {
        overrides = try map.map { line throws(MappingError) in
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex, line.index(after: eq) != line.endIndex
            else {
                throw MappingError("--map \(line.debugDescription) is not Source=Target")
            }
            let to = String(line[line.index(after: eq)...])
            guard Self.isValidTarget(to) else {
                throw MappingError("--map target \(to.debugDescription) is not a folder name")
            }
            return Override(from: String(line[..<eq]), to: to)
        }
        excludes = exclude
    }

    public struct MappingError: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// Special-use attributes, and the folder of ours each goes to.
    static let specialUse: [String: String] = [
        "\\sent": "Sent", "\\drafts": "Drafts", "\\trash": "Trash", "\\junk": "Junk", "\\archive": "Archive",
    ]

    /// Names clients and other servers give those folders, lower-cased.
    static let commonNames: [String: String] = [
        "sent": "Sent", "sent items": "Sent", "sent messages": "Sent", "sent mail": "Sent", "sent-mail": "Sent",
        "gesendet": "Sent", "envoyés": "Sent", "drafts": "Drafts", "draft": "Drafts", "entwürfe": "Drafts",
        "brouillons": "Drafts", "trash": "Trash", "deleted items": "Trash", "deleted messages": "Trash", "bin": "Trash",
        "papierkorb": "Trash", "corbeille": "Trash", "junk": "Junk", "spam": "Junk", "junk e-mail": "Junk",
        "junk email": "Junk", "bulk mail": "Junk", "archive": "Archive", "archives": "Archive",
    ]

    public func plan(_ entries: [IMAPListEntry], namespacePrefix: [UInt8]? = nil) -> [Plan] {
        entries.map { plan($0, namespacePrefix: namespacePrefix) }
    }

    public func plan(_ entry: IMAPListEntry, namespacePrefix: [UInt8]?) -> Plan {
        let raw = String(decoding: entry.name, as: UTF8.self)
        let source = ModifiedUTF7.decode(raw) ?? raw
        var plan = Plan(wireName: entry.name, source: source, target: nil, excluded: nil)
        if let attribute = entry.attributes.first(where: {
            ["\\noselect", "\\nonexistent"].contains($0.lowercased())
        }) {
            plan.excluded = "not a folder that holds mail (\(attribute))"
            return plan
        }
        if let pattern = excludes.first(where: { Self.glob($0, matches: source) }) {
            plan.excluded = "excluded by --exclude \(pattern)"
            return plan
        }
        let delimiter = entry.delimiter.map { String(decoding: [$0], as: UTF8.self) }
        for o in overrides {
            if source == o.from {
                plan.target = o.to
                return plan
            }
            if let delimiter, source.hasPrefix(o.from + delimiter) {
                let rest = String(source.dropFirst(o.from.count + delimiter.count))
                plan.target = o.to + "/" + Self.parts(rest, delimiter).joined(separator: "/")
                return plan
            }
        }
        var name = source
        if let prefixBytes = namespacePrefix, !prefixBytes.isEmpty {
            let prefix = ModifiedUTF7.decode(String(decoding: prefixBytes, as: UTF8.self)) ?? ""
            if !prefix.isEmpty, name.count > prefix.count, name.lowercased().hasPrefix(prefix.lowercased()) {
                name = String(name.dropFirst(prefix.count))
            }
        }
        let parts = Self.parts(name, delimiter)
        if parts.count == 1, parts[0].caseInsensitiveCompare("INBOX") == .orderedSame {
            plan.target = "INBOX"
            return plan
        }
        if let use = entry.attributes.lazy.compactMap({ Self.specialUse[$0.lowercased()] }).first {
            plan.target = use
            return plan
        }
        if parts.count == 1, let common = Self.commonNames[parts[0].lowercased()] {
            plan.target = common
            return plan
        }
        plan.target = parts.joined(separator: "/")
        return plan
    }

    /// A name split at the server's delimiter; a `/` inside a part (where the delimiter is
    /// another character) becomes `_`, as does an empty part.
    static func parts(_ name: String, _ delimiter: String?) -> [String] {
        let split = delimiter.map { d in name.components(separatedBy: d) } ?? [name]
        return split.map { p in
            let q = p.replacingOccurrences(of: "/", with: "_")
            return q.isEmpty ? "_" : q
        }
    }

    static func isValidTarget(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("/") && !name.hasSuffix("/") && !name.contains("//")
    }

    /// `*` matches any text (the delimiter too), `?` one character; case-sensitive, as folder
    /// names are.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern)
        let t = Array(text)
        var (pi, ti) = (0, 0)
        var star: Int? = nil
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if let s = star {
                pi = s + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
