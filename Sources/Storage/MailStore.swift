import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// One stage in a message's life, as `mailroom trace` tells it.
public struct DeliveryEvent: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// The message was accepted (250) for the listed recipients.
        case received
        /// What the inbound checks (SPF, DKIM, DMARC) found, and what was decided.
        case checked
        /// A recipient or the whole message was refused, with the reply given.
        case rejected
        /// A list or alias was expanded into final recipients.
        case expanded
        /// Stored in a local mailbox.
        case stored
        /// Put on the outbound queue for a remote recipient.
        case queued
        /// Held for a list moderator.
        case held
        /// Held in quarantine by the inbound checks (spam score, policy).
        case quarantined
        /// A delivery attempt failed for now; it will be retried.
        case deferred
        /// The remote server accepted the message (250).
        case delivered
        /// Delivery failed for good; the sender is told with a DSN.
        case bounced
        /// A delivery status notification (bounce or delay warning) was sent to the sender.
        case notified
        /// An administrator acted on a queued message (retry, hold, release, delete).
        case admin
        /// The recipient's rules (Sieve) acted: discarded, redirected, replied, rejected, or
        /// the script failed and the message was kept.
        case filtered
    }

    public var id: Int64
    public var at: Date
    public var queueID: String
    public var messageID: String?
    public var event: Kind
    public var sender: String?
    public var recipient: String?
    public var clientIP: String?
    public var helo: String?
    public var tls: String?
    public var authUser: String?
    public var detail: String?
    public var reply: String?

    public init(
        id: Int64 = 0, at: Date, queueID: String, messageID: String?, event: Kind, sender: String?, recipient: String?,
        clientIP: String?, helo: String?, tls: String?, authUser: String?, detail: String?, reply: String?
    ) {
        self.id = id
        self.at = at
        self.queueID = queueID
        self.messageID = messageID
        self.event = event
        self.sender = sender
        self.recipient = recipient
        self.clientIP = clientIP
        self.helo = helo
        self.tls = tls
        self.authUser = authUser
        self.detail = detail
        self.reply = reply
    }
}

/// Everything one accepted message adds to the store, committed in one transaction.
public struct MessageCommit: Sendable {
    public struct LocalCopy: Sendable {
        public var accountID: Int64
        public var headerPrefix: [UInt8]
        /// The mailbox with this special use (`\\Junk`) instead of INBOX.
        public var specialUse: String?
        /// The mailbox by name (a Sieve fileinto), before `specialUse`; INBOX when there is
        /// none by that name and `create` is false.
        public var mailbox: String?
        /// Make `mailbox` (and its parents) when missing (Sieve `fileinto :create`).
        public var create: Bool
        /// IMAP flags and keywords the copy is stored with (Sieve imap4flags).
        public var flags: [String]
        public init(
            accountID: Int64, headerPrefix: [UInt8], specialUse: String? = nil, mailbox: String? = nil,
            create: Bool = false,
            flags: [String] = []
        ) {
            self.accountID = accountID
            self.headerPrefix = headerPrefix
            self.specialUse = specialUse
            self.mailbox = mailbox
            self.create = create
            self.flags = flags
        }
    }

    public struct RemoteCopy: Sendable {
        public var recipient: String
        public var headerPrefix: [UInt8]
        /// The envelope sender this copy leaves with, when not the message's (a forwarded
        /// copy's SRS address).
        public var sender: String?
        public init(recipient: String, headerPrefix: [UInt8], sender: String? = nil) {
            self.recipient = recipient
            self.headerPrefix = headerPrefix
            self.sender = sender
        }
    }

    public struct HeldCopy: Sendable {
        public var listAddress: String
        public var headerPrefix: [UInt8]
        public var subject: String
        public init(listAddress: String, headerPrefix: [UInt8], subject: String) {
            self.listAddress = listAddress
            self.headerPrefix = headerPrefix
            self.subject = subject
        }
    }

    public var queueID: String
    public var messageID: String?
    public var sender: String
    public var blobHash: String
    public var blobSize: Int
    /// The bytes, when they are kept in the database rather than as a blob file.
    public var inlineData: [UInt8]?
    /// What IMAP serves about the message when computed before the commit; without it, a
    /// message bound for mailboxes waits for the background indexer, which computes it.
    public var meta: BlobMeta?
    public var receivedAt: Date
    public var local: [LocalCopy]
    public var remote: [RemoteCopy]
    public var held: [HeldCopy]
    public var events: [DeliveryEvent]
    /// Vacation replies and duplicate-test sightings of the Sieve runs, recorded with the
    /// message.
    public var sieve = SieveMemory()

