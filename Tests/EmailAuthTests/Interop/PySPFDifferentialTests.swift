import EmailAuth
import Foundation
import TestSupport
import Testing

/// Differential test: our ``SPFVerifier`` and pyspf 2.0.14 (`pip install pyspf`, the reference
/// implementation the OpenSPF suite comes with) on the same generated records and senders.
/// pyspf's DNS is replaced (`spf.DNSLookup`, as its own test driver does) by the generated zone,
/// which `FakeAuthDNS` serves to us; both must give the same result word for every case.
@Suite("SPF: our verifier against pyspf")
struct PySPFDifferentialTests {
    static let hasPySPF: Bool = {
        guard let python = DkimpyInteropTests.python else { return false }
        return (try? Peers.run(python, ["-c", "import spf"]).status) == 0
    }()

    static let seed: UInt64 = 0x5EED_2026_0001
    static let count = 300

    /// Where pyspf departs from RFC 7208 and we follow the RFC: such cases are excluded, with
    /// the reason.
    ///
    /// - A record that names its own domain in `include:` ("v=spf1 ip4:192.0.2.1 include:
    ///   example.org -all" at example.org) is a permerror in pyspf before anything is evaluated
    ///   ("include has trivial recursion"). RFC 7208 has no such syntax rule: §4.6 evaluates
    ///   mechanisms left to right and stops at the first match, and a loop is caught by the
    ///   lookup limit of §4.6.4 only when the include is reached. So when an earlier mechanism
    ///   matches we give its result and pyspf permerror.
    ///
    /// - Void lookups (§4.6.4) limit "terms" whose DNS queries find nothing. An `mx` term whose
    ///   MX query found names is not void for us, however many of those names lack an address of
    ///   the client's family; pyspf counts every empty address lookup of the MX names as a void
    ///   lookup, so a third one is its permerror. Both readings exist; we follow the RFC's
    ///   wording ("terms"). The cases (ids of this seed) where that decides the result:
    static let voidMXCases: Set<Int> = [179, 266]

    static func exclusion(_ c: SPFCaseGenerator.Case) -> String? {
        if c.includesItself { return "pyspf: include of the record's own domain is a permerror before evaluation" }
        if voidMXCases.contains(c.id) { return "pyspf counts empty address lookups of MX names as void lookups" }
        return nil
    }

    /// Reads {"zone": {name: [[type, value…]]}, "cases": [[id, ip, mailfrom, helo]]}, prints
    /// "id result" per case.
    static let script = #"""
        import json, socket, sys, spf
        data = json.load(open(sys.argv[1]))
        zone = {k.lower(): v for k, v in data["zone"].items()}
        def DNSLookup(name, qtype, strict=True, timeout=None, level=0):
            labels = [l for l in name.split(".") if l]
            name = ".".join(labels).lower()
            records = zone.get(name)
            if records is None:
                return []
            out = []
            for r in records:
                if r[0] == "TIMEOUT":
                    raise spf.TempError("DNS timeout")
                if r[0] != qtype:
                    continue
                if qtype == "AAAA":
                    v = bytes(socket.inet_pton(socket.AF_INET6, r[1]))
                elif qtype == "TXT":
                    v = (r[1].encode(),)
                elif qtype == "MX":
                    v = (int(r[1]), r[2])
                else:
                    v = r[1]
                out.append(((name, qtype), v))
            return out
        spf.DNSLookup = DNSLookup
        for cid, ip, mailfrom, helo in data["cases"]:
            try:
                result = spf.query(i=ip, s=mailfrom, h=helo, strict=True).check()[0]
            except Exception as e:
                result = "exception:" + type(e).__name__
            print(cid, result)
        """#

    @Test(
        "at least 200 generated record/sender cases give the same result",
        .enabled(if: Peers.shouldRun(hasPySPF), "python3 with pyspf not found (pip install pyspf dnspython); skipped")
    )
    func sameResults() async throws {
        let generator = SPFCaseGenerator(seed: Self.seed, count: Self.count)
        let theirs = try await blocking { () throws -> [Int: String] in
            let python = try #require(DkimpyInteropTests.python, "CI=true but python3 is not on PATH")
            try #require(Self.hasPySPF, "CI=true but python3 cannot `import spf`: pip install pyspf dnspython")
            let directory = try Scratch.folder("pyspf")
            defer { try? FileManager.default.removeItem(at: directory) }
            let input: [String: Any] = [
                "zone": generator.zone,
                "cases": generator.cases.map { [$0.id, $0.ip, $0.mailFrom, $0.helo] as [Any] },
            ]
            let inputURL = directory.appendingPathComponent("cases.json")
            try JSONSerialization.data(withJSONObject: input).write(to: inputURL)
            let scriptURL = directory.appendingPathComponent("pyspf.py")
            try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
            let result = try Peers.run(python, [scriptURL.path, inputURL.path], timeout: 120)
            try #require(result.status == 0, "the pyspf script failed: \(result.stderr)")
            var results: [Int: String] = [:]
            for line in result.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let id = Int(parts[0]) { results[id] = String(parts[1]) }
            }
            return results
        }

        let verifier = SPFVerifier(dns: generator.fakeDNS, receiver: "mx.mailroom.test")
        var compared = 0
        var tally: [String: Int] = [:]
        var mismatches: [String] = []
        var excluded = 0
        for c in generator.cases {
            if Self.exclusion(c) != nil {
                excluded += 1
                continue
            }
            let ours = await verifier.verify(ip: try #require(SPFAddress(c.ip)), mailFrom: c.mailFrom, helo: c.helo)
            let their = theirs[c.id] ?? "missing"
            compared += 1
            tally[ours.result.rawValue, default: 0] += 1
            if ours.result.rawValue != their {
                mismatches.append("\(c)\n  ours: \(ours.result) (\(ours.reason))\n  pyspf: \(their)")
            }
        }
        #expect(compared >= 200, "only \(compared) cases compared, \(excluded) excluded")
        // The mix must exercise every result, or the generator has drifted.
        for word in ["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"] {
            #expect(tally[word, default: 0] > 0, "no case gave \(word): \(tally)")
        }
        #expect(
            mismatches.isEmpty,
            "\(mismatches.count) of \(compared) cases differ:\n\(mismatches.joined(separator: "\n\n"))")
    }
}
