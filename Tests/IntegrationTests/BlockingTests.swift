import TestSupport
import Testing

/// The integration tests' blocking code runs on threads of its own and still reports to them.
struct BlockingTests {
    @Test func blockingCodeRunsOffTheSharedPoolAndReportsToItsTest() async throws {
        #expect(!ThreadPerJobExecutor.isCurrent)
        #expect(try await blocking { ThreadPerJobExecutor.isCurrent })
        // withKnownIssue fails the test unless the expectation inside is recorded against it.
        await withKnownIssue {
            try await blocking { #expect(Bool(false), "recorded against this test") }
        }
        #expect(!ThreadPerJobExecutor.isCurrent, "back on the shared pool afterwards")
    }
}
