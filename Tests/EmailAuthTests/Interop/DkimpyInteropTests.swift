import TestSupport
import EmailAuth
import Foundation
import Testing

/// dkimpy (`pip install dkimpy`) verifies our signatures; its DNS lookups are answered from our
/// key records through `dnsfunc=`, so no resolver is involved.
@Suite("dkimpy verifies our signatures")
struct DkimpyInteropTests {
    static let python = Peers.find("python3")
    static let hasDkimpy: Bool = {
        guard let python else { return false }
        return (try? Peers.run(python, ["-c", "import dkim, nacl"]).status) == 0
    }()

    static let script = """
        import json, sys, dkim
        records = json.loads(sys.argv[1])
        def dnsfunc(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            record = records.get(name.lower().rstrip("."))
            return record.encode() if record else None
        for path in sys.argv[2:]:
            with open(path, "rb") as f:
                message = f.read()
            try:
                ok = dkim.verify(message, dnsfunc=dnsfunc)
            except Exception as e:
                ok = False
            print(path.rsplit("/", 1)[-1], "pass" if ok else "fail")
        """

    @Test(
        "RSA and Ed25519 signatures pass, altered messages fail",
        .enabled(
            if: Peers.shouldRun(hasDkimpy),
            "python3 with dkimpy and PyNaCl not found (pip install dkimpy pynacl); skipped")
    )
    func verify() async throws {
        try await blocking {
            let python = try #require(Self.python, "CI=true but python3 is not on PATH")
            try #require(
                Self.hasDkimpy,
                "CI=true but the python3 on PATH cannot `import dkim, nacl`: pip install dkimpy pynacl (PyNaCl is what dkimpy verifies Ed25519 with)"
            )
            let fixture = InteropFixture.shared
            let directory = try Scratch.folder("dkimpy")
            defer { try? FileManager.default.removeItem(at: directory) }

            var records: [String: String] = [:]
            for algorithm in DKIMAlgorithm.allCases {
                var name = DKIMKey.dnsName(domain: InteropFixture.domain, selector: InteropFixture.selector(algorithm))
                name.removeLast()
                records[name] = fixture.key(algorithm).dnsRecord
            }
            let scriptURL = directory.appendingPathComponent("verify.py")
            try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
            var paths: [String] = []
            for testCase in fixture.cases {
                let url = directory.appendingPathComponent(testCase.name)
                try Data(testCase.message).write(to: url)
                paths.append(url.path)
            }
            let recordsJSON = String(decoding: try JSONSerialization.data(withJSONObject: records), as: UTF8.self)
            let result = try Peers.run(python, [scriptURL.path, recordsJSON] + paths)
            #expect(result.status == 0, "dkimpy script failed: \(result.stderr)")

            var verdicts: [String: String] = [:]
            for line in result.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2 { verdicts[String(parts[0])] = String(parts[1]) }
            }
            for testCase in fixture.cases {
                #expect(verdicts[testCase.name] == (testCase.shouldVerify ? "pass" : "fail"), "dkimpy, \(testCase.name)")
            }
        }
    }
}
