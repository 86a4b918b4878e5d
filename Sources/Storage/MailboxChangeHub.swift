import Synchronization

/// Who wants to hear about changes to which mailbox: IMAP sessions (selected or idling)
/// subscribe; every write that adds, flags or removes messages publishes the mailbox ids after
/// its commit. Callbacks run on the publisher's thread and must only schedule work.
public final class MailboxChangeHub: Sendable {
    public typealias Token = UInt64
    private let subscribers = Mutex<(next: Token, byMailbox: [Int64: [Token: @Sendable () -> Void]])>((1, [:]))

    public init() {}

    public func subscribe(mailbox: Int64, _ callback: @escaping @Sendable () -> Void) -> Token {
        subscribers.withLock { s in
            let token = s.next
            s.next += 1
            s.byMailbox[mailbox, default: [:]][token] = callback
            return token
        }
    }

    public func unsubscribe(mailbox: Int64, token: Token) {
        subscribers.withLock { s in
            s.byMailbox[mailbox]?[token] = nil
            if s.byMailbox[mailbox]?.isEmpty == true { s.byMailbox[mailbox] = nil }
        }
    }

    public func publish(_ mailboxes: Set<Int64>) {
        guard !mailboxes.isEmpty else { return }
        let callbacks = subscribers.withLock { s in mailboxes.flatMap { s.byMailbox[$0].map { Array($0.values) } ?? [] } }
        for c in callbacks { c() }
    }
}
