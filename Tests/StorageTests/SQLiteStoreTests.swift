import Foundation
import GRDB
import TestSupport
import Testing

@testable import MailCore
@testable import Storage

@Suite struct SQLiteStoreTests {
    func tempDB() -> String {
        let dir = Scratch.url("mailroom-store")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("mailroom.db").path
    }

    @Test func recordsItsSchemaAndIsDurableWAL() throws {
        let path = tempDB()
        let store = try SQLiteStore(path: path)
        #expect(
            try store.schemaVersion() == [
                "v1-directory", "v2-mailstore", "v3-imap", "v4-outbound", "v5-blob-sweep", "v6-sent-zone",
                "v7-repair-recent-uid", "v8-unseen-index", "v9-index-backlog", "v10-quarantine",
                "v11-list-dmarc-rewrite", "v12-junk", "v13-domain-mta-sts", "v14-login-history",
                "v16-event-client-index", "v17-sieve", "v18-console", "v19-imap-migration", "v20-imap-migration-uids",
                "v21-search-index-merging", "v22-event-staging", "v23-trace-indexes-nocase", "v24-blob-meta",
                "v25-search-index-merge-steps", "v26-sort-keys", "v27-messages-blob-id", "v28-thread-keys",
                "v29-messages-by-blob-id", "v30-messages-without-blob-foreign-key", "v31-messages-without-queue-index",
            ])
        // Asked of the connection that commits (a reader's setting would say nothing of it).
        let (mode, sync) = try store.writer.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(sync == 2)  // FULL: each commit fsyncs the WAL before it returns
    }

    /// A trace by sender or recipient compares without case, and an index answers it.
    @Test(arguments: [("sender", "events_sender"), ("recipient", "events_recipient")])
    func aTraceBySenderOrRecipientSearchesAnIndex(column: String, index: String) throws {
        let store = try SQLiteStore.inMemory()
        let plan = try store.writer.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "EXPLAIN QUERY PLAN SELECT id FROM delivery_events WHERE \(column) = ? COLLATE NOCASE ORDER BY id DESC LIMIT 5",
                arguments: ["Ann@Example.org"]
            ).map { $0["detail"] as String }
        }
        #expect(
            plan.contains { $0.contains("USING INDEX \(index)") || $0.contains("USING COVERING INDEX \(index)") },
            "\(plan)")
    }

    /// Past 1,000 WAL pages the WAL is copied into the database file by the checkpointer, on
    /// its own connection, not by the commit that crossed the line.
    @Test func theWALIsCheckpointedOffTheCommitsPath() async throws {
        let path = tempDB()
        let store = try SQLiteStore(path: path)
        let fileSize = { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        let before = fileSize()
        // 60 commits of a 100 KB row: about 1,500 pages through the WAL.
        for n in 0..<60 {
            try await store.writer.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS filler (data BLOB)")
                try db.execute(
                    sql: "INSERT INTO filler VALUES (?)", arguments: [Data(repeating: UInt8(n), count: 100_000)])
            }
        }
        let checkpointer = try #require(store.checkpointer)
        for _ in 0..<5_000 where checkpointer.runs.runs == 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(checkpointer.runs.runs >= 1 && checkpointer.runs.failures == 0)
        // The pages reached the database file, and everything reads back.
        #expect(fileSize() > before + 1_000_000)
        #expect(try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM filler") } == 60)
    }

    /// Under writes that never pause, the background checkpoint never copies the very last
    /// frame before the next write, and SQLite only starts the WAL over after one that did: the
    /// writer catches up itself at 4,000 pages, so the WAL stays bounded.
    @Test func theWALStaysBoundedUnderWritesThatNeverPause() throws {
        let path = tempDB()
        let store = try SQLiteStore(path: path)
        let walSize = { (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0 }
        var largest = 0
        // 400 commits of a 100 KB row, back to back: about 10,000 pages (40 MB) through the WAL.
        for n in 0..<400 {
            try store.writer.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS filler (data BLOB)")
                try db.execute(
                    sql: "INSERT INTO filler VALUES (?)", arguments: [Data(repeating: UInt8(n % 256), count: 100_000)])
            }
            largest = max(largest, walSize())
        }
        // 4,000 pages and a few commits more (one may find the background checkpoint still
        // running, and leave the catching up to the next); never all 10,000.
        let bound = 5_000 * (4096 + 24)
        #expect(largest <= bound, "the WAL reached \(largest / 1_048_576) MB")
        #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM filler") } == 400)
    }

    /// The full-text index merges 16 segments of a level at a time, in the indexer's steps and
    /// not on writes (on a write only past 64), as made by v21 and v25 and as `mailroom storage
    /// compact` rebuilds it.
    @Test func theSearchIndexMergesSixteenSegmentsAtATime() throws {
        let store = try SQLiteStore(path: tempDB())
        func merging(_ table: String) throws -> [Int?] {
            try store.writer.read { db in
                try ["automerge", "usermerge", "crisismerge"].map { k in
                    try Int.fetchOne(db, sql: "SELECT v FROM \(table)_config WHERE k = ?", arguments: [k])
                }
            }
        }
        #expect(try merging("blob_text") == [0, 16, 64])
        try store.startSearchIndexRebuild()
        #expect(try merging("blob_text_rebuild") == [0, 16, 64])
        _ = try store.finishSearchIndexRebuild()
        #expect(try merging("blob_text") == [0, 16, 64])
    }

    @Test func refusesASchemaFromANewerVersion() throws {
        let path = tempDB()
        do {
            let store = try SQLiteStore(path: path)
            try store.writer.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')")
            }
        }
        #expect {
            _ = try SQLiteStore(path: path)
        } throws: { error in
            guard let e = error as? StoreError, case .schemaTooNew(let unknown) = e else { return false }
            return unknown == ["v99-future"] && e.description.contains("newer Mailroom")
        }
    }

    @Test func writesAreAtomicWithTheirAudit() throws {
        let store = try SQLiteStore.inMemory()
        let now = Date()
        let domain = DomainRecord(name: try DomainName("example.org"), createdAt: now)
        try store.write([.insertDomain(domain)], audit: [])
        let a = AccountRecord(address: try EmailAddress("a@example.org"), createdAt: now)
        let audit = AuditEntry(
            at: now, actor: "t", action: "x", target: "a", domain: nil, before: nil, after: nil, sourceIP: nil)
        // The second write fails (same address): neither the account nor the audit entry stays.
        #expect(throws: StoreError.self) {
            try store.write(
                [
                    .insertAccount(a),
                    .insertAlias(AliasRecord(address: try EmailAddress("A@example.org"), targets: [], createdAt: now)),
                ], audit: [audit])
        }
        #expect(try store.loadDirectory().accounts.isEmpty)
        #expect(try store.auditEntries(since: nil, target: nil, domains: nil, limit: 10).isEmpty)
        try store.write([.insertAccount(a)], audit: [audit])
        #expect(try store.loadDirectory().accounts.map(\.address) == [a.address])
    }

    /// A delivery's transaction (its BEGIN and COMMIT kept prepared on the connection) keeps
    /// nothing of a write that failed half-way, and the writes after it commit.
    @Test func aDeliveryWriteThatFailsKeepsNothing() throws {
        let store = try SQLiteStore(path: tempDB())
        try store.writer.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER UNIQUE)") }
        let count = { try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } }
        for _ in 0..<3 {
            #expect(throws: DatabaseError.self) {
                try store.deliveryWrite { db in
                    try db.execute(sql: "INSERT INTO t VALUES (1)")
                    try db.execute(sql: "INSERT INTO t VALUES (1)")  // not unique
                }
            }
            #expect(try count() == 0)
        }
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try store.deliveryWrite { db in
                try db.execute(sql: "INSERT INTO t VALUES (2)")
                throw Refused()
            }
        }
        #expect(try count() == 0)
        for x in 3...5 {
            try store.deliveryWrite { db in try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [x]) }
        }
        #expect(try store.writer.read { db in try Int.fetchAll(db, sql: "SELECT x FROM t ORDER BY x") } == [3, 4, 5])
        #expect(try store.writer.writeWithoutTransaction { db in db.isInsideTransaction } == false)
    }

    @Test func dataSurvivesReopening() throws {
        let path = tempDB()
        do {
            let store = try SQLiteStore(path: path)
            try store.write(
                [.insertDomain(DomainRecord(name: try DomainName("bücher.example"), createdAt: Date()))], audit: [])
        }
        let again = try SQLiteStore(path: path)
        #expect(try again.loadDirectory().domains.map(\.name.unicode) == ["bücher.example"])
    }

    @Test func accountPagesAreSortedAndBounded() throws {
        let store = try SQLiteStore.inMemory()
        let now = Date()
        try store.write([.insertDomain(DomainRecord(name: try DomainName("example.org"), createdAt: now))], audit: [])
        try store.write(
            try (1...25).map {
                .insertAccount(
                    AccountRecord(address: try EmailAddress(String(format: "u%02d@example.org", $0)), createdAt: now))
            },
            audit: [])
        let page2 = try store.accounts(domainID: nil, offset: 10, limit: 10)
        #expect(page2.map(\.address.localPart) == (11...20).map { String(format: "u%02d", $0) })
        #expect(try store.accountCount(domainID: nil) == 25)
    }
}
