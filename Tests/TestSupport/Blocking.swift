import Foundation

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
