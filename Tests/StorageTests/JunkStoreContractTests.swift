import Foundation
import Testing

@testable import Storage
import TestSupport

/// What any ``JunkStore`` must do, run through the protocol against each implementation:
/// SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct JunkStoreContractTests {
    /// ann (id 1) and bob (id 2).
    static func store(_ kind: StoreKind) throws -> any JunkStore {
        try kind.make(accounts: ["ann@example.org", "bob@example.org"])
    }

    static let audit = AuditEntry(
        at: Date(timeIntervalSince1970: 1_800_000_000), actor: "ann@example.org", action: "junk.reset",
        target: "ann@example.org",
        domain: "example.org", before: nil, after: nil, sourceIP: nil)

    @Test(arguments: StoreKind.allCases)
    func trainingRoundTrips(_ kind: StoreKind) throws {
        let s = try Self.store(kind)
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

    @Test(arguments: StoreKind.allCases)
    func theSameMessageCountsOnceAndRetrainingMovesIt(_ kind: StoreKind) throws {
        let s = try Self.store(kind)
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
        #expect(try s.junkTraining(accountID: 2, blobHash: "a") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func untrainingAndResettingTakeCountsBackToZero(_ kind: StoreKind) throws {
        let s = try Self.store(kind)
        try s.trainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"], as: .spam)
        try s.trainJunk(accountID: 1, blobHash: "b", tokens: ["cheap"], as: .spam)
        try s.trainJunk(accountID: 1, blobHash: "c", tokens: ["agenda"], as: .ham)
        try s.trainJunk(accountID: 2, blobHash: "a", tokens: ["cheap"], as: .ham)
        #expect(try s.junkSummary(accountID: 1) == JunkSummary(hamMessages: 1, spamMessages: 2, tokens: 3))
        #expect(try s.untrainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"]))
        #expect(try !s.untrainJunk(accountID: 1, blobHash: "a", tokens: ["cheap", "pills"]))
        #expect(try s.junkTraining(accountID: 1, blobHash: "a") == nil)
        let c = try s.junkCounts(accountID: 1, tokens: ["cheap", "pills"])
        #expect(c.spamMessages == 1 && c.tokens["cheap"]! == (0, 1) && c.tokens["pills"] == nil)
        // A token left with no counts is not counted as known.
        #expect(try s.junkSummary(accountID: 1) == JunkSummary(hamMessages: 1, spamMessages: 1, tokens: 2))
        try s.resetJunk(accountID: 1, audit: Self.audit)
        #expect(try s.junkSummary(accountID: 1) == JunkSummary(hamMessages: 0, spamMessages: 0, tokens: 0))
        #expect(try s.junkTraining(accountID: 1, blobHash: "b") == nil)
        // Training again after a reset counts from zero; the other account kept its own.
        #expect(try s.trainJunk(accountID: 1, blobHash: "b", tokens: ["cheap"], as: .spam) == .trained)
        #expect(try s.junkCounts(accountID: 1, tokens: ["cheap"]).tokens["cheap"]! == (0, 1))
        #expect(try s.junkSummary(accountID: 2) == JunkSummary(hamMessages: 1, spamMessages: 0, tokens: 1))
    }

    /// The totals known without a read are never older than the database: each write that
    /// changes them is seen at once, whatever was read before it.
    @Test(arguments: StoreKind.allCases)
    func knownTotalsFollowEveryWrite(_ kind: StoreKind) throws {
        let s = try Self.store(kind)
        func expectCurrent(_ account: Int64, _ ham: Int, _ spam: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
            if let known = s.knownJunkTotals(accountID: account) {
                #expect(known == JunkTotals(ham: ham, spam: spam), sourceLocation: sourceLocation)
            }
            let read = try s.junkCounts(accountID: account, tokens: [])
            #expect(read.hamMessages == ham && read.spamMessages == spam, sourceLocation: sourceLocation)
        }
        try expectCurrent(1, 0, 0)
        try s.trainJunk(accountID: 1, blobHash: "a", tokens: ["cheap"], as: .spam)
        try expectCurrent(1, 0, 1)
        try s.trainJunk(accountID: 1, blobHash: "a", tokens: ["cheap"], as: .ham)
        try expectCurrent(1, 1, 0)
        try s.untrainJunk(accountID: 1, blobHash: "a", tokens: ["cheap"])
        try expectCurrent(1, 0, 0)
        try s.trainJunk(accountID: 1, blobHash: "b", tokens: ["cheap"], as: .spam)
        try expectCurrent(1, 0, 1)
        try s.resetJunk(accountID: 1, audit: Self.audit)
        try expectCurrent(1, 0, 0)
        try expectCurrent(2, 0, 0)
    }
}

/// SQLite's cache of the totals, which the contract above only allows.
@Suite struct AccountCacheTests {
    @Test func aReadKeepsWhatItFoundOnlyWhenNoWriteCommittedSinceItBegan() throws {
        let cache = AccountCache<JunkTotals>()
        let before = cache.generation
        cache.remember(JunkTotals(ham: 0, spam: 0), for: 1, readSince: before)
        #expect(cache.known(1) == JunkTotals(ham: 0, spam: 0))
        // A read that began before a write committed may have seen the old totals.
        let stale = cache.generation
        cache.forget(1)
        cache.remember(JunkTotals(ham: 0, spam: 0), for: 1, readSince: stale)
        #expect(cache.known(1) == nil)
        cache.remember(JunkTotals(ham: 0, spam: 1), for: 1, readSince: cache.generation)
        #expect(cache.known(1) == JunkTotals(ham: 0, spam: 1))
    }

    @Test(arguments: StoreKind.allCases)
    func aReadMakesTheTotalsKnown(_ kind: StoreKind) throws {
        let s = try kind.make(accounts: ["ann@example.org"])
        #expect(s.knownJunkTotals(accountID: 1) == nil)
        _ = try s.junkCounts(accountID: 1, tokens: [])
        #expect(s.knownJunkTotals(accountID: 1) == JunkTotals(ham: 0, spam: 0))
    }
}
