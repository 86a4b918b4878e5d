import Dispatch
import Filtering
import Foundation
import Logging
import Storage
import Synchronization

/// Teaches each user's junk classifier from what the user does in IMAP: a message moved or
/// copied into Junk (or appended there) is spam, one moved out of Junk is ham. The session
/// only hands over which messages (an in-memory append, no I/O); a ``BackgroundWorker`` reads and
/// tokenizes them and writes the counts, each message in its own transaction, after the
/// client has had its answer. A crash loses at most the training still waiting, never mail.
public final class JunkTrainer: Sendable {
    /// A message to learn from: where it is now, and what the user said it is.
    public struct Lesson: Hashable, Sendable {
        public var accountID: Int64
        public var mailboxID: Int64
        public var uid: Int64
        public var junkClass: JunkClass

        public init(accountID: Int64, mailboxID: Int64, uid: Int64, junkClass: JunkClass) {
            self.accountID = accountID
            self.mailboxID = mailboxID
            self.uid = uid
            self.junkClass = junkClass
        }
    }

    private struct State {
        var lessons: [Lesson] = []
        /// A batch is being learned (taken off `lessons`, not yet written).
        var busy = false
        var learned = 0
    }

    private let store: any JunkStore & MailboxStore
    private let read: @Sendable (String) throws -> [UInt8]
    private let logger: Logger
    private let state = Mutex(State())
    private let worker: Mutex<BackgroundWorker?> = Mutex(nil)
    private let enabled = Atomic<Bool>(true)

    /// `[spam] junk_learning`: off, nothing is learned and no classifier is asked at delivery.
    public var isEnabled: Bool {
        get { enabled.load(ordering: .relaxed) }
        set { enabled.store(newValue, ordering: .relaxed) }
    }
    /// Lessons waiting beyond this are dropped (and logged): a client moving a million
    /// messages must not grow the server's memory without bound.
    static let maximumWaiting = 100_000

    init(
        store: any JunkStore & MailboxStore, read: @escaping @Sendable (String) throws -> [UInt8],
        logger: Logger = Logger(label: "mailroom.junk")
    ) {
        self.store = store
        self.read = read
        self.logger = logger
    }

    func start() {
        let worker = BackgroundWorker(name: "mailroom-junk") { [self] worker in learnWaiting(until: { worker.isStopping }) }
        self.worker.withLock { $0 = worker }
        worker.start()
    }

    /// Finishes the lesson under way and stops the worker; lessons still waiting are lost.
    func stop() { worker.withLock { $0 }?.stop() }

    /// Queues lessons; returns at once.
    public func learn(_ lessons: [Lesson]) {
        guard !lessons.isEmpty, isEnabled else { return }
        let wake = state.withLock { s -> Bool in
            let room = max(0, Self.maximumWaiting - s.lessons.count)
            if room < lessons.count {
                logger.warning(
                    "junk training backlog full; lessons dropped", metadata: ["dropped": "\(lessons.count - room)"])
            }
            s.lessons += lessons.prefix(room)
            return !s.busy
        }
        if wake { worker.withLock { $0 }?.wake() }
    }

    /// Waits until every lesson queued so far is learned (tests, the bench's admin path).
    public func waitUntilIdle(timeout: Duration = .seconds(30)) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.lessons.isEmpty && !$0.busy }) { return }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    /// Messages learned since start.
    public var learnedCount: Int { state.withLock { $0.learned } }

    /// Learns batch after batch until none waits (or the server stops).
    private func learnWaiting(until stopping: () -> Bool) {
        while true {
            let stop = stopping()
            let batch = state.withLock { s -> [Lesson]? in
                guard !stop, !s.lessons.isEmpty else {
                    s.busy = false
                    return nil
                }
                s.busy = true
                defer { s.lessons.removeAll() }
                return s.lessons
            }
            guard let batch else { return }
            for lesson in batch { learnOne(lesson) }
            state.withLock { $0.learned += batch.count }
        }
    }

    /// Learns one message now, on the caller's thread. A message expunged meanwhile is
    /// skipped.
    func learnOne(_ lesson: Lesson) {
        do {
            guard let hash = try store.blobHashes(mailboxID: lesson.mailboxID, uids: [lesson.uid]).first else { return }
            // Already taught this class (a second copy of the same message): skip the reading.
            if try store.junkTraining(accountID: lesson.accountID, blobHash: hash) == lesson.junkClass { return }
            let tokens = JunkTokenizer.tokens(try read(hash))
            try store.trainJunk(accountID: lesson.accountID, blobHash: hash, tokens: tokens, as: lesson.junkClass)
        } catch {
            logger.error(
                "junk training failed for a message; the classifier misses this lesson",
                metadata: [
                    "account": "\(lesson.accountID)", "mailbox": "\(lesson.mailboxID)", "uid": "\(lesson.uid)",
                    "error": "\(error)",
                ])
        }
    }
}

extension LocalDelivery {
    /// The verdict of each of `accounts`' classifiers that has enough training. Blocks on the
    /// store: call it off the event loops.
    public func junkVerdicts(
        for message: [UInt8], accounts: [(id: Int64, address: String)], classifier: JunkClassifier = JunkClassifier()
    ) -> [JunkOpinion] {
        guard !accounts.isEmpty, junkTrainer.isEnabled else { return [] }
        // Tokenizing is most of the cost, and most accounts never train their classifier: look
        // at the totals alone first, and tokenize only for an account that has learned enough.
        let trained = accounts.filter { account in
            guard
                let totals = store.knownJunkTotals(accountID: account.id)
                    ?? (try? store.junkCounts(accountID: account.id, tokens: [])).map({ JunkTotals(ham: $0.hamMessages, spam: $0.spamMessages) })
            else { return false }
            return Self.hasLearnedEnough(totals, classifier)
        }
        guard !trained.isEmpty else { return [] }
        let tokens = JunkTokenizer.tokens(message)
        var opinions: [JunkOpinion] = []
        for account in trained {
            guard let counts = try? store.junkCounts(accountID: account.id, tokens: tokens),
                counts.hamMessages >= classifier.minimumHam, counts.spamMessages >= classifier.minimumSpam
            else { continue }
            let model = JunkModel(
                hamMessages: counts.hamMessages, spamMessages: counts.spamMessages,
                tokens: counts.tokens.mapValues { JunkTokenCounts(ham: $0.ham, spam: $0.spam) })
            guard let verdict = classifier.classify(tokens, model: model) else { continue }
            opinions.append(JunkOpinion(accountID: account.id, account: account.address, verdict: verdict))
        }
        return opinions
    }
}

extension LocalDelivery {
    /// None of `accounts`' classifiers has learned enough to judge a message, and that is known
    /// without reading the store (nor tokenizing): async code may ask this before it sends
    /// ``junkVerdicts(for:accounts:classifier:)`` to the blocking pool. False when it cannot
    /// tell.
    public func knownUntrained(_ accounts: [(id: Int64, address: String)], classifier: JunkClassifier = JunkClassifier()) -> Bool {
        guard junkTrainer.isEnabled else { return true }
        return accounts.allSatisfy { account in
            store.knownJunkTotals(accountID: account.id).map { !Self.hasLearnedEnough($0, classifier) } ?? false
        }
    }

    static func hasLearnedEnough(_ totals: JunkTotals, _ classifier: JunkClassifier) -> Bool {
        totals.ham >= classifier.minimumHam && totals.spam >= classifier.minimumSpam
    }
}

/// What one recipient's junk classifier makes of a message.
public struct JunkOpinion: Sendable {
    public var accountID: Int64
    public var account: String
    public var verdict: JunkVerdict
}