    public init(
        queueID: String, messageID: String?, sender: String, blobHash: String, blobSize: Int,
        inlineData: [UInt8]? = nil,
        meta: BlobMeta? = nil, receivedAt: Date, local: [LocalCopy], remote: [RemoteCopy], held: [HeldCopy],
        events: [DeliveryEvent]
    ) {
        self.inlineData = inlineData
        self.meta = meta
        self.queueID = queueID
        self.messageID = messageID
        self.sender = sender
        self.blobHash = blobHash
        self.blobSize = blobSize
        self.receivedAt = receivedAt
        self.local = local
        self.remote = remote
        self.held = held
        self.events = events
    }
}

/// A stored message as a mailbox holds it.
public struct StoredMessage: Hashable, Sendable {
    public var uid: Int64
    public var modseq: Int64
    public var blobHash: String
    public var headerPrefix: [UInt8]
    public var size: Int
    public var internalDate: Date
    public var flags: String
    public var queueID: String?
}

extension SQLiteStore {
    /// Commits many messages in one transaction: one fsync for all of them (group commit).
    public func commit(_ batch: [MessageCommit]) throws {
        let touched = try deliveryWrite { db in try Self.commit(batch, db) }
        if batch.contains(where: { !$0.remote.isEmpty }) { outbound.signal() }
        changes.publish(touched)
    }

    /// A write that stores mail, which the search indexer lets go first (see
    /// ``finishIndexing(_:metas:done:)``).
    func deliveryWrite<T>(_ body: (Database) throws -> T) throws -> T {
        deliveriesWaiting.add(1, ordering: .relaxed)
        var counted = true
        defer { if counted { deliveriesWaiting.subtract(1, ordering: .relaxed) } }
        return try writer.writeWithoutTransaction { db in
            deliveriesWaiting.subtract(1, ordering: .relaxed)
            counted = false
            return try Self.immediateTransaction(db, body)
        }
    }

    /// Stores a batch in the caller's transaction; returns the mailboxes it delivered into, for
    /// the sessions watching them (known here, so no second read is needed to tell them).
    static func commit(_ batch: [MessageCommit], _ db: Database) throws -> Set<Int64> {
        var touched: Set<Int64> = []
        for m in batch { touched.formUnion(try commitOne(m, db)) }
        return touched
    }

