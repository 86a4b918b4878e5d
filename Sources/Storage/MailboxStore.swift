import Foundation

/// Mailboxes and the messages in them, as the IMAP server lists, selects, reads, searches,
/// sorts and changes them. ``SQLiteStore`` is one implementation;
/// `Tests/StorageTests/MailboxStoreContractTests.swift` holds the contract any other must pass.
/// Messages are added by the delivery's commit (``MessageCommit``), not through here.
public protocol MailboxStore: Sendable {
    /// Tells live sessions which mailboxes changed, after each commit.
    var changes: MailboxChangeHub { get }

    // MARK: Mailboxes

    /// An account's mailboxes, by name.
    func mailboxes(accountID: Int64) throws -> [MailboxRecord]
    func mailbox(accountID: Int64, name: String) throws -> MailboxRecord?
    func mailbox(id: Int64) throws -> MailboxRecord?
    /// Creates a mailbox and any missing parents.
    func createMailbox(accountID: Int64, name: String, specialUse: String?, separator: Character) throws
    /// Deletes a mailbox and its messages; not INBOX, not a mailbox with children.
    func deleteMailbox(accountID: Int64, name: String, separator: Character) throws
    /// Renames a mailbox and everything under it; renaming INBOX moves its messages out.
    func renameMailbox(accountID: Int64, from: String, to: String, separator: Character) throws
    func subscriptions(accountID: Int64) throws -> Set<String>
    func setSubscribed(accountID: Int64, name: String, _ subscribed: Bool) throws
    /// Message count, unseen count, deleted count and total size (STATUS).
    func mailboxCounts(mailboxID: Int64) throws -> (messages: Int, unseen: Int, deleted: Int, size: Int64)
    /// The UID of the first message without \Seen.
    func firstUnseenUID(mailboxID: Int64) throws -> Int64?
    /// Messages no session has been shown as \Recent yet.
    func unclaimedRecent(_ mailbox: MailboxRecord) throws -> Int
    /// Claims the messages up to `uid` as \Recent for the caller; returns the UID up to which
    /// others had claimed them.
    func claimRecent(mailboxID: Int64, through uid: Int64) throws -> Int64
    /// Messages and bytes stored for an account, over all its mailboxes.
    func mailboxStats(accountID: Int64) throws -> (messages: Int, bytes: Int64)
    /// Bytes stored for an account, over all its mailboxes (what its quota counts).
    func mailboxUsage(accountID: Int64) throws -> Int64

    // MARK: Messages

    /// A mailbox and the UIDs of its messages, read together (SELECT).
    func openMailbox(accountID: Int64, name: String) throws -> (MailboxRecord, [Int64])?
    /// UID, MODSEQ and flags of every message, by UID.
    func messageStates(mailboxID: Int64) throws -> [MessageState]
    /// What changed since `modseq`: messages added or changed, UIDs expunged, the state now.
    func changes(mailboxID: Int64, since modseq: Int64) throws -> MailboxChanges
    /// The expunged UIDs after `modseq` (QRESYNC's VANISHED (EARLIER)).
    func expungedSince(mailboxID: Int64, modseq: Int64) throws -> [Int64]
    /// The messages with UIDs in `lo...hi` that `include` accepts, by UID, with `parts`;
    /// `only` (sorted UIDs), when given, is looked up instead of scanning the range.
    func messageDetails(
        mailboxID: Int64, uids lo: Int64, _ hi: Int64, only: [Int64]?, parts: DetailParts, include: (Int64) -> Bool
    ) throws -> [MessageDetail]
    /// The stored columns of the messages in a UID range, in UID order, row by row.
    func scanMessages(
        mailboxID: Int64, uids lo: Int64, _ hi: Int64, basics: Bool, meta: Bool, _ body: (ScannedMessage) -> Void
    ) throws
    /// The columns SORT and THREAD read, in UID order, row by row; without `envelopes` the
    /// envelope is not read.
    func scanSortFields(
        mailboxID: Int64, uids lo: Int64, _ hi: Int64, envelopes: Bool, _ body: (SortScanRow) -> Void
    ) throws
    /// The kept SORT keys, in UID order, row by row; rows without them have none.
    func scanSortKeys(mailboxID: Int64, uids lo: Int64, _ hi: Int64, _ body: (SortKeyRow) -> Void) throws
    /// Search metadata for every message: UID, MODSEQ, flags, size, dates.
    func searchRows(mailboxID: Int64) throws -> [MessageDetail]
    /// UIDs of messages in whose indexed `fields` (none: no message) `needle` appears (3
    /// characters at least); up to `lookupLimit` matches are looked up one by one, more make
    /// one pass.
    func textSearch(mailboxID: Int64, fields: [SearchText.Field], needle: String, lookupLimit: Int) throws -> Set<Int64>
    /// The blob hashes of a mailbox's messages with these UIDs (those still there).
    func blobHashes(mailboxID: Int64, uids: [Int64]) throws -> [String]
    /// UIDs of messages not in the search index yet; ask before the index.
    func unindexedUIDs(mailboxID: Int64) throws -> [Int64]
    /// Changes flags (STORE); with `unchangedSince`, messages modified after it are left
    /// alone and returned in `failed`. Every changed message gets the next MODSEQ.
    func storeFlags(
        mailboxID: Int64, uids: [Int64], change: FlagChange, flags: [String], unchangedSince: Int64?
    ) throws -> (changed: [MessageState], unchanged: [MessageState], failed: [Int64])
    /// Removes the messages flagged \Deleted (only those in `uids`, when given); returns their UIDs.
    func expunge(mailboxID: Int64, uids: Set<Int64>?) throws -> [Int64]
    /// Copies or moves messages to another mailbox of the same account, within `quota` (bytes,
    /// 0 for none); returns the target's UIDVALIDITY and (source UID, new UID) pairs.
    func copyMessages(
        from source: Int64, uids: [Int64], to target: Int64, move: Bool, accountID: Int64, quota: Int64
    ) throws -> (uidValidity: Int64, pairs: [(Int64, Int64)])
}

