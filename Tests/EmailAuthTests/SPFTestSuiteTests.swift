import EmailAuth
import Foundation
import TestSupport
import Testing

/// The OpenSPF RFC 7208 test suite (`Fixtures/rfc7208-tests.yml`, from pyspf 2.0.14), run
/// against ``SPFVerifier``: each scenario's zone data becomes an ``FakeAuthDNS``. python3 with
/// PyYAML turns the YAML into JSON at test time (`pip install pyyaml`).
///
/// The zone follows the conventions of the suite's own driver (pyspf `test/testspf.py`): a name
/// with SPF-type records but no TXT records gets them as TXT; `TXT: NONE` means no TXT records;
/// `TIMEOUT` is a temporary failure for any query not already answered; a missing name under
/// `error.` times out; a query name with a label over 63 characters is a temporary failure.
@Suite("OpenSPF RFC 7208 test suite")
struct SPFTestSuiteTests {
    static let python = Peers.find("python3")
    static let hasYAML: Bool = {
        guard let python else { return false }
        return (try? Peers.run(python, ["-c", "import yaml"]).status) == 0
    }()

    /// Scenarios not run, and why. Empty: every scenario runs.
    static let skipped: [String: String] = [:]

    /// Scenarios whose explanation is compared ignoring case, and why.
    static let explanationIgnoringCase: [String: String] = [
        // The suite expects %{ir} of CAFE:BABE::1 as "…E.B.A.B.E.F.A.C", the case of the client
        // address as the test wrote it, next to %{c} in lower case; we write nibbles in lower
        // case, as RFC 7208 §7.4's example does. DNS names are case-insensitive.
        "v-macro-ip6": "nibbles of %{i} in lower case"
    ]

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rfc7208-tests.yml")

    static let converter = """
        import json, sys, yaml
        out = []
        for doc in yaml.safe_load_all(open(sys.argv[1], encoding="utf-8")):
            zone = {}
            for name, records in (doc.get("zonedata") or {}).items():
                rows, spf, has_txt = [], [], False
                for r in records:
                    if r == "TIMEOUT":
                        rows.append(["TIMEOUT", ""])
                        continue
                    for t, v in r.items():
                        if t in ("TXT", "SPF"):
                            v = "".join(v) if isinstance(v, list) else v
                            if t == "TXT":
                                has_txt = True
                            if v == "NONE":
                                continue
                            if t == "SPF":
                                spf.append(["TXT", v])
                                continue
                        elif t == "MX":
                            v = v[1]
                        rows.append([t, str(v)])
                zone[name.lower()] = rows + ([] if has_txt else spf)
            tests = {}
            for name, t in doc["tests"].items():
                result = t["result"] if isinstance(t["result"], list) else [t["result"]]
                tests[name] = {"helo": t["helo"], "host": t["host"], "mailfrom": t["mailfrom"],
                               "result": result, "explanation": t.get("explanation"), "spec": str(t.get("spec", ""))}
            out.append({"description": doc["description"], "zone": zone, "tests": tests})
        json.dump(out, sys.stdout)
        """

    struct Scenario: Decodable {
        var description: String
        var zone: [String: [[String]]]
        var tests: [String: Case]
    }

    struct Case: Decodable {
        var helo: String
        var host: String
        var mailfrom: String
        var result: [String]
        var explanation: String?
        var spec: String
    }

    static func dns(_ zone: [String: [[String]]]) -> FakeAuthDNS {
        FakeAuthDNS(
            zone.mapValues { rows in
                rows.compactMap { row -> FakeAuthDNS.Record? in
                    switch row[0] {
                    case "TXT": .txt(row[1])
                    case "A": .a(row[1])
                    case "AAAA": .aaaa(row[1])
                    case "MX": .mx(row[1])
                    case "PTR": .ptr(row[1])
                    case "CNAME": .cname(row[1])
                    case "TIMEOUT": .timeout
                    default: nil
                    }
                }
            }, suiteConventions: true)
    }

    @Test(
        "every scenario gives the expected result and explanation",
        .enabled(if: Peers.shouldRun(hasYAML), "python3 with PyYAML not found (pip install pyyaml); skipped"))
    func suite() async throws {
        let python = try #require(Self.python, "CI=true but python3 is not on PATH")
        try #require(Self.hasYAML, "CI=true but the python3 on PATH cannot `import yaml`: pip install pyyaml")
        let converted = try await blocking { try Peers.run(python, ["-c", Self.converter, Self.fixture.path]) }
        try #require(converted.status == 0, "converting the YAML failed: \(converted.stderr)")
        let scenarios = try JSONDecoder().decode([Scenario].self, from: Data(converted.stdout.utf8))
        var ran = 0
        for scenario in scenarios {
            let verifier = SPFVerifier(dns: Self.dns(scenario.zone))
            for (name, c) in scenario.tests.sorted(by: { $0.key < $1.key }) where Self.skipped[name] == nil {
                ran += 1
                guard let ip = SPFAddress(c.host) else {
                    Issue.record("\(name): the host \(c.host) does not parse")
                    continue
                }
                let outcome = await verifier.verify(ip: ip, mailFrom: c.mailfrom, helo: c.helo)
                if !c.result.contains(outcome.result.rawValue) {
                    Issue.record(
                        "\(name) (\(scenario.description), RFC 7208 §\(c.spec)): expected \(c.result.joined(separator: " or ")), got \(outcome)"
                    )
                } else if let explanation = c.explanation, explanation != "DEFAULT", outcome.result == .fail,
                    outcome.explanation != explanation,
                    Self.explanationIgnoringCase[name] == nil
                        || outcome.explanation?.lowercased() != explanation.lowercased()
                {
                    Issue.record(
                        "\(name): expected the explanation \"\(explanation)\", got \(outcome.explanation.map { "\"\($0)\"" } ?? "none")"
                    )
                }
            }
        }
        #expect(ran + Self.skipped.count == scenarios.reduce(0) { $0 + $1.tests.count })
        #expect(ran >= 200)
    }
}
