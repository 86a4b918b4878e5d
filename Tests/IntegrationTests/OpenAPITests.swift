import Foundation
import Testing
import TestSupport

/// The API's contract: `/api/v1/openapi.json` is a valid OpenAPI 3.1 document
/// (openapi-spec-validator), and schemathesis, generating requests from it against a live
/// server, finds no 5xx and no response that breaks the document's schemas.
struct OpenAPITests {
    static let python = Peers.find("python3")
    static let schemathesis = Peers.find("st")
    static let available: Bool = {
        guard let python, schemathesis != nil else { return false }
        return (try? Peers.run(python, ["-c", "import openapi_spec_validator"], timeout: 30).status) == 0
    }()

    @Test(.enabled(if: Peers.shouldRun(available), "needs python3 with openapi-spec-validator and schemathesis"))
    func theDocumentIsValidAndTheServerKeepsIt() async throws {
        try await blocking {
            let python = try #require(Self.python, "CI=true but python3 is missing")
            let st = try #require(Self.schemathesis, "CI=true but schemathesis (st) is missing")
            #expect(Self.available, "CI=true but openapi-spec-validator is missing")
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            _ = try s.waitForPorts(["SMTP (MX)"])
            let admin = try String(contentsOfFile: s.dataDir + "/admin-url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let token = try String(contentsOfFile: s.dataDir + "/admin-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            // Something for the generated requests to find.
            for args in [
                ["domain", "add", "example.org"], ["account", "add", "alice@example.org", "--password", "alice-password-1"],
                ["alias", "add", "info@example.org", "alice@example.org"], ["list", "create", "team@example.org"],
            ] {
                #expect(try s.cli(args).status == 0, "\(args)")
            }
            let document = s.root.appendingPathComponent("openapi.json").path
            let fetch = try Peers.run(
                python, ["-c", "import sys, urllib.request; open(sys.argv[2], 'wb').write(urllib.request.urlopen(sys.argv[1]).read())", admin + "/api/v1/openapi.json", document],
                timeout: 30)
            #expect(fetch.status == 0, "\(fetch.stderr)")
            let validated = try Peers.run(
                python, ["-c", "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')", document], timeout: 60)
            #expect(validated.stdout.contains("valid"), "\(validated.stdout)\(validated.stderr)")

            let run = try Peers.run(
                st,
                [
                    "run", admin + "/api/v1/openapi.json", "-H", "Authorization: Bearer \(token)", "-c", "not_a_server_error,response_schema_conformance",
                    "-n", "10", "--phases", "examples,coverage,fuzzing", "--seed", "1", "-w", "1", "--request-timeout", "20",
                ], timeout: 600)
            #expect(run.status == 0, "schemathesis found problems:\n\(run.stdout.suffix(6000))\n\(run.stderr.suffix(2000))")
            #expect(!s.log.contains("admin request failed"), "the server logged an internal error:\n\(s.log.suffix(3000))")
        }
    }
}
