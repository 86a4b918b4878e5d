import NIOCore

/// Runs the jobs of the tasks that prefer it on one event loop.
///
/// A connection's handler starts async work (the inbound checks, a delivery's wait for its
/// commit) as a task. On the cooperative pool, every such task cost two thread wake-ups on the
/// path to the reply: the loop handing the work to a pool thread, and the pool thread handing
/// the result back. Started with this as its executor preference, the task runs on the
/// connection's own loop, between its I/O, and only work that blocks (storage, on the blocking
/// pool) leaves it. Nothing the task runs may block; what does goes to `BlockingPool`, as it
/// must on the cooperative pool too.
public final class LoopExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) { self.loop = loop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
