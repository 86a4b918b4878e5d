import Foundation
import Testing

/// Runs blocking test code (child processes, sockets read to the end, sleeps) on a thread of its
/// own instead of one of the few threads all async tests share. With two cores the shared pool
/// has two threads, and two blocking integration tests held both for ~20 s at the start of a
/// full run, so every async test's waits ran out of time without running.
///
/// The body runs in the calling task, under a task-executor preference, so `#expect` and
/// `Issue.record` still report to the test that called it (a plain Dispatch queue would lose
/// the test's task-local context).
public func blocking<T>(_ body: () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try body() }
}

/// Runs each test it marks (every test, on a suite) wholly as ``blocking`` code, awaits and all:
/// for tests that start and stop peers (Postfix, Pebble) synchronously between their awaits.
/// On the shared pool each such start or stop held one of its two threads for seconds; other
/// tests, and the test's own time limit, waited (a Postfix test took 216 s under a 1-minute limit).
public struct OffTheSharedPool: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // Called for the suite too (without a test case): its tests get their own scope.
        guard testCase != nil else { return try await function() }
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await function() }
    }
}

extension Trait where Self == OffTheSharedPool {
    /// See ``OffTheSharedPool``.
    public static var offTheSharedPool: Self { Self() }
}

/// Each job gets a fresh thread: the jobs are the stretches of a blocking test between its
/// awaits, few and long, so a thread's start-up cost does not matter.
public final class ThreadPerJobExecutor: TaskExecutor {
    public static let shared = ThreadPerJobExecutor()

    /// True on the threads this executor starts (for the test that checks blocking code runs there).
    public static var isCurrent: Bool { Thread.current.threadDictionary[marker] != nil }
    private static let marker = "mailroom.tests.blocking"

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let thread = Thread {
            Thread.current.threadDictionary[Self.marker] = true
            job.runSynchronously(on: executor)
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