    /// Stores one message. The statements are the database's cached ones: they run for every
    /// message received, and preparing them each time was a measurable part of its CPU.
    static func commitOne(_ m: MessageCommit, _ db: Database) throws -> [Int64] {
        let refs = m.local.count + m.remote.count + m.held.count
        let blobID =
            refs > 0
            ? try insertBlob(
                hash: m.blobHash, size: m.blobSize, refs: refs, inlineData: m.inlineData, meta: m.meta,
                mailbox: !m.local.isEmpty, db)
            : nil
        let at = m.receivedAt.timeIntervalSince1970
        var touched: [Int64] = []
        for copy in m.local {
            let mailbox = try mailbox(for: copy, db)
            touched.append(mailbox)
            // UID and MODSEQ come from the mailbox row, bumped in the same transaction.
            guard
                let (uid, modseq) = try db.fetchFirstBound(
                    """
                    UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
                    WHERE id = ? RETURNING uidnext - 1, highestmodseq
                    """,
                    mailbox, row: { (sqlite3_column_int64($0, 0), sqlite3_column_int64($0, 1)) })
            else { throw StoreError.notFound("mailbox \(mailbox)") }
            try db.executeBound(
                """
                INSERT INTO messages
                    (mailbox_id, uid, modseq, blob_hash, blob_id, header_prefix, size, internal_date, queue_id, message_id, flags)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                mailbox, uid, modseq, m.blobHash, blobID, copy.headerPrefix, m.blobSize + copy.headerPrefix.count, at,
                m.queueID, m.messageID, copy.flags.joined(separator: " "))
            if !copy.flags.isEmpty { try noteKeywords(copy.flags, mailboxID: mailbox, db) }
        }
        for copy in m.remote {
            try db.cachedStatement(
                sql: """
                    INSERT INTO queue (queue_id, message_id, sender, recipient, domain, blob_hash, header_prefix, size, created_at, next_attempt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    m.queueID, m.messageID, copy.sender ?? m.sender, copy.recipient,
                    QueueEntry.domain(of: copy.recipient), m.blobHash,
                    Data(copy.headerPrefix), m.blobSize + copy.headerPrefix.count, at, at,
                ])
        }
        for copy in m.held {
            try db.cachedStatement(
                sql: """
                    INSERT INTO held (queue_id, list_address, sender, blob_hash, header_prefix, size, subject, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    m.queueID, copy.listAddress, m.sender, m.blobHash, Data(copy.headerPrefix),
                    m.blobSize + copy.headerPrefix.count, copy.subject, at,
                ])
        }
        for e in m.events { try insertEvent(e, db) }
        if !m.sieve.isEmpty { try recordSieveMemory(m.sieve, at: m.receivedAt, db) }
        return touched
    }

    /// The mailbox a copy goes to: by name (made when missing and asked to), else by special
    /// use, else INBOX.
    static func mailbox(for copy: MessageCommit.LocalCopy, _ db: Database) throws -> Int64 {
        if let name = copy.mailbox {
            let sql = "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?"
            if let id = try Int64.fetchOne(db, sql: sql, arguments: [copy.accountID, name]) { return id }
            if copy.create {
                _ = try inbox(of: copy.accountID, db)  // a new account's standard mailboxes first
                var parent = ""
                for part in name.split(separator: "/") {
                    parent = parent.isEmpty ? String(part) : parent + "/" + part
                    if try Int64.fetchOne(db, sql: sql, arguments: [copy.accountID, parent]) == nil {
                        _ = try insertMailbox(copy.accountID, name: parent, specialUse: nil, subscribe: true, db)
                    }
                }
                if let id = try Int64.fetchOne(db, sql: sql, arguments: [copy.accountID, name]) { return id }
            }
        }
        return try mailbox(of: copy.accountID, specialUse: copy.specialUse, db)
    }

    /// The account's mailbox with `specialUse`, or its INBOX when it has none such (or
    /// `specialUse` is nil).
    static func mailbox(of accountID: Int64, specialUse: String?, _ db: Database) throws -> Int64 {
        guard let specialUse else { return try inbox(of: accountID, db) }
        let sql = "SELECT id FROM mailboxes WHERE account_id = ? AND special_use = ? ORDER BY id LIMIT 1"
        if let id = try Int64.fetchOne(db, sql: sql, arguments: [accountID, specialUse]) { return id }
        let inbox = try inbox(of: accountID, db)  // makes the standard mailboxes of a new account
        return try Int64.fetchOne(db, sql: sql, arguments: [accountID, specialUse]) ?? inbox
    }

    /// The account's INBOX (made with the other standard mailboxes if it is missing).
    static func inbox(of accountID: Int64, _ db: Database) throws -> Int64 {
        if let id = try db.fetchFirstBound(
            "SELECT id FROM mailboxes WHERE account_id = ? AND name = 'INBOX'", accountID,
            row: { sqlite3_column_int64($0, 0) })
        {
            return id
        }
        try ensureDefaultMailboxes(accountID, db)
        return try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM mailboxes WHERE account_id = ? AND name = 'INBOX'"),
            arguments: [accountID])!
    }

    /// Stages an event: `event_staging` has no index, so the commit that stores a message
    /// appends one row to one page, where `delivery_events` and its six indexes (for the ways a
    /// trace looks) took a page each, a quarter of what a delivery wrote. ``fileStagedEvents(limit:)``
    /// moves them there in batches; every reader of `delivery_events` files them first.
    static func insertEvent(_ e: DeliveryEvent, _ db: Database) throws {
        try db.executeBound(
            """
            INSERT INTO event_staging
                (at, queue_id, message_id, event, sender, recipient, client_ip, helo, tls, auth_user, detail, reply)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            e.at.timeIntervalSince1970, e.queueID, e.messageID, e.event.rawValue, e.sender, e.recipient, e.clientIP,
            e.helo, e.tls, e.authUser, e.detail, e.reply)
    }

    /// Records events that belong to no stored message (refused recipients and messages).
    public func recordEvents(_ events: [DeliveryEvent]) throws {
        guard !events.isEmpty else { return }
        try writer.write { db in for e in events { try Self.insertEvent(e, db) } }
    }

    /// Moves the oldest `limit` staged events (all with nil) into `delivery_events`, in the
    /// order they were staged, and returns how many moved.
    static func fileStagedEvents(limit: Int?, _ db: Database) throws -> Int {
        let last =
            if let limit {
                try Int64.fetchOne(
                    db, sql: "SELECT MAX(id) FROM (SELECT id FROM event_staging ORDER BY id LIMIT ?)",
                    arguments: [limit])
            } else {
                try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM event_staging")
            }
        guard let last else { return 0 }
        let columns =
            "at, queue_id, message_id, event, sender, recipient, client_ip, helo, tls, auth_user, detail, reply"
        try db.execute(
            sql:
                "INSERT INTO delivery_events (\(columns)) SELECT \(columns) FROM event_staging WHERE id <= ? ORDER BY id",
            arguments: [last])
        let filed = db.changesCount
        try db.execute(sql: "DELETE FROM event_staging WHERE id <= ?", arguments: [last])
        return filed
    }

    /// Files up to `limit` staged events in one transaction, not fsynced: lost in a crash, the
    /// events are still staged (their commit was), and are filed again.
    public func fileStagedEvents(limit: Int) throws -> Int {
        try withoutFsync { db in try Self.fileStagedEvents(limit: limit, db) }
    }

    /// Events matching any of the filters, oldest first, with every other event of the same
    /// queue ids so that each message's whole story is told.
    public func traceEvents(
        messageID: String?, sender: String?, recipient: String?, client: String?, account: String?, since: Date?,
        limit: Int
    ) throws -> [DeliveryEvent] {
        // A write: what is staged is filed first, so the trace is whole.
        try writer.write { db in
            _ = try Self.fileStagedEvents(limit: nil, db)
            var clauses: [String] = []
            var args: [any DatabaseValueConvertible] = []
            if let messageID {
                clauses.append("message_id = ?")
                args.append(messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")))
            }
            if let sender {
                clauses.append("sender = ? COLLATE NOCASE")
                args.append(sender)
            }
            if let recipient {
                clauses.append("recipient = ? COLLATE NOCASE")
                args.append(recipient)
            }
            if let client {
                clauses.append("client_ip = ?")
                args.append(client)
            }
            if let account {
                clauses.append(
                    "(sender = ? COLLATE NOCASE OR recipient = ? COLLATE NOCASE OR auth_user = ? COLLATE NOCASE)")
                args += [account, account, account]
            }
            if let since {
                clauses.append("at >= ?")
                args.append(since.timeIntervalSince1970)
            }
            let whereSQL = clauses.isEmpty ? "1" : clauses.joined(separator: " AND ")
            let filterArgs = StatementArguments(args) ?? StatementArguments()
            // Messages: every event of each matching queue id, the `limit` whose latest matching
            // event is newest. Refusals at RCPT (queue id "-") belong to no message: only the
            // matching ones.
            let messages = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM delivery_events WHERE queue_id IN (
                        SELECT queue_id FROM delivery_events WHERE queue_id != '-' AND \(whereSQL)
                        GROUP BY queue_id ORDER BY MAX(id) DESC LIMIT ?)
                    """,
                arguments: filterArgs + [limit])
            let refusals = try Row.fetchAll(
                db, sql: "SELECT * FROM delivery_events WHERE queue_id = '-' AND \(whereSQL) ORDER BY id DESC LIMIT ?",
                arguments: filterArgs + [limit])
            return try (messages + refusals).map(DeliveryEvent.init(row:)).sorted { $0.id < $1.id }
        }
    }

    /// The messages of an account's INBOX, oldest first.
    public func inboxMessages(accountID: Int64) throws -> [StoredMessage] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.* FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
                    WHERE b.account_id = ? AND b.name = 'INBOX' ORDER BY m.uid
                    """,
                arguments: [accountID]
            ).map {
                StoredMessage(
                    uid: $0["uid"], modseq: $0["modseq"], blobHash: $0["blob_hash"],
                    headerPrefix: Array(($0["header_prefix"] as Data?) ?? Data()),
                    size: $0["size"], internalDate: Date(unix: $0["internal_date"]), flags: $0["flags"],
                    queueID: $0["queue_id"])
            }
        }
    }

    /// Bytes stored for an account (for quotas).
    public func mailboxUsage(accountID: Int64) throws -> Int64 {
        try writer.read { db in try Self.usage(accountID: accountID, db) }
    }

    /// Messages and bytes stored for an account, over all its mailboxes.
    public func mailboxStats(accountID: Int64) throws -> (messages: Int, bytes: Int64) {
        try writer.read { db in
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) AS n, COALESCE(SUM(m.size), 0) AS bytes FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ?",
                arguments: [accountID])
            return (row?["n"] ?? 0, row?["bytes"] ?? 0)
        }
    }

    /// Remote recipients waiting on the outbound queue.
    public func queuedRecipients() throws -> [(queueID: String, sender: String, recipient: String)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT queue_id, sender, recipient FROM queue ORDER BY id").map {
                (queueID: $0["queue_id"], sender: $0["sender"], recipient: $0["recipient"])
            }
        }
    }

    /// The bytes of a blob kept in the database, or nil when it is a file.
    public func inlineBlob(_ hash: String) throws -> [UInt8]? {
        try writer.read { db in
            try Data.fetchOne(db, sql: "SELECT data FROM blobs WHERE hash = ? AND data IS NOT NULL", arguments: [hash])
                .map { Array($0) }
        }
    }

    /// Blob hashes the metadata refers to (for the crash test and consistency checks).
    public func referencedBlobs() throws -> Set<String> {
        try writer.read { db in Set(try String.fetchAll(db, sql: "SELECT hash FROM blobs WHERE gone = 0")) }
    }
}

