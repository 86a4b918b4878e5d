import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

/// How SQLite keeps the junk counts (v12-junk): no rows left at zero, none after the account.
/// What any store must do is in `JunkStoreContractTests`.
@Suite struct JunkTrainingTests {
    static func store() throws -> SQLiteStore {
        try StoreKind.memory.make(accounts: ["ann@example.org", "bob@example.org"])
    }

    @Test func untrainingRemovesTokensLeftAtZero() throws {
        let s = try Self.store()
        try s.trainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"], as: .spam)
        try s.trainJunk(accountID: 1, blobHash: "b", tokens: ["cheap"], as: .spam)
        #expect(try s.untrainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"]))
        #expect(try !s.untrainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"]))
        let c = try s.junkCounts(accountID: 1, tokens: ["cheap", "pills"])
        #expect(c.spamMessages == 1)
        #expect(c.tokens["cheap"]! == (0, 1))
        let rows = try s.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM junk_tokens WHERE token = 'pills'")
        }
        #expect(rows == 0)
    }

    @Test func deletingAnAccountDeletesItsCounts() throws {
        let s = try Self.store()
        try s.trainJunk(accountID: 2, blobHash: "a", tokens: ["x1"], as: .ham)
        try s.writer.write { db in try db.execute(sql: "DELETE FROM accounts WHERE id = 2") }
        let left = try s.writer.read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT (SELECT COUNT(*) FROM junk_tokens) + (SELECT COUNT(*) FROM junk_totals) + (SELECT COUNT(*) FROM junk_trained)"
            )
        }
        #expect(left == 0)
    }
}
