import Foundation
import Testing
import TestSupport

/// The web console in a real browser: Tests/browser/console_flows.py drives Debian's chromium
/// through an administrator's main tasks (sign in with TOTP, create an account, reset its
/// password, moderate a list post, trace it, retry a queued message) and a user's (change her
/// password, create an app password and use it over IMAP), with no script errors on any page.
/// Authorisation of every page and form is tested in AdminAPITests/ConsoleTests.
struct ConsoleBrowserTests {
    static let python = Peers.find("python3")
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("browser/console_flows.py").path
    static let available: Bool = {
        guard let python, FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        else { return false }
        return (try? Peers.run(python, ["-c", "import selenium"], timeout: 30).status) == 0
    }()

    @Test(.enabled(if: Peers.shouldRun(available), "needs chromium, chromium-driver and python3-selenium"))
    func mainFlowsInABrowser() async throws {
        try await blocking {
            let python = try #require(Self.python, "CI=true but python3 is missing")
            #expect(Self.available, "CI=true but chromium, chromium-driver or selenium is missing")
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let ports = try s.waitForPorts(["SMTP (MX)", "submission", "IMAP"])
            let adminURL = try String(contentsOfFile: s.dataDir + "/admin-url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            #expect(try s.cli(["account", "add", "admin@example.org", "--password", "admin-password-1"]).status == 0)
            #expect(try s.cli(["account", "set", "admin@example.org", "--role", "server-admin"]).status == 0)
            // Kept after a failure (the server's folder is not), for whoever reads it.
            let shots = FileManager.default.temporaryDirectory.appendingPathComponent("mailroom-console-screenshots-\(UUID().uuidString)").path
            let run = try Peers.run(
                python, [Self.script, adminURL, String(ports[0]), String(ports[1]), String(ports[2]), shots], timeout: 300)
            #expect(run.status == 0, "browser flows failed (screenshots in \(shots)):\n\(run.stdout)\n\(run.stderr)\nserver log:\n\(s.log.suffix(3000))")
            #expect(run.stdout.contains("all flows passed"), "\(run.stdout)")
            if run.status == 0 { try? FileManager.default.removeItem(atPath: shots) }
        }
    }
}
