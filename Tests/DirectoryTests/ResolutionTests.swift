import Foundation
import Testing

@testable import Directory
@testable import MailCore
@testable import Storage

/// The directory every resolution case runs against; built directly, without the store, because
/// resolution is a pure function of a snapshot.
enum Fixture {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func domain(_ id: Int64, _ name: String, aliasOf: Int64? = nil, catchAll: String? = nil) -> DomainRecord {
        DomainRecord(id: id, name: try! DomainName(name), aliasOf: aliasOf, catchAll: catchAll, createdAt: t0)
    }

    static func account(_ a: String, _ state: AccountState = .active) -> AccountRecord {
        // Ids only need to be distinct; derive one from the address.
        AccountRecord(id: Int64(abs(a.hashValue % 1_000_000_000)) + 1, address: try! EmailAddress(a), state: state, createdAt: t0)
    }

    static func alias(_ a: String, _ targets: [String]) -> AliasRecord {
        AliasRecord(id: 0, address: try! EmailAddress(a), targets: targets, createdAt: t0)
    }

    static func list(_ a: String, _ members: [String]) -> ListRecord {
        ListRecord(address: try! EmailAddress(a), members: members, createdAt: t0)
    }

    static let snapshot: DirectorySnapshot = {
        let data = DirectoryData(
            domains: [
                domain(1, "example.org"),
                domain(2, "example.net", aliasOf: 1),
                domain(3, "catch.org", catchAll: "sink@catch.org"),
                domain(4, "loop.org", catchAll: "nobody@loop.org"),
                domain(5, "bücher.example"),
            ],
            accounts: [
                account("alice@example.org"), account("bob@example.org"), account("bob+special@example.org"),
                account("carol@example.org"), account("dave@example.org", .disabled), account("Erik@example.org"),
                account("sink@catch.org"), account("josé@bücher.example"),
            ] + (1...10).map { account("u\($0)@example.org") },
            aliases: [
                alias("postmaster@example.org", ["alice@example.org"]),
                alias("info@example.org", ["alice@example.org", "ext@partner.com"]),
                alias("fwd@example.org", ["info@example.org"]),
                alias("loopa@example.org", ["loopb@example.org"]),
                alias("loopb@example.org", ["loopa@example.org", "carol@example.org"]),
                alias("dis@example.org", ["dave@example.org"]),
                alias("bad@example.org", ["missing@example.org"]),
            ],
            lists: [
                list("eng@example.org", ["alice@example.org", "bob@example.org", "ops@example.org"]),
                list("ops@example.org", ["carol@example.org", "eng@example.org"]),
                list("all@example.org", ["eng@example.org", "ops@example.org", "dave@example.org", "x@partner.com", "Alice@EXAMPLE.org"]),
                list("deep1@example.org", ["deep2@example.org"]), list("deep2@example.org", ["deep3@example.org"]),
                list("deep3@example.org", ["deep4@example.org"]), list("deep4@example.org", ["deep5@example.org"]),
                list("deep5@example.org", ["deep6@example.org"]), list("deep6@example.org", ["alice@example.org"]),
                list("empty@example.org", []),
                list("catchers@example.org", ["whoever@catch.org", "bob@example.net"]),
                list("big@example.org", (1...10).map { "u\($0)@example.org" }),
            ])
        return DirectorySnapshot(data)
    }()
}

struct ResolutionCase: Sendable, CustomTestStringConvertible {
    var input: String
    var kind: Resolution.Kind
    var recipients: [String]
    var limits = ResolutionLimits()
    var testDescription: String { input }
}

