import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A program the tests start and stop by PID. Spawned with posix_spawn and an empty signal mask:
/// the test process blocks most signals on its threads, and a child inheriting that mask (as
/// with Foundation's `Process`) ignores SIGTERM — NSD does not reset it. Its end is seen by
/// `waitpid`. Foundation sees it by a socket pair closing, and a process started at the same
/// moment elsewhere can inherit that socket and hold it open: a program that has ended then
/// looks alive while the other one runs (swift-corelibs-foundation issue 4795).
public final class ChildProcess: Sendable {
    public let path: String
    public let pid: pid_t
    /// How it ended, once reaped: its exit code, or 128 + the signal that ended it.
    private let ended = Mutex<Int32?>(nil)

    /// `stdin`, `stdout` and `stderr` are files; output is appended, so both may name one file.
    public init(_ path: String, _ arguments: [String], stdin: String = "/dev/null", stdout: String = "/dev/null", stderr: String) throws {
        self.path = path
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // Nothing else of ours: a daemon holding a pipe of the test runner open would keep
        // whoever reads it (swift test, CI) waiting after the tests end.
        // (glibc 2.34 has it; Swift's Glibc module does not declare it.)
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(closeFrom, to: CloseFrom.self)(&actions, 3)
        }

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw PeerError("cannot start \(path): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Still running (reaps it if it has exited).
    public func isRunning() -> Bool {
        reap(blocking: false) == nil
    }

    /// Its exit code, or 128 + the signal that ended it; nil while it runs.
    public var status: Int32? { ended.withLock { $0 } }

    @discardableResult
    private func reap(blocking: Bool) -> Int32? {
        ended.withLock { ended in
            if ended != nil { return ended }
            var status: Int32 = 0
            let rc = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            guard rc != 0 else { return nil }
            // -1: reaped elsewhere; how it ended is not known.
            ended = rc < 0 ? 255 : (status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + status & 0x7f)
            return ended
        }
    }

    /// Waits at most `limit` for it to end; returns how it ended (see ``status``), nil if it runs on.
    public func wait(for limit: Duration) -> Int32? {
        let deadline = ContinuousClock.now + limit
        while isRunning(), ContinuousClock.now < deadline { usleep(10_000) }
        return status
    }

    /// SIGTERM, then SIGKILL after `grace`; always reaped. Returns how it ended (see ``status``).
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) -> Int32 {
        if isRunning() {
            kill(pid, SIGTERM)
            if wait(for: grace) == nil { kill(pid, SIGKILL) }
        }
        return waitUntilExit()
    }

    /// Waits for it to end; returns how it ended (see ``status``).
    @discardableResult
    public func waitUntilExit() -> Int32 {
        reap(blocking: true) ?? 255
    }
}
