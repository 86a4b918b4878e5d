import EmailAuth
import Foundation
import TestSupport
import Testing

/// Differential test of DMARC record parsing and organizational domains against checkdmarc
/// (`pip install checkdmarc`), which works offline for both: `checkdmarc.dmarc.
/// parse_dmarc_record` makes no DNS query, and `checkdmarc.utils.get_base_domain` reads the
/// Public Suffix List bundled with the `publicsuffixlist` package (ours is built in from
/// Debian's copy; both include the private section).
///
/// checkdmarc 6 follows RFC 9989 (DMARCbis); we follow RFC 7489. Records on which the two RFCs
/// disagree are generated too, and excluded with the reason (see ``Record/exclusion``).
@Suite("DMARC: our parser and organizational domains against checkdmarc")
struct CheckdmarcDifferentialTests {
    static let hasCheckdmarc: Bool = {
        guard let python = DkimpyInteropTests.python else { return false }
        return (try? Peers.run(python, ["-c", "import checkdmarc.dmarc, checkdmarc.utils"]).status) == 0
    }()

    static let script = #"""
        import json, sys
        from checkdmarc.dmarc import parse_dmarc_record
        from checkdmarc.utils import get_base_domain
        data = json.load(open(sys.argv[1]))
        records = []
        for text in data["records"]:
            try:
                tags = parse_dmarc_record(text, "example.org")["tags"]
                records.append({"ok": True, "p": tags["p"]["value"], "sp": tags["sp"]["value"],
                                "adkim": tags["adkim"]["value"], "aspf": tags["aspf"]["value"]})
            except Exception as e:
                records.append({"ok": False, "error": type(e).__name__ + ": " + str(e)})
        print(json.dumps({"records": records, "domains": [get_base_domain(d) for d in data["domains"]]}))
        """#

    struct Record: CustomStringConvertible {
        var text: String
        var invalidPct = false
        var pMissing = false
        var pInvalid = false
        var spInvalid = false
        var alignmentInvalid = false
        var upperCaseTag = false
        var rua = false

        var description: String { text }

        /// Why this record is not compared, when RFC 7489 (us) and RFC 9989 (checkdmarc) differ.
        var exclusion: String? {
            if upperCaseTag {
                return
                    "tag names: RFC 7489 §6.3 uses DKIM's tag-list, whose tags are case-sensitive (RFC 6376 §3.2); checkdmarc lowercases them"
            }
            if invalidPct {
                return "pct=: RFC 9989 removed it and checkdmarc ignores any value; RFC 7489 §6.3 allows 0-100 only"
            }
            if alignmentInvalid {
                return "adkim/aspf: RFC 9989 §4.8 discards an invalid value; under RFC 7489 §6.4 it is a syntax error"
            }
            if pMissing && !rua {
                return "no p=: RFC 9989 reads it as p=none; RFC 7489 §6.6.3 applies no DMARC (we throw)"
            }
            if (pInvalid || spInvalid) && rua {
                return
                    "invalid p=/sp= with a rua=: RFC 7489 §6.6.3 step 6 reads it as p=none; checkdmarc rejects the value"
            }
            return nil
        }
    }

    static func generate(seed: UInt64, count: Int) -> [Record] {
        var rng = SeededSPFRandom(seed: seed)
        func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        func pick<T>(_ items: [T]) -> T { items.randomElement(using: &rng)! }
        var records: [Record] = []
        for _ in 0..<count {
            var r = Record(text: "")
            var tags: [String] = []
            let policies = ["none", "quarantine", "reject", "None", "REJECT", "Quarantine"]
            if chance(0.1) {
                r.pMissing = true
            } else if chance(0.08) {
                r.pInvalid = true
                tags.append("p=\(pick(["bogus", "rejected", "", "all"]))")
            } else {
                tags.append("p=\(pick(policies))")
            }
            if chance(0.4) {
                if chance(0.15) {
                    r.spInvalid = true
                    tags.append("sp=\(pick(["bogus", "nones", ""]))")
                } else {
                    tags.append("sp=\(pick(policies))")
                }
            }
            for name in ["adkim", "aspf"] where chance(0.35) {
                let value = pick(["r", "s", "R", "S", "x", "relaxed", ""])
                if !["r", "s"].contains(value.lowercased()) { r.alignmentInvalid = true }
                tags.append("\(name)=\(value)")
            }
            if chance(0.25) {
                let value = pick(["0", "50", "100", "101", "-1", "x", "007"])
                if Int(value).map({ !(0...100).contains($0) }) ?? true { r.invalidPct = true }
                tags.append("pct=\(value)")
            }
            if chance(0.4) {
                r.rua = true
                tags.append(
                    "rua=\(pick(["mailto:d@example.org", "mailto:a@example.org,mailto:b@example.net!10m", "mailto:agg@example.com"]))"
                )
            }
            if chance(0.2) { tags.append("ruf=mailto:f@example.org") }
            if chance(0.2) { tags.append("fo=\(pick(["0", "1", "d", "s", "1:d"]))") }
            if chance(0.1) { tags.append("ri=86400") }
            if chance(0.05) { tags.append("rf=afrf") }
            tags.shuffle(using: &rng)
            if chance(0.05), let i = tags.indices.randomElement(using: &rng), let first = tags[i].first {
                tags[i] = first.uppercased() + tags[i].dropFirst()
                r.upperCaseTag = true
            }
            let separator = pick(["; ", ";", " ; ", ";\t"])
            r.text = (["v=DMARC1"] + tags).joined(separator: separator) + (chance(0.3) ? ";" : "")
            records.append(r)
        }
        // Fixed edge cases.
        for text in [
            "v=DMARC1", "p=reject; v=DMARC1", "v=dmarc1; p=none", "v=DMARC2; p=none", "v=DMARC1; p=none; p=reject",
            "v=DMARC1; p=reject;", "v=DMARC1;p=reject;sp=none;adkim=s;aspf=s", "V=DMARC1; p=none", "v=DMARC1 p=none",
        ] {
            var r = Record(text: text)
            r.pMissing = text == "v=DMARC1"
            r.upperCaseTag = text.hasPrefix("V=")
            records.append(r)
        }
        return records
    }

    /// Domains under suffixes of every kind: ICANN (com, co.uk), wildcard and exception rules
    /// (*.kawasaki.jp, !city.kawasaki.jp, *.ck, !www.ck), the private section (github.io), a TLD
    /// not in the list, and public suffixes themselves.
    static func domains(seed: UInt64, count: Int) -> [String] {
        var rng = SeededSPFRandom(seed: seed)
        let suffixes = [
            "com", "org", "co.uk", "uk", "github.io", "kawasaki.jp", "city.kawasaki.jp", "ck", "www.ck", "com.au",
            "example", "invalidtld", "blogspot.com", "s3.amazonaws.com", "nom.br", "gov.uk", "de", "xn--p1ai", "jp",
            "appspot.com", "herokuapp.com", "pvt.k12.ma.us",
        ]
        let labels = ["mail", "www", "a", "b-c", "example", "shop", "xn--bcher-kva", "sub", "x1"]
        return (0..<count).map { _ in
            let n = Int.random(in: 0...3, using: &rng)
            let domain =
                ((0..<n).map { _ in labels.randomElement(using: &rng)! } + [suffixes.randomElement(using: &rng)!])
                .joined(separator: ".")
            return Bool.random(using: &rng) && Bool.random(using: &rng) ? domain.uppercased() + "." : domain
        }
    }

    struct Output: Decodable {
        struct Parsed: Decodable {
            var ok: Bool
            var p, sp, adkim, aspf, error: String?
        }
        var records: [Parsed]
        var domains: [String]
    }

    @Test(
        "at least 200 records and 200 domains: same validity, policies, alignment modes and organizational domains",
        .enabled(
            if: Peers.shouldRun(hasCheckdmarc), "python3 with checkdmarc not found (pip install checkdmarc); skipped")
    )
    func sameAsCheckdmarc() async throws {
        let records = Self.generate(seed: 0xD3A2_C001, count: 400)
        let domains = Self.domains(seed: 0xD3A2_C002, count: 240)
        let theirs = try await blocking { () throws -> Output in
            let python = try #require(DkimpyInteropTests.python, "CI=true but python3 is not on PATH")
            try #require(Self.hasCheckdmarc, "CI=true but python3 cannot `import checkdmarc`: pip install checkdmarc")
            let directory = try Scratch.folder("checkdmarc")
            defer { try? FileManager.default.removeItem(at: directory) }
            let inputURL = directory.appendingPathComponent("input.json")
            try JSONSerialization.data(withJSONObject: ["records": records.map(\.text), "domains": domains]).write(
                to: inputURL)
            let scriptURL = directory.appendingPathComponent("dmarc_oracle.py")
            try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
            let result = try Peers.run(python, [scriptURL.path, inputURL.path], timeout: 120)
            try #require(result.status == 0, "the checkdmarc script failed: \(result.stderr)")
            return try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
        }
        try #require(theirs.records.count == records.count && theirs.domains.count == domains.count)

        var compared = 0
        var excluded: [String: Int] = [:]
        var mismatches: [String] = []
        for (record, their) in zip(records, theirs.records) {
            if let why = record.exclusion {
                excluded[why, default: 0] += 1
                continue
            }
            compared += 1
            let ours = try? DMARCRecord(record.text)
            switch (ours, their.ok) {
            case (nil, false): continue
            case (let ours?, true):
                let mine = [
                    ours.policy.rawValue, (ours.subdomainPolicy ?? ours.policy).rawValue, ours.dkimAlignment.rawValue,
                    ours.spfAlignment.rawValue,
                ]
                let other = [their.p, their.sp, their.adkim, their.aspf].map { $0 ?? "" }
                if mine != other {
                    mismatches.append("\(record.text.debugDescription): ours \(mine), checkdmarc \(other)")
                }
            case (let ours, _):
                mismatches.append(
                    "\(record.text.debugDescription): ours \(ours == nil ? "invalid" : "valid"), checkdmarc \(their.error ?? "valid")"
                )
            }
        }
        #expect(compared >= 200, "only \(compared) records compared; excluded: \(excluded)")

        let suffixes = PublicSuffixList.embedded
        for (domain, base) in zip(domains, theirs.domains) {
            let mine = suffixes.organizationalDomain(of: domain)
            // get_base_domain keeps a trailing dot and the case it was given for public suffixes.
            let other = base.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            if mine != other {
                mismatches.append("organizational domain of \(domain): ours \(mine), checkdmarc \(base)")
            }
        }
        // Relaxed alignment is "same organizational domain": pairs of the generated domains.
        let verifier = DMARCVerifier(dns: FakeAuthDNS([:]))
        var aligned = 0
        for i in stride(from: 0, to: domains.count - 1, by: 2) {
            let from = DMARCVerifier.normalizedForTest(domains[i + 1])
            let theirs =
                theirs.domains[i].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
                == theirs.domains[i + 1].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            let ours = verifier.aligns(domains[i], from, .relaxed)
            if ours { aligned += 1 }
            if ours != theirs {
                mismatches.append(
                    "relaxed alignment of \(domains[i]) with \(domains[i + 1]): ours \(ours), checkdmarc \(theirs)")
            }
        }
        #expect(aligned > 0, "no generated pair aligns; the generator has drifted")
        #expect(
            mismatches.isEmpty,
            "\(mismatches.count) disagreements with checkdmarc:\n\(mismatches.joined(separator: "\n"))")
    }
}

extension DMARCVerifier {
    /// The From domain as `evaluate` passes it to `aligns` (lower case, no trailing dot).
    static func normalizedForTest(_ domain: String) -> String {
        var d = domain.lowercased()
        while d.hasSuffix(".") { d.removeLast() }
        return d
    }
}
