import Synchronization

/// A value per account as last read through this store, for what every message received asks
/// and what seldom changes: the junk totals (whether the recipients' classifiers have learned
/// enough; most never do) and the active Sieve script (most accounts have none). Answered from
/// here, that costs no read transaction on the delivery's path.
///
/// Writes forget the account's entry after they commit and move the generation on; a read
/// only keeps what it found if no write committed since it began, so an entry is never older
/// than the database. Every write of what is kept goes through this store (the admin API,
/// ManageSieve and the CLI all reach the server's); account ids are never reused.
final class AccountCache<Value: Sendable>: Sendable {
    private let state = Mutex<(generation: UInt64, values: [Int64: Value])>((0, [:]))

    func known(_ accountID: Int64) -> Value? { state.withLock { $0.values[accountID] } }

    /// Taken before a read, for ``remember(_:for:readSince:)``.
    var generation: UInt64 { state.withLock { $0.generation } }

    func remember(_ value: Value, for accountID: Int64, readSince generation: UInt64) {
        state.withLock { s in
            if s.generation == generation { s.values[accountID] = value }
        }
    }

    /// After a write to the account's counts committed.
    func forget(_ accountID: Int64) {
        state.withLock { s in
            s.generation &+= 1
            s.values[accountID] = nil
        }
    }
}