extension DeliveryEvent {
    init(row: Row) throws {
        self.init(
            id: row["id"], at: Date(unix: row["at"]), queueID: row["queue_id"], messageID: row["message_id"],
            event: Kind(rawValue: row["event"]) ?? .received, sender: row["sender"], recipient: row["recipient"],
            clientIP: row["client_ip"], helo: row["helo"], tls: row["tls"], authUser: row["auth_user"],
            detail: row["detail"],
            reply: row["reply"])
    }
}

/// A message held for a list's moderator.
public struct HeldMessage: Hashable, Sendable {
    public var id: Int64
    public var queueID: String
    public var listAddress: String
    public var sender: String
    public var blobHash: String
    public var headerPrefix: [UInt8]
    public var size: Int
    public var subject: String
    public var createdAt: Date
}

extension SQLiteStore {
    public func heldMessages() throws -> [HeldMessage] {
        try writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM held ORDER BY id").map(HeldMessage.init(row:))
        }
    }

    public func heldMessage(id: Int64) throws -> HeldMessage? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM held WHERE id = ?", arguments: [id]).map(HeldMessage.init(row:))
        }
    }

    /// Takes a held message out of moderation: delivers `release` (if any) and drops the held
    /// copy's reference to its blob, in one transaction.
    public func finishModeration(id: Int64, release: [MessageCommit], events: [DeliveryEvent]) throws {
        let touched = try writer.write { db in
            guard let hash = try String.fetchOne(db, sql: "SELECT blob_hash FROM held WHERE id = ?", arguments: [id])
            else {
                throw StoreError.notFound("held message \(id)")
            }
            try db.execute(sql: "DELETE FROM held WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE blobs SET refs = refs - 1 WHERE hash = ?", arguments: [hash])
            let touched = try Self.commit(release, db)
            for e in events { try Self.insertEvent(e, db) }
            return touched
        }
        if release.contains(where: { !$0.remote.isEmpty }) { outbound.signal() }
        changes.publish(touched)  // an approved post delivered here wakes its readers too
    }
}

extension HeldMessage {
    init(row: Row) {
        self.init(
            id: row["id"], queueID: row["queue_id"], listAddress: row["list_address"], sender: row["sender"],
            blobHash: row["blob_hash"], headerPrefix: Array((row["header_prefix"] as Data?) ?? Data()),
            size: row["size"],
            subject: row["subject"], createdAt: Date(unix: row["created_at"]))
    }
}