@Suite struct ResolutionTests {
    static let cases: [ResolutionCase] = [
        // Accounts, case and IDN
        .init(input: "alice@example.org", kind: .account, recipients: ["alice@example.org"]),
        .init(input: "ALICE@EXAMPLE.ORG", kind: .account, recipients: ["alice@example.org"]),
        .init(input: "erik@example.org", kind: .account, recipients: ["Erik@example.org"]),
        .init(input: "josé@bücher.example", kind: .account, recipients: ["josé@xn--bcher-kva.example"]),
        .init(input: "JOSÉ@xn--bcher-kva.example", kind: .account, recipients: ["josé@xn--bcher-kva.example"]),
        .init(input: "jose\u{0301}@BÜCHER.example", kind: .account, recipients: ["josé@xn--bcher-kva.example"]),
        // Domain alias
        .init(input: "alice@example.net", kind: .account, recipients: ["alice@example.org"]),
        .init(input: "Alice@Example.Net", kind: .account, recipients: ["alice@example.org"]),
        .init(input: "postmaster@example.net", kind: .alias, recipients: ["alice@example.org"]),
        .init(input: "nobody@example.net", kind: .unknown, recipients: []),
        // Subaddress
        .init(input: "alice+tag@example.org", kind: .account, recipients: ["alice@example.org"]),
        .init(input: "alice+@example.org", kind: .account, recipients: ["alice@example.org"]),
        .init(input: "alice+tag@example.net", kind: .account, recipients: ["alice@example.org"]),
        .init(input: "alice+a+b@example.org", kind: .account, recipients: ["alice@example.org"]),
        .init(input: "bob+special@example.org", kind: .account, recipients: ["bob+special@example.org"]),
        .init(input: "bob+other@example.org", kind: .account, recipients: ["bob@example.org"]),
        .init(input: "eng+foo@example.org", kind: .list, recipients: ["alice@example.org", "bob@example.org", "carol@example.org"]),
        .init(input: "+tag@example.org", kind: .unknown, recipients: []),
        // Disabled
        .init(input: "dave@example.org", kind: .disabled, recipients: []),
        .init(input: "dave+x@example.org", kind: .disabled, recipients: []),
        .init(input: "dis@example.org", kind: .alias, recipients: []),
        // Unknown, relay tricks stay local and unknown
        .init(input: "nobody@example.org", kind: .unknown, recipients: []),
        .init(input: "\"user@other.com\"@example.org", kind: .unknown, recipients: []),
        .init(input: "user%other.com@example.org", kind: .unknown, recipients: []),
        .init(input: "other.com!user@example.org", kind: .unknown, recipients: []),
        // Catch-all
        .init(input: "someone@catch.org", kind: .catchAll, recipients: ["sink@catch.org"]),
        .init(input: "x+y@catch.org", kind: .catchAll, recipients: ["sink@catch.org"]),
        .init(input: "sink@catch.org", kind: .account, recipients: ["sink@catch.org"]),
        .init(input: "anything@loop.org", kind: .catchAll, recipients: []),
        // External and invalid
        .init(input: "a@partner.com", kind: .external, recipients: ["a@partner.com"]),
        .init(input: "a@sub.example.org", kind: .external, recipients: ["a@sub.example.org"]),
        .init(input: "not an address", kind: .invalid, recipients: []),
        .init(input: "alice@example.org.", kind: .invalid, recipients: []),
        .init(input: "alice@[127.0.0.1]", kind: .invalid, recipients: []),
        // Aliases: chains, cycles, external targets, unknown targets
        .init(input: "postmaster@example.org", kind: .alias, recipients: ["alice@example.org"]),
        .init(input: "Info@Example.Org", kind: .alias, recipients: ["alice@example.org", "ext@partner.com"]),
        .init(input: "fwd@example.org", kind: .alias, recipients: ["alice@example.org", "ext@partner.com"]),
        .init(input: "loopa@example.org", kind: .alias, recipients: ["carol@example.org"]),
        .init(input: "loopb@example.org", kind: .alias, recipients: ["carol@example.org"]),
        .init(input: "bad@example.org", kind: .alias, recipients: []),
        // Lists: nesting, cycles, one copy each, disabled members skipped
        .init(input: "eng@example.org", kind: .list, recipients: ["alice@example.org", "bob@example.org", "carol@example.org"]),
        .init(input: "ops@example.org", kind: .list, recipients: ["carol@example.org", "alice@example.org", "bob@example.org"]),
        .init(
            input: "all@example.org", kind: .list,
            recipients: ["alice@example.org", "bob@example.org", "carol@example.org", "x@partner.com"]),
        .init(input: "deep1@example.org", kind: .list, recipients: ["alice@example.org"]),
        .init(input: "deep1@example.org", kind: .list, recipients: [], limits: ResolutionLimits(maxRecipients: 100, maxDepth: 3)),
        .init(input: "empty@example.org", kind: .list, recipients: []),
        .init(input: "catchers@example.org", kind: .list, recipients: ["sink@catch.org", "bob@example.org"]),
        .init(
            input: "big@example.org", kind: .list, recipients: (1...5).map { "u\($0)@example.org" },
            limits: ResolutionLimits(maxRecipients: 5, maxDepth: 32)),
    ]

    @Test(arguments: cases)
    func resolves(_ c: ResolutionCase) {
        let r = Fixture.snapshot.resolve(c.input, limits: c.limits)
        #expect(r.kind == c.kind)
        #expect(r.recipients.map(\.address) == c.recipients)
        #expect(r.isDeliverable == !(c.recipients.isEmpty || [.external, .unknown, .disabled, .invalid].contains(c.kind)))
    }

    @Test func pathsNameEveryListPassedThrough() {
        let r = Fixture.snapshot.resolve("all@example.org")
        let paths = Dictionary(uniqueKeysWithValues: r.recipients.map { ($0.address, $0.path) })
        #expect(paths["alice@example.org"] == ["all@example.org", "eng@example.org"])
        #expect(paths["carol@example.org"] == ["all@example.org", "eng@example.org", "ops@example.org"])
        #expect(paths["x@partner.com"] == ["all@example.org"])
        #expect(r.skipped.map(\.address) == ["dave@example.org"])
        #expect(r.skipped.first?.reason == .disabled)
        #expect(r.recipients.first(where: { $0.address == "x@partner.com" })?.accountID == nil)
        #expect(r.recipients.first(where: { $0.address == "alice@example.org" })?.accountID != nil)
    }

    @Test func subaddressAndDomainAliasAreReported() {
        let r = Fixture.snapshot.resolve("alice+news@example.net")
        #expect(r.subaddressTag == "news")
        #expect(r.viaDomainAlias == "example.net")
        #expect(r.canonical == "alice@example.org")
    }

    @Test func tooDeepAndTruncatedAreReported() {
        let deep = Fixture.snapshot.resolve("deep1@example.org", limits: ResolutionLimits(maxRecipients: 100, maxDepth: 3))
        #expect(deep.skipped.map(\.reason) == [.tooDeep])
        let big = Fixture.snapshot.resolve("big@example.org", limits: ResolutionLimits(maxRecipients: 5, maxDepth: 32))
        #expect(big.truncated)
    }

    @Test func unknownAliasTargetIsSkippedWithReason() {
        let r = Fixture.snapshot.resolve("bad@example.org")
        #expect(r.skipped.map(\.reason) == [.unknown])
        #expect(!r.isDeliverable)
    }
}
