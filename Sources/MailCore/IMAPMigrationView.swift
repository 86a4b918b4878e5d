import Foundation

/// A migration job: progress while it runs, the report when it is done.
public struct IMAPMigrationView: Codable, Sendable, Hashable {
    public struct Failure: Codable, Sendable, Hashable {
        /// The message's UID on the other server.
        public var uid: Int64
        public var reason: String
        public init(uid: Int64, reason: String) {
            self.uid = uid
            self.reason = reason
        }
    }

    /// How a folder here compares with the source's, after a `final` pass.
    public struct Comparison: Codable, Sendable, Hashable {
        /// Messages the source folder holds now, and their bytes (RFC822.SIZE).
        public var sourceCount: Int
        public var sourceBytes: Int64
        /// Of those, how many are here (copied, or found here already), and the bytes of ours.
        public var here: Int
        public var hereBytes: Int64
        /// Source UIDs with no message here (the first 100).
        public var missing: [Int64]
        /// Copies whose flags differ from the source's after its changes were brought: flags
        /// were also changed here (kept). Not a mismatch.
        public var flagsDiffer: Int
        /// Copies of another size than the source's message.
        public var sizeDiffers: Int

        public init() {
            sourceCount = 0
            sourceBytes = 0
            here = 0
            hereBytes = 0
            missing = []
            flagsDiffer = 0
            sizeDiffers = 0
        }

        /// Every source message is here, of its size.
        public var matches: Bool { here == sourceCount && sizeDiffers == 0 }
    }

    public struct Folder: Codable, Sendable, Hashable {
        /// The name on the other server (decoded from modified UTF-7), with its delimiter.
        public var source: String
        /// Our folder; empty when excluded.
        public var target: String
        /// Why it is not copied (an --exclude pattern, \Noselect); nil when it is.
        public var excluded: String?
        /// Messages in the source folder.
        public var sourceCount: Int
        /// Messages above the UID copied last time (all, the first time).
        public var newMessages: Int
        public var newBytes: Int64
        public var copied: Int
        /// Already here (same bytes, or same Message-ID and size): not copied again.
        public var skipped: Int
        public var failed: Int
        public var failures: [Failure]
        /// Copies here whose flags were changed to follow the source's since the last run.
        public var flagsChanged: Int
        /// Copies removed here because their message was deleted on the source.
        public var expunged: Int
        /// Set by a `final` pass.
        public var comparison: Comparison?
        /// Set when the folder could not be read at all (or the connection broke in it).
        public var error: String?
        public var uidValidity: Int64?
        /// The UIDVALIDITY changed since the last run: everything was compared again.
        public var uidValidityChanged: Bool

        public init(source: String, target: String, excluded: String? = nil) {
            self.source = source
            self.target = target
            self.excluded = excluded
            self.sourceCount = 0
            self.newMessages = 0
            self.newBytes = 0
            self.copied = 0
            self.skipped = 0
            self.failed = 0
            self.failures = []
            self.flagsChanged = 0
            self.expunged = 0
            self.uidValidityChanged = false
        }
    }

    public struct Account: Codable, Sendable, Hashable {
        public var login: String
        public var address: String
        /// waiting, running, done, failed
        public var state: String
        /// Why the account could not be copied (login refused, no such account here).
        public var error: String?
        public var folders: [Folder]
        /// Folders looked at so far, of `folders.count`.
        public var foldersDone: Int
        public var messagesTotal: Int
        public var messagesDone: Int
        public var bytesTotal: Int64
        public var bytesDone: Int64
        public var startedAt: Date?
        public var finishedAt: Date?
        /// Seconds from start to end (or until now, while it runs).
        public var seconds: Double

        public init(login: String, address: String) {
            self.login = login
            self.address = address
            self.state = "waiting"
            self.folders = []
            self.foldersDone = 0
            self.messagesTotal = 0
            self.messagesDone = 0
            self.bytesTotal = 0
            self.bytesDone = 0
            self.seconds = 0
        }

        /// Whether anything failed: the account, a folder, a message, or a final comparison.
        public var hasFailures: Bool {
            error != nil || folders.contains { $0.error != nil || $0.failed > 0 || $0.comparison?.matches == false }
        }
    }

    public var id: String
    /// running, done
    public var state: String
    public var source: String
    public var dryRun: Bool
    /// A final pass (folders compared with the source).
    public var final: Bool?
    public var startedAt: Date
    public var finishedAt: Date?
    public var accounts: [Account]

    public init(id: String, source: String, dryRun: Bool, final: Bool = false, startedAt: Date, accounts: [Account]) {
        self.id = id
        self.state = "running"
        self.source = source
        self.dryRun = dryRun
        self.final = final ? true : nil
        self.startedAt = startedAt
        self.accounts = accounts
    }

    public var hasFailures: Bool { accounts.contains(where: \.hasFailures) }
}
