import Foundation
import Testing
import TestSupport

/// The peers tests start must not keep the test runner's files open: a daemon outliving its
/// test while holding a pipe of the runner would keep `swift test` (and CI) waiting.
struct ChildProcessTests {
    @Test func aPeerInheritsOnlyItsStandardFiles() async throws {
        try await blocking {
            // A descriptor of ours without close-on-exec, as a runner's pipe would be.
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            defer { close(fds[0]); close(fds[1]) }
            let folder = try Scratch.folder("child-fds")
            defer { try? FileManager.default.removeItem(at: folder) }
            let listing = folder.appendingPathComponent("fds").path
            let child = try ChildProcess(
                "/bin/sh", ["-c", "ls /proc/$$/fd > \(listing)"], stderr: folder.appendingPathComponent("err").path)
            #expect(Peers.eventually(10) { !child.isRunning() })
            let open = try String(contentsOfFile: listing, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
            #expect(!open.contains(fds[0]) && !open.contains(fds[1]), "the child holds \(open)")
            #expect(open.contains(2))
        }
    }
}
