import NIOCore

/// Runs `body`, giving up after `timeout`: its result, or nil when the time ran out first (the
/// body is then cancelled). For exchanges with peers that may stop answering (rspamd, clamd,
/// ACME servers). The exchange's `channel` is closed when the time runs out: a body waiting on
/// a write the peer never reads, or on a read, ends then even where cancellation alone would
/// not reach it, and the task group (which waits for every child) can return.
public func withDeadline<T: Sendable>(
    _ timeout: TimeAmount, closing channel: (any Channel)? = nil, _ body: @escaping @Sendable () async throws -> T
) async throws -> T? {
    let deadline = NIODeadline.now() + timeout
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(max(0, (deadline - .now()).nanoseconds)))
            channel?.close(promise: nil)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
