import Foundation

/// The source text of a Postfix lookup table (postmap(1), "regular indexed file"), as used for
/// `virtual_alias_maps` and `virtual_mailbox_maps`: `key  value`, a line that starts with
/// whitespace continues the one before, `#` starts a comment line.
///
///     info@example.org      alice@example.org, bob@example.org
///     @example.org          catchall@example.org
///     alice@example.org     example.org/alice/
public enum PostfixVirtual {
    public struct Entry: Hashable, Sendable {
        /// The line the entry starts on (1-based).
        public var line: Int
        public var key: String
        /// The value split at commas and whitespace (alias targets, or one mailbox path).
        public var values: [String]

        public init(line: Int, key: String, values: [String]) {
            self.line = line
            self.key = key
            self.values = values
        }
    }

    public struct LineError: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static let maxLogicalLineBytes = 1_048_576

    public static func parse(_ text: String) -> (entries: [Entry], errors: [LineError]) {
        // Join continuation lines first, remembering where each logical line starts.
        var logical: [(line: Int, text: String)] = []
        var errors: [LineError] = []
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .enumerated()
        {
            // "\r\n" is one Character, so it is a separator of its own.
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // postmap(1): comments and blank lines are ignored, also inside a continued line.
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if line.first == " " || line.first == "\t" {
                guard !logical.isEmpty else {
                    errors.append(
                        LineError(line: i + 1, message: "starts with whitespace but continues no line before it"))
                    continue
                }
                logical[logical.count - 1].text += " " + trimmed
            } else {
                logical.append((i + 1, trimmed))
            }
        }
        var entries: [Entry] = []
        for (line, text) in logical {
            guard text.utf8.count <= maxLogicalLineBytes else {
                errors.append(LineError(line: line, message: "is longer than \(maxLogicalLineBytes) bytes"))
                continue
            }
            let key = String(text.prefix { $0 != " " && $0 != "\t" })
            let values = text.dropFirst(key.count).split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(
                String.init)
            guard !values.isEmpty else {
                errors.append(LineError(line: line, message: "\(key) has no value: expected \"\(key)  target\""))
                continue
            }
            entries.append(Entry(line: line, key: key, values: values))
        }
        return (entries, errors)
    }

    /// The entry as a table line.
    public static func format(_ entry: Entry) -> String {
        entry.key + "\t" + entry.values.joined(separator: ", ")
    }
}
