import Foundation
import GRDB
import TestSupport
import Testing

@testable import Storage

/// A database made by any earlier Mailroom upgrades to the newest schema and keeps its data:
/// each case stops the migrator after one step, stores some mail there, and opens the result
/// as a store.
@Suite struct SchemaUpgradeTests {
    static let steps = Schema.migrator.migrations

    func tempDB() -> String {
        let dir = Scratch.url("mailroom-schema")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("mailroom.db").path
    }

    /// Every table's columns (name, type, NOT NULL, default) and every index, in a form that
    /// does not depend on the order the columns were added in.
    static func shape(_ db: Database) throws -> [String] {
        var lines: [String] = []
        let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        for table in tables {
            for c in try db.columns(in: table) {
                lines.append("\(table).\(c.name) \(c.type) notnull=\(c.isNotNull) default=\(c.defaultValueSQL ?? "-")")
            }
        }
        lines += try String.fetchAll(
            db,
            sql: "SELECT name || ' ' || tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
        return lines.sorted()
    }

    static var newestShape: [String] {
        get throws {
            let queue = try DatabaseQueue()
            try Schema.migrator.migrate(queue)
            return try queue.read(shape)
        }
    }

    /// A database file made by the steps up to `step`, with `body` run in it after them.
    func database(upTo step: String, _ body: (Database) throws -> Void) throws -> String {
        let path = tempDB()
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: step)
        try queue.write(body)
        return path
    }

