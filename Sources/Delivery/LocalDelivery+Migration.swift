import Directory
import Foundation
import MailCore
import Storage

/// The messages a folder holds, as `mailroom migrate imap` recognises a message copied
/// before: by its bytes' SHA-256, or by its Message-ID and size.
public struct KnownMessages: Sendable {
    public struct Key: Sendable, Hashable {
        var hash: String
        var messageID: String?
        var size: Int64
    }
    private var hashes: Set<String> = []
    private var idsAndSizes: Set<String> = []

    public init(_ stored: [StoredMessageKey]) {
        for s in stored { insert(Key(hash: s.blobHash, messageID: s.messageID, size: s.size)) }
    }

    public func contains(_ k: Key) -> Bool {
        hashes.contains(k.hash) || (k.messageID.map { idsAndSizes.contains("\($0) \(k.size)") } ?? false)
    }

    public mutating func insert(_ k: Key) {
        hashes.insert(k.hash)
        if let id = k.messageID { idsAndSizes.insert("\(id) \(k.size)") }
    }
}

extension LocalDelivery {
    public enum ImportOutcome: Sendable, Hashable {
        case copied
        /// The folder holds it already.
        case alreadyThere
    }

    /// Adds a message copied from another server to a folder as IMAP APPEND does (the same
    /// storage path), unless `known` says the folder holds it already. Returns what it did and
    /// the message's key for `known`. Blocks: call it off the async executors.
    public func importMessage(
        _ data: [UInt8], to mailboxID: Int64, accountID: Int64, address: String, flags: [String], internalDate: Date,
        known: KnownMessages
    ) throws -> (ImportOutcome, KnownMessages.Key) {
        let key = KnownMessages.Key(
            hash: BlobStore.hash(data), messageID: HeaderSummary(data).messageID, size: Int64(data.count))
        if known.contains(key) { return (.alreadyThere, key) }
        // The quota as the administrator set it now: it may change during a long migration.
        let quota = (try? EmailAddress(address)).flatMap { directory.snapshot.account($0)?.quotaBytes } ?? 0
        _ = try append(
            data, to: mailboxID, accountID: accountID, quota: quota, flags: flags, internalDate: internalDate)
        // Read back what was stored and compare its SHA-256 with the source's bytes: a
        // migration reports a message as copied only when the copy is byte for byte the same.
        let stored = try readBlob(key.hash)
        guard BlobStore.hash(stored) == key.hash else { throw MigrationMismatch(hash: key.hash) }
        return (.copied, key)
    }
}

/// A copied message read back with other bytes than the source sent.
public struct MigrationMismatch: Error, CustomStringConvertible {
    public let hash: String
    public var description: String { "the stored copy's SHA-256 differs from the source's (\(hash.prefix(12))…)" }
}
