import Foundation

/// Maildir file names and folder names (cr.yp.to/proto/maildir.html, Maildir++, and
/// Dovecot's `dovecot-keywords`).
///
/// A message in `cur/` is named `unique:2,FLAGS`: upper-case letters for the system flags,
/// lower-case `a`…`z` for the keywords listed (in that order) in the folder's
/// `dovecot-keywords` file as `0 name`, `1 name`…
public enum Maildir {
    static let systemFlags: [(letter: Character, flag: String)] = [
        ("D", "\\Draft"), ("F", "\\Flagged"), ("R", "\\Answered"), ("S", "\\Seen"), ("T", "\\Deleted"),
    ]

    /// The flags of a file name; keyword letters missing from `keywords` are ignored.
    public static func flags(fileName: String, keywords: [String]) -> [String] {
        guard let info = fileName.range(of: ":2,", options: .backwards) else { return [] }
        var flags: [String] = []
        for letter in fileName[info.upperBound...] {
            if let f = systemFlags.first(where: { $0.letter == letter }) {
                if !flags.contains(f.flag) { flags.append(f.flag) }
            } else if let a = letter.asciiValue, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(a) {
                let i = Int(a - UInt8(ascii: "a"))
                if i < keywords.count, !keywords[i].isEmpty, !flags.contains(keywords[i]) { flags.append(keywords[i]) }
            }
        }
        return flags
    }

    /// The `:2,…` suffix for `flags`, letters in ASCII order as the spec asks; `keywords` is
    /// the folder's keyword list, extended with the flags' keywords it lacks (26 at most: the
    /// rest are dropped).
    public static func suffix(_ flags: [String], keywords: inout [String]) -> String {
        var letters: [Character] = systemFlags.filter { flags.contains($0.flag) }.map(\.letter)
        for flag in flags where !flag.hasPrefix("\\") {
            var i = keywords.firstIndex(of: flag)
            if i == nil, keywords.count < 26 {
                keywords.append(flag)
                i = keywords.count - 1
            }
            if let i { letters.append(Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(i)))) }
        }
        return ":2," + String(letters.sorted())
    }

    /// The keyword list of a `dovecot-keywords` file (`index name` lines).
    public static func parseKeywords(_ text: String) -> [String] {
        var keywords: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let i = Int(parts[0]), (0..<26).contains(i) else { continue }
            while keywords.count <= i { keywords.append("") }
            keywords[i] = String(parts[1])
        }
        return keywords
    }

    public static func formatKeywords(_ keywords: [String]) -> String {
        keywords.enumerated().map { "\($0.offset) \($0.element)\n" }.joined()
    }

    /// The mailbox name of a Maildir++ folder directory (`.Lists.swift` → `Lists/swift`);
    /// nil for a directory that is not one.
    public static func folderName(directory: String) -> String? {
        guard directory.hasPrefix("."), directory.count > 1, directory != "..",
            !directory.dropFirst().split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty)
        else { return nil }
        return directory.dropFirst().replacingOccurrences(of: ".", with: "/")
    }

    /// The Maildir++ directory of a mailbox name (`Lists/swift` → `.Lists.swift`). Dots in a
    /// name would read back as levels, so they become `_`.
    public static func directory(folder: String) -> String {
        "." + folder.replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "/", with: ".")
    }
}