    /// A domain, an account and a mailbox with six messages' worth of UIDs used, written with
    /// the columns v2-mailstore knows.
    static func storeSomeMail(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0);
                INSERT INTO addresses (key, kind) VALUES ('ann@example.org', 'account');
                INSERT INTO accounts (id, domain_id, address, address_key, created_at, updated_at)
                    VALUES (1, 1, 'ann@example.org', 'ann@example.org', 0, 0);
                INSERT INTO mailboxes (id, account_id, name, uidvalidity, uidnext) VALUES (100, 1, 'Archive', 7, 7);
                """)
    }

    @Test(arguments: Array(steps.indices))
    func aDatabaseMadeByAnEarlierStepUpgrades(lastStep: Int) throws {
        let path = try database(upTo: Self.steps[lastStep]) { db in
            if Self.steps[...lastStep].contains("v2-mailstore") { try Self.storeSomeMail(db) }
        }
        let store = try SQLiteStore(path: path)
        #expect(try store.schemaVersion() == Self.steps)
        #expect(try store.writer.read(Self.shape) == (try Self.newestShape))
        if Self.steps[...lastStep].contains("v2-mailstore") {
            #expect(try store.loadDirectory().accounts.map(\.address.description) == ["ann@example.org"])
            let recentUID = try store.writer.read { db in
                try Int64.fetchOne(db, sql: "SELECT recent_uid FROM mailboxes WHERE id = 100")
            }
            // Mail stored before \Recent was kept counts as seen; a row written later by hand
            // without the column takes its default.
            #expect(recentUID == (Self.steps[...lastStep].contains("v5-blob-sweep") ? 0 : 6))
        }
    }

    /// Mail stored before v24-blob-meta kept its ENVELOPE, BODYSTRUCTURE and Date: in blobs;
    /// after the upgrade SORT and FETCH find them in blob_meta, and a message stored without
    /// them (before they were kept at all) still has none.
    @Test func storedEnvelopesMoveToBlobMeta() throws {
        let path = try database(upTo: "v23-trace-indexes-nocase") { db in
            try Self.storeSomeMail(db)
            try db.execute(
                sql: """
                    INSERT INTO blobs (hash, size, refs, data, envelope, bodystructure, body_simple, sent_date, sent_zone)
                        VALUES ('h1', 5, 1, X'6869', X'2845', X'2842', X'2853', 1000.5, 60),
                               ('h2', 5, 1, X'6869', NULL, NULL, NULL, NULL, NULL);
                    INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, size, internal_date)
                        VALUES (100, 1, 1, 'h1', 5, 10), (100, 2, 1, 'h2', 5, 20);
                    """)
        }
        let store = try SQLiteStore(path: path)
        var rows: [(uid: Int64, envelope: [UInt8]?, sent: Double?)] = []
        try store.scanSortFields(mailboxID: 100, uids: 1, 2) { row in
            rows.append((row.uid, row.envelope.map { Array($0) }, row.sentDate))
        }
        #expect(rows.map(\.uid) == [1, 2])
        #expect(rows.map(\.envelope) == [Array("(E".utf8), nil])
        #expect(rows.map(\.sent) == [1000.5, nil])
        var structures: [[UInt8]?] = []
        try store.scanMessages(mailboxID: 100, uids: 1, 2, basics: true, meta: true) { m in
            structures.append(m.bodyStructure.map { Array($0) })
        }
        #expect(structures == [Array("(B".utf8), nil])
        // v26-sort-keys: the message with an envelope waits for its SORT keys.
        #expect(try store.sortKeysBacklog(limit: 10).map(\.envelope) == [Array("(E".utf8)])
        // v28-thread-keys: it waits for THREAD's keys too, once its SORT keys are kept.
        #expect(try store.threadKeysBacklog(limit: 10).isEmpty)
        let blob = try #require(try store.sortKeysBacklog(limit: 10).first?.blobID)
        let none = SortKeys(subject: [], from: [], to: [], cc: [], fromName: [], toName: [])
        try store.addSortKeys([blob: none], done: [blob])
        let waiting = try store.threadKeysBacklog(limit: 10)
        #expect(waiting.map(\.blobID) == [blob] && waiting.map(\.inline) == [Array("hi".utf8)])
        #expect(waiting.map(\.envelope) == [Array("(E".utf8)] && waiting.map(\.gone) == [false])
        let keys = ThreadKeys(messageID: "m@x", references: [], isReplyOrForward: false)
        try store.addThreadKeys([blob: keys], done: [blob])
        #expect(try store.threadKeysBacklog(limit: 10).isEmpty)
        var thread: [ThreadKeys?] = []
        try store.scanSortKeys(mailboxID: 100, uids: 1, 1) {
            thread.append($0.keys?.thread.flatMap(ThreadKeys.init(encoded:)))
        }
        #expect(thread == [keys])
    }

    /// v29-messages-by-blob-id: the blob sweep and mailbox deletion find a message by its
    /// blob's rowid; a message row that has none (written without it) gets it in the step, so
    /// its blob is not taken for unused.
    @Test func aMessageWithoutBlobIDKeepsItsBlob() throws {
        let path = try database(upTo: "v28-thread-keys") { db in
            try Self.storeSomeMail(db)
            try db.execute(
                sql: """
                    INSERT INTO mailboxes (id, account_id, name, uidvalidity, uidnext) VALUES (101, 1, 'Old', 8, 3);
                    INSERT INTO blobs (hash, size, refs, data) VALUES ('h1', 2, 1, X'6869'), ('h2', 2, 2, X'6869'),
                        ('unused', 2, 0, X'6869');
                    INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, blob_id, size, internal_date)
                        VALUES (100, 1, 1, 'h1', NULL, 2, 10), (100, 2, 1, 'h2', 2, 2, 20), (101, 1, 1, 'h2', NULL, 2, 30);
                    """)
        }
        let store = try SQLiteStore(path: path)
        #expect(try store.writer.read(Self.shape) == (try Self.newestShape))
        let ids = try store.writer.read { db in
            try Int64?.fetchAll(db, sql: "SELECT blob_id FROM messages ORDER BY id")
        }
        #expect(ids == [1, 2, 2])
        // Only the blob no message refers to is marked.
        #expect(try store.markUnreferencedBlobs().count == 1)
        // Deleting a mailbox lowers the count of the blobs its messages used, found by rowid.
        try store.deleteMailbox(accountID: 1, name: "Old", separator: "/")
        let refs = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT hash, refs, gone FROM blobs ORDER BY rowid")
                .map { "\($0[0] as String) \($0[1] as Int) \($0[2] as Int)" }
        }
        #expect(refs == ["h1 1 0", "h2 1 0", "unused 0 1"])
    }

    /// v30-messages-without-blob-foreign-key: a blob being deleted is no longer checked against
    /// every message (the foreign key from messages.blob_hash lost its index in v29), in a
    /// database upgraded to it and in a new one; rows stay as they were, and a blob a message
    /// uses is still never deleted by the statements that delete blobs.
    @Test func deletingABlobReadsNoMessage() throws {
        let path = try database(upTo: "v29-messages-by-blob-id") { db in
            try Self.storeSomeMail(db)
            try db.execute(
                sql: """
                    INSERT INTO blobs (hash, size, refs, data) VALUES ('used', 2, 0, X'6869'), ('queued', 2, 0, X'6869');
                    INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, blob_id, size, internal_date)
                        VALUES (100, 1, 1, 'used', 1, 2, 10);
                    INSERT INTO queue (queue_id, sender, recipient, domain, blob_hash, size, created_at, next_attempt)
                        VALUES ('Q1', 'a@example.org', 'b@elsewhere.test', 'elsewhere.test', 'used', 2, 0, 0),
                            ('Q2', 'a@example.org', 'b@elsewhere.test', 'elsewhere.test', 'queued', 2, 0, 0);
                    """)
        }
        let upgraded = try SQLiteStore(path: path)
        for store in [upgraded, try SQLiteStore(path: tempDB())] {
            try store.writer.read { db in
                let referred = try String.fetchAll(db, sql: "SELECT \"table\" FROM pragma_foreign_key_list('messages')")
                #expect(referred == ["mailboxes"])
                // The program SQLite runs for a deletion opens no cursor on the messages table.
                let messagesRoot = try Int.fetchOne(
                    db, sql: "SELECT rootpage FROM sqlite_schema WHERE name = 'messages'")
                let opened = try Row.fetchAll(db, sql: "EXPLAIN DELETE FROM blobs WHERE hash = 'x'")
                    .filter { ($0["opcode"] as String).hasPrefix("Open") }.map { $0["p2"] as Int }
                #expect(!opened.contains(messagesRoot ?? -1), "\(opened)")
                #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
            }
        }
        try upgraded.writer.write { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages WHERE blob_hash = 'used'") == 1)
            // Both queue entries go; the blob a message uses stays, the other goes with its entry.
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM queue") { try SQLiteStore.removeQueueEntry(id, db) }
            #expect(try String.fetchAll(db, sql: "SELECT hash FROM blobs ORDER BY rowid") == ["used"])
        }
    }

    /// A row deleted from a table that others refer to is checked against each of them, and a
    /// referring column without an index is checked by reading that whole table, for every row
    /// deleted (v29 left messages.blob_hash so: 15 ms per deleted blob at 100,000 messages).
    /// Every foreign key's columns lead an index of their table, or the primary key, but for
    /// tables of rows an administrator makes one by one (thousands at most), read whole when an
    /// administrator deletes a domain or an account.
    @Test func everyForeignKeyIsIndexed() throws {
        let small = [
            "aliases(domain_id) → domains", "domains(alias_of) → domains", "lists(domain_id) → domains",
            "password_resets(account_id) → accounts",
        ]
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue)
        let unindexed = try queue.read { db -> [String] in
            var missing: [String] = []
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            for table in tables {
                let keys = try Row.fetchAll(
                    db, sql: "SELECT id, seq, \"from\", \"table\" FROM pragma_foreign_key_list(?)", arguments: [table])
                let indexes = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_list(?)", arguments: [table])
                let columnsSQL = "SELECT name FROM pragma_index_info(?) ORDER BY seqno"
                let primarySQL = "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk"
                let leading =
                    try indexes.map { try String.fetchAll(db, sql: columnsSQL, arguments: [$0]) }
                    + [try String.fetchAll(db, sql: primarySQL, arguments: [table])]
                for (_, columns) in Dictionary(grouping: keys, by: { $0["id"] as Int }) {
                    let from = columns.sorted { ($0["seq"] as Int) < ($1["seq"] as Int) }.map { $0["from"] as String }
                    if !leading.contains(where: { Array($0.prefix(from.count)) == from }) {
                        missing.append("\(table)(\(from.joined(separator: ", "))) → \(columns[0]["table"] as String)")
                    }
                }
            }
            return missing.sorted()
        }
        #expect(unindexed == small)
    }

    /// v5-blob-sweep as it first landed, before `recent_uid` was added to it: a database that
    /// ran this text is repaired by v7-repair-recent-uid.
    static let firstV5 = """
        ALTER TABLE blobs ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX blobs_gone ON blobs(gone) WHERE gone = 1;
        CREATE INDEX queue_blob ON queue(blob_hash);
        CREATE INDEX held_blob ON held(blob_hash);
        """

    @Test func aDatabaseThatRanTheFirstV5GetsRecentUID() throws {
        let path = try database(upTo: "v4-outbound") { db in
            try Self.storeSomeMail(db)
            try db.execute(sql: Self.firstV5)
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v5-blob-sweep')")
            try db.execute(sql: "ALTER TABLE blobs ADD COLUMN sent_zone INTEGER")
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v6-sent-zone')")
            #expect(try !db.columns(in: "mailboxes").contains { $0.name == "recent_uid" })
        }
        let store = try SQLiteStore(path: path)
        #expect(try store.schemaVersion() == Self.steps)
        #expect(try store.writer.read(Self.shape) == (try Self.newestShape))
        let recentUID = try store.writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT recent_uid FROM mailboxes WHERE id = 100")
        }
        #expect(recentUID == 6)
    }
}
