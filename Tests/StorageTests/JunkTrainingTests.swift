import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

/// Per-account token counts (v12-junk): training, retraining, untraining, loading.
@Suite struct JunkTrainingTests {
    static func store() throws -> SQLiteStore {
        try StoreKind.memory.make(accounts: ["ann@example.org", "bob@example.org"])
    }

    @Test func trainingRoundTrips() throws {
        let s = try Self.store()
        #expect(
            try s.trainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills", "cheap"], as: .spam) == .trained)
        #expect(try s.trainJunk(accountID: 1, blobHash: "b", tokens: ["cheap", "meeting"], as: .ham) == .trained)
        let c = try s.junkCounts(accountID: 1, tokens: ["cheap", "pills", "meeting", "never"])
        #expect(c.hamMessages == 1 && c.spamMessages == 1)
        #expect(c.tokens["cheap"]! == (1, 1))
        #expect(c.tokens["pills"]! == (0, 1))
        #expect(c.tokens["meeting"]! == (1, 0))
        #expect(c.tokens["never"] == nil)
        // Another account has learned nothing.
        let other = try s.junkCounts(accountID: 2, tokens: ["cheap"])
        #expect(other.hamMessages == 0 && other.spamMessages == 0 && other.tokens.isEmpty)
    }

    @Test func theSameMessageCountsOnceAndRetrainingMovesIt() throws {
        let s = try Self.store()
        try s.trainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"], as: .spam)
        #expect(try s.trainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"], as: .spam) == .unchanged)
        #expect(try s.junkCounts(accountID: 1, tokens: ["cheap"]).spamMessages == 1)
        // Moved out of Junk: spam undone, ham learned, in one transaction.
        #expect(
            try s.trainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"], as: .ham)
                == .retrained(from: .spam))
        let c = try s.junkCounts(accountID: 1, tokens: ["cheap", "pills"])
        #expect(c.hamMessages == 1 && c.spamMessages == 0)
        #expect(c.tokens["cheap"]! == (1, 0))
        #expect(try s.junkTraining(accountID: 1, blobHash: "a") == .ham)
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
