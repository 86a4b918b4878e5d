import Synchronization

/// What changed in a mailbox since a MODSEQ: the answer every session on the mailbox asks for
/// when it is told of a change.
public struct MailboxChanges: Sendable {
    public var changed: [MessageState]
    public var expunged: [Int64]
    public var mailbox: MailboxRecord?
}

/// Who wants to hear about changes to which mailbox: IMAP sessions (selected or idling)
/// subscribe; every write that adds, flags or removes messages publishes the mailbox ids after
/// its commit. Callbacks run on the publisher's thread and must only schedule work.
///
/// The hub also keeps the last `MailboxChanges` read for each watched mailbox, so that the
/// sessions woken by one delivery share one read instead of each making its own (5,000 IDLE
/// sessions on one mailbox made 5,000 identical queries). An answer is kept with the mailbox's
/// generation, read before the query; every publish moves the generation on, so an answer is
/// only handed out while nothing has been published for its mailbox since it was read.
public final class MailboxChangeHub: Sendable {
    public typealias Token = UInt64

    private struct Cached {
        var since: Int64
        var generation: UInt64
        var changes: MailboxChanges
    }

    private struct State {
        var next: Token = 1
        var byMailbox: [Int64: [Token: @Sendable () -> Void]] = [:]
        /// Generations of watched mailboxes only; values come from one clock and never repeat,
        /// so a mailbox watched again does not meet an answer from before.
        var clock: UInt64 = 0
        var generation: [Int64: UInt64] = [:]
        var cached: [Int64: Cached] = [:]

        mutating func advance(_ mailbox: Int64) {
            guard generation[mailbox] != nil else { return }
            clock += 1
            generation[mailbox] = clock
            cached[mailbox] = nil
        }
    }

    private let state = Mutex(State())

    public init() {}

    public func subscribe(mailbox: Int64, _ callback: @escaping @Sendable () -> Void) -> Token {
        state.withLock { s in
            let token = s.next
            s.next += 1
            if s.generation[mailbox] == nil {
                s.clock += 1
                s.generation[mailbox] = s.clock
            }
            s.byMailbox[mailbox, default: [:]][token] = callback
            return token
        }
    }

    public func unsubscribe(mailbox: Int64, token: Token) {
        state.withLock { s in
            s.byMailbox[mailbox]?[token] = nil
            if s.byMailbox[mailbox]?.isEmpty == true {
                s.byMailbox[mailbox] = nil
                s.generation[mailbox] = nil
                s.cached[mailbox] = nil
            }
        }
    }

    /// Call after the commit that changed the mailboxes.
    public func publish(_ mailboxes: Set<Int64>) {
        guard !mailboxes.isEmpty else { return }
        let callbacks = state.withLock { s in
            mailboxes.flatMap { m in
                s.advance(m)
                return s.byMailbox[m].map { Array($0.values) } ?? []
            }
        }
        for c in callbacks { c() }
    }

    /// Drops what is kept for a mailbox without waking anyone: for changes that sessions do
    /// not need to hear of at once (which messages have been shown as \Recent).
    public func invalidate(_ mailbox: Int64) {
        state.withLock { $0.advance(mailbox) }
    }

    /// The mailbox's changes since `modseq`, from the last read when nothing was published
    /// for it since; otherwise `read()`'s, kept for the next asker.
    func changes(mailbox: Int64, since modseq: Int64, read: () throws -> MailboxChanges) rethrows -> MailboxChanges {
        let (kept, generation): (MailboxChanges?, UInt64?) = state.withLock { s in
            guard let g = s.generation[mailbox] else { return (nil, nil) }
            if let c = s.cached[mailbox], c.generation == g, c.since == modseq { return (c.changes, g) }
            return (nil, g)
        }
        if let kept { return kept }
        let fresh = try read()
        if let generation {
            state.withLock { s in
                if s.generation[mailbox] == generation { s.cached[mailbox] = Cached(since: modseq, generation: generation, changes: fresh) }
            }
        }
        return fresh
    }
}
