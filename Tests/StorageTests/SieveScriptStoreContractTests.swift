import Foundation
import Testing

@testable import Storage
import TestSupport

/// What any ``SieveScriptStore`` must do, run through the protocol against each
/// implementation: SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct SieveScriptStoreContractTests {
    /// ann (id 1) and bob (id 2).
    static func store(_ kind: StoreKind) throws -> any SieveScriptStore & MessageCommitStore {
        try kind.make(accounts: ["ann@example.org", "bob@example.org"])
    }

    @Test(arguments: StoreKind.allCases)
    func anAccountHasAtMostOneActiveScript(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        let t0 = Mail.t0
        try store.putSieveScript(accountID: 1, name: "b", text: "keep;", activate: false, at: t0, audit: [])
        #expect(try store.activeSieveScript(accountID: 1) == nil)
        try store.putSieveScript(accountID: 1, name: "a", text: "discard;", activate: true, at: t0 + 1, audit: [])
        #expect(try store.sieveScripts(accountID: 1).map(\.name) == ["a", "b"])
        #expect(try store.activeSieveScript(accountID: 1)?.name == "a")
        try store.setActiveSieveScript(accountID: 1, name: "b", audit: [])
        #expect(try store.sieveScripts(accountID: 1).map(\.active) == [false, true])
        // Replacing a script keeps its flag.
        try store.putSieveScript(accountID: 1, name: "b", text: "stop;", activate: false, at: t0 + 2, audit: [])
        let b = try #require(try store.sieveScript(accountID: 1, name: "b"))
        #expect(b.text == "stop;" && b.active && b.updatedAt == t0 + 2)
        #expect(throws: SieveStoreError.noSuchScript("c")) {
            try store.setActiveSieveScript(accountID: 1, name: "c", audit: [])
        }
        #expect(try store.activeSieveScript(accountID: 1)?.name == "b")
        try store.setActiveSieveScript(accountID: 1, name: nil, audit: [])
        #expect(try store.activeSieveScript(accountID: 1) == nil)
        // Another account's scripts are its own.
        #expect(try store.sieveScripts(accountID: 2).isEmpty && store.sieveScript(accountID: 2, name: "a") == nil)
        #expect(throws: SieveStoreError.noSuchScript("a")) {
            try store.setActiveSieveScript(accountID: 2, name: "a", audit: [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func scriptsAreRenamedAndDeletedByName(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        try store.putSieveScript(accountID: 1, name: "a", text: "keep;", activate: true, at: Mail.t0, audit: [])
        try store.putSieveScript(accountID: 1, name: "b", text: "discard;", activate: false, at: Mail.t0, audit: [])
        // Each change shows in the next read of the active script, which an earlier read may
        // have made known without the database.
        #expect(try store.activeSieveScript(accountID: 1)?.name == "a")
        try store.renameSieveScript(accountID: 1, from: "a", to: "c", audit: [])
        #expect(try store.activeSieveScript(accountID: 1)?.name == "c")
        let c = try #require(try store.sieveScript(accountID: 1, name: "c"))
        #expect(c.text == "keep;" && c.active)
        #expect(try store.sieveScript(accountID: 1, name: "a") == nil)
        #expect(throws: SieveStoreError.nameTaken("b")) {
            try store.renameSieveScript(accountID: 1, from: "c", to: "b", audit: [])
        }
        #expect(throws: SieveStoreError.noSuchScript("a")) {
            try store.renameSieveScript(accountID: 1, from: "a", to: "d", audit: [])
        }
        try store.deleteSieveScript(accountID: 1, name: "b", audit: [])
        #expect(throws: SieveStoreError.noSuchScript("b")) {
            try store.deleteSieveScript(accountID: 1, name: "b", audit: [])
        }
        #expect(try store.sieveScripts(accountID: 1).map(\.name) == ["c"])
        try store.deleteSieveScript(accountID: 1, name: "c", audit: [])
        #expect(try store.activeSieveScript(accountID: 1) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func vacationRepliesAndDuplicatesAreRememberedWithTheMessage(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        let t0 = Mail.t0
        var first = Mail.commit(1, to: [1], at: t0)
        first.sieve.replies = [.init(accountID: 1, handle: "away", sender: "X@Remote.test")]
        first.sieve.seen = [.init(accountID: 1, handle: "dup", uniqueID: "<m1@example.org>", fresh: true)]
        try store.commit([first])
        #expect(try store.lastVacationReply(accountID: 1, handle: "away", sender: "x@remote.test") == t0)
        #expect(try store.lastVacationReply(accountID: 1, handle: "away", sender: "y@remote.test") == nil)
        #expect(try store.lastVacationReply(accountID: 2, handle: "away", sender: "x@remote.test") == nil)
        #expect(
            try store.sieveSeen(accountID: 1, handle: "dup", uniqueID: "<m1@example.org>", since: t0 - 60, last: false))
        #expect(try !store.sieveSeen(accountID: 1, handle: "dup", uniqueID: "<m1@example.org>", since: t0, last: false))
        #expect(
            try !store.sieveSeen(
                accountID: 1, handle: "other", uniqueID: "<m1@example.org>", since: t0 - 60, last: false))
        // Seen again an hour later, not fresh: the first sighting stays, the last moves.
        var again = Mail.commit(2, to: [1], at: t0 + 3600)
        again.sieve.seen = [.init(accountID: 1, handle: "dup", uniqueID: "<m1@example.org>", fresh: false)]
        again.sieve.replies = [.init(accountID: 1, handle: "away", sender: "x@remote.test")]
        try store.commit([again])
        #expect(
            try !store.sieveSeen(accountID: 1, handle: "dup", uniqueID: "<m1@example.org>", since: t0 + 60, last: false)
        )
        #expect(
            try store.sieveSeen(accountID: 1, handle: "dup", uniqueID: "<m1@example.org>", since: t0 + 60, last: true))
        #expect(try store.lastVacationReply(accountID: 1, handle: "away", sender: "x@remote.test") == t0 + 3600)
    }
}