extension MailboxStore {
    public func createMailbox(accountID: Int64, name: String, specialUse: String?) throws {
        try createMailbox(accountID: accountID, name: name, specialUse: specialUse, separator: "/")
    }

    public func deleteMailbox(accountID: Int64, name: String) throws {
        try deleteMailbox(accountID: accountID, name: name, separator: "/")
    }

    public func renameMailbox(accountID: Int64, from: String, to: String) throws {
        try renameMailbox(accountID: accountID, from: from, to: to, separator: "/")
    }

    public func messageDetails(
        mailboxID: Int64, uids lo: Int64, _ hi: Int64, parts: DetailParts, include: (Int64) -> Bool
    ) throws -> [MessageDetail] {
        try messageDetails(mailboxID: mailboxID, uids: lo, hi, only: nil, parts: parts, include: include)
    }

    public func scanSortFields(mailboxID: Int64, uids lo: Int64, _ hi: Int64, _ body: (SortScanRow) -> Void) throws {
        try scanSortFields(mailboxID: mailboxID, uids: lo, hi, envelopes: true, body)
    }

    public func textSearch(mailboxID: Int64, fields: [SearchText.Field], needle: String) throws -> Set<Int64> {
        try textSearch(mailboxID: mailboxID, fields: fields, needle: needle, lookupLimit: 2000)
    }
}

extension SQLiteStore: MailboxStore {}

/// What ``MailboxStore/scanMessages(mailboxID:uids:_:basics:meta:_:)`` hands over for one message.
/// The byte views are only valid during the call; a view is nil when its column is NULL
/// (or was not asked for).
public struct ScannedMessage {
    public var uid: Int64
    public var modseq: Int64
    /// The flags as stored: space-separated.
    public var flags: UnsafeRawBufferPointer
    public var internalDate: Double
    public var size: Int64
    public var envelope: UnsafeRawBufferPointer?
    public var bodyStructure: UnsafeRawBufferPointer?
    public var bodySimple: UnsafeRawBufferPointer?
}

/// What ``MailboxStore/scanSortFields(mailboxID:uids:_:envelopes:_:)`` hands over for one message.
/// `envelope` is only valid during the call, and nil for mail without stored fields (see
/// `stored`).
public struct SortScanRow {
    public var uid: Int64
    public var internalDate: Double
    public var size: Int64
    public var envelope: UnsafeRawBufferPointer?
    /// The Date: field's instant (seconds since 1970); nil without a usable Date: field.
    public var sentDate: Double?
    /// False for mail without its ENVELOPE and Date: stored: mail the background indexer has
    /// not reached yet, or stored before they were kept. Read the message.
    public var stored: Bool
}

/// What ``MailboxStore/scanSortKeys(mailboxID:uids:_:_:)`` hands over for one message. The
/// keys' bytes are only valid during the call.
public struct SortKeyRow {
    public var uid: Int64
    public var internalDate: Double
    public var size: Int64
    /// The Date: field's instant; nil without a usable Date: field or without `keys`.
    public var sentDate: Double?
    /// The ``SortKeys``, as kept; nil for mail without them (not indexed yet, or stored before
    /// they were kept and not reached by the indexer yet).
    public var keys: Keys?

    public struct Keys {
        public var subject, from, to, cc, fromName, toName: UnsafeRawBufferPointer
        /// ``ThreadKeys/encoded``; nil until known (mail stored before they were kept).
        public var thread: UnsafeRawBufferPointer?
    }
}

/// What a FETCH needs of each message, beyond UID, MODSEQ and flags.
public struct DetailParts: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Internal date, size, blob and trace-header prefix.
    public static let basics = DetailParts(rawValue: 1)
    /// ENVELOPE, BODYSTRUCTURE, BODY and the Date: header.
    public static let meta = DetailParts(rawValue: 2)
    /// The bytes of messages kept in the database (saves a query per message).
    public static let data = DetailParts(rawValue: 4)
}
