import IMAP
import Testing

@testable import IMAPMigration

/// Where another server's folders go: delimiters, special use, common names, INBOX. prefixes,
/// --map and --exclude.
struct FolderMappingTests {
    static func entry(_ name: String, _ delimiter: Character? = "/", _ attributes: [String] = []) -> IMAPListEntry {
        IMAPListEntry(
            attributes: attributes, delimiter: delimiter.map { UInt8($0.asciiValue!) }, name: Array(name.utf8))
    }

    static let cases: [(IMAPListEntry, String?, String?)] = [
        (entry("INBOX"), nil, "INBOX"),
        (entry("inbox"), nil, "INBOX"),
        (entry("Sent", "/", ["\\HasNoChildren", "\\Sent"]), nil, "Sent"),
        (entry("Gesendete Objekte", "/", ["\\Sent"]), nil, "Sent"),
        (entry("Sent Items"), nil, "Sent"),
        (entry("Deleted Items"), nil, "Trash"),
        (entry("Spam"), nil, "Junk"),
        (entry("Lists/swift"), nil, "Lists/swift"),
        (entry("Lists.swift", "."), nil, "Lists/swift"),
        (entry("a/b.c", "."), nil, "a_b/c"),
        (entry("INBOX.Sent", ".", []), "INBOX.", "Sent"),
        (entry("INBOX.Lists.swift", "."), "INBOX.", "Lists/swift"),
        (entry("INBOX", "."), "INBOX.", "INBOX"),
        (entry("Archives/2019"), nil, "Archives/2019"),
        (entry("&AMk-t&AOk-", "/"), nil, "Été"),
        (entry("Sent Items/Old"), nil, "Sent Items/Old"),
        (entry("Flat", nil), nil, "Flat"),
    ]

    @Test(arguments: cases)
    func maps(_ e: IMAPListEntry, _ prefix: String?, _ target: String?) throws {
        let m = try FolderMapping(map: [], exclude: [])
        let plan = m.plan(e, namespacePrefix: prefix.map { Array($0.utf8) })
        #expect(plan.target == target, "\(plan)")
        #expect(plan.excluded == nil)
    }

    @Test func overridesAndExcludes() throws {
        let m = try FolderMapping(
            map: ["Old/Name=New/Name", "Projekte=Projects"], exclude: ["Trash*", "*/tmp", "Notes?"])
        #expect(m.plan(Self.entry("Old/Name"), namespacePrefix: nil).target == "New/Name")
        #expect(m.plan(Self.entry("Old/Name/Sub"), namespacePrefix: nil).target == "New/Name/Sub")
        #expect(m.plan(Self.entry("Old/Namesake"), namespacePrefix: nil).target == "Old/Namesake")
        #expect(m.plan(Self.entry("Projekte", "."), namespacePrefix: nil).target == "Projects")
        #expect(m.plan(Self.entry("Trash/2019"), namespacePrefix: nil).excluded == "excluded by --exclude Trash*")
        #expect(m.plan(Self.entry("a/b/tmp"), namespacePrefix: nil).excluded != nil)
        #expect(m.plan(Self.entry("Notes1"), namespacePrefix: nil).excluded != nil)
        #expect(m.plan(Self.entry("Notes"), namespacePrefix: nil).excluded == nil)
        #expect(m.plan(Self.entry("Shared", "/", ["\\Noselect"]), namespacePrefix: nil).excluded != nil)
        #expect(throws: FolderMapping.MappingError.self) { try FolderMapping(map: ["NoEquals"], exclude: []) }
        #expect(throws: FolderMapping.MappingError.self) { try FolderMapping(map: ["A=/B"], exclude: []) }
    }

    @Test func globs() {
        #expect(FolderMapping.glob("*", matches: "anything/at all"))
        #expect(FolderMapping.glob("a*c", matches: "abbbc"))
        #expect(!FolderMapping.glob("a*c", matches: "abbbd"))
        #expect(FolderMapping.glob("a?c", matches: "abc"))
        #expect(!FolderMapping.glob("a?c", matches: "ac"))
        #expect(FolderMapping.glob("*x*", matches: "..x.."))
    }

    @Test func flagsKept() {
        #expect(
            IMAPMigrationJob.flags([
                "\\seen", "\\Recent", "\\Answered", "$Label1", "\\Flagged", "\\Draft", "\\Seen", "Junk",
            ])
                == ["\\Seen", "\\Answered", "$Label1", "\\Flagged", "\\Draft", "Junk"])
    }

    @Test func uidSets() {
        #expect(IMAPMigrationJob.uidSet([1, 2, 3, 4, 7, 9, 10]) == "1:4,7,9:10")
        #expect(IMAPMigrationJob.uidSet([5]) == "5")
        #expect(IMAPMigrationJob.uidSet([3, 1, 2]) == "1:3")
    }
}
