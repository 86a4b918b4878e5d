import Directory
import Foundation
import MailCore
import Storage

/// The messages a folder holds, as `mailroom migrate imap` recognises a message copied
/// before: by its bytes' SHA-256, or by its Message-ID and size. Each is remembered with its
/// UID here and whether a migration copied it.
public struct KnownMessages: Sendable {
    public struct Key: Sendable, Hashable {
        var hash: String
        var messageID: String?
        var size: Int64
    }
    /// Our message a key matched.
    public struct Match: Sendable, Hashable {
        public var uid: Int64
        /// A migration copied it (it did not arrive here directly).
        public var owned: Bool
        public init(uid: Int64, owned: Bool) {
            self.uid = uid
            self.owned = owned
        }
    }
    private var hashes: [String: Match] = [:]
    private var idsAndSizes: [String: Match] = [:]

    public init(_ stored: [StoredMessageKey]) {
        for s in stored {
            insert(Key(hash: s.blobHash, messageID: s.messageID, size: s.size), Match(uid: s.uid, owned: s.owned))
        }
    }

    public func match(_ k: Key) -> Match? {
        hashes[k.hash] ?? k.messageID.flatMap { idsAndSizes["\($0) \(k.size)"] }
    }

    public func contains(_ k: Key) -> Bool { match(k) != nil }

    /// Remembers a message; a message a migration copied wins over one that arrived directly.
    public mutating func insert(_ k: Key, _ m: Match) {
        if hashes[k.hash]?.owned != true { hashes[k.hash] = m }
        if let id = k.messageID, idsAndSizes["\(id) \(k.size)"]?.owned != true { idsAndSizes["\(id) \(k.size)"] = m }
    }
}

extension LocalDelivery {
    public enum ImportOutcome: Sendable, Hashable {
        case copied(uid: Int64)
        /// The folder holds it already, as `uid` (`owned`: an earlier migration copied it).
        case alreadyThere(uid: Int64, owned: Bool)
    }

    /// Adds a message copied from another server to a folder as IMAP APPEND does (the same
    /// storage path), unless `known` says the folder holds it already. The message's `origin`
    /// is recorded with it, or with the message found here. Returns what it did and the
    /// message's key for `known`. Blocks: call it off the async executors.
    public func importMessage(
        _ data: [UInt8], to mailboxID: Int64, accountID: Int64, address: String, flags: [String], internalDate: Date,
        known: KnownMessages, origin: IMAPMigrationOrigin? = nil
    ) throws -> (ImportOutcome, KnownMessages.Key) {
        let key = KnownMessages.Key(
            hash: BlobStore.hash(data), messageID: HeaderSummary(data).messageID, size: Int64(data.count))
        if let found = known.match(key) {
            if let origin {
                try store.linkIMAPMigration(origin, mailboxID: mailboxID, uid: found.uid, owned: found.owned)
            }
            return (.alreadyThere(uid: found.uid, owned: found.owned), key)
        }
        // The quota as the administrator set it now: it may change during a long migration.
        let quota = (try? EmailAddress(address)).flatMap { directory.snapshot.account($0)?.quotaBytes } ?? 0
        let (_, uid) = try append(
            data, to: mailboxID, accountID: accountID, quota: quota, flags: flags, internalDate: internalDate,
            origin: origin)
        // Read back what was stored and compare its SHA-256 with the source's bytes: a
        // migration reports a message as copied only when the copy is byte for byte the same.
        let stored = try readBlob(key.hash)
        guard BlobStore.hash(stored) == key.hash else { throw MigrationMismatch(hash: key.hash) }
        return (.copied(uid: uid), key)
    }
}

/// A copied message read back with other bytes than the source sent.
public struct MigrationMismatch: Error, CustomStringConvertible {
    public let hash: String
    public var description: String { "the stored copy's SHA-256 differs from the source's (\(hash.prefix(12))…)" }
}
