import Foundation
import GRDB
import Synchronization
import Testing

@testable import Storage
import TestSupport

/// What any ``SearchIndexStore`` must do, run through the protocol against each
/// implementation: SQLite in memory (one connection) and on disk (WAL, a writer and readers).
@Suite struct SearchIndexStoreContractTests {
    static func store(_ kind: StoreKind) throws -> (
        any SearchIndexStore & MessageCommitStore & MailboxStore, inbox: Int64
    ) {
        let (store, inbox) = try kind.makeWithInbox()
        return (store, inbox)
    }

    /// The words of the messages `pending` names (message n's blob is `hash-n`).
    static func words(_ pending: [PendingIndex]) -> [(rowid: Int64, text: SearchText)] {
        pending.map { p in (p.rowid, Mail.text(Mail.number(p.hash))) }
    }

    @Test(arguments: StoreKind.allCases)
    func theBacklogDrainsAndWhatLeftItIsFound(_ kind: StoreKind) throws {
        let (store, inbox) = try Self.store(kind)
        try store.commit((1...3).map { Mail.commit($0, to: [1], indexed: false) })
        #expect(try store.indexBacklogCount() == 3)
        #expect(try store.unindexedUIDs(mailboxID: inbox) == [1, 2, 3])
        let pending = try store.indexBacklog(limit: 2)
        #expect(pending.map(\.inline) == [Mail.bytes(1), Mail.bytes(2)] && pending.allSatisfy { !$0.gone })
        try store.finishIndexing(Self.words(pending), metas: [:], done: pending.map(\.rowid))
        #expect(try store.indexBacklogCount() == 1)
        #expect(try store.unindexedUIDs(mailboxID: inbox) == [3])
        #expect(try store.textSearch(mailboxID: inbox, fields: [.body], needle: "word2") == [2])
        // Taken off once: finishing the same rows again indexes nothing twice.
        try store.finishIndexing(Self.words(pending), metas: [:], done: pending.map(\.rowid))
        #expect(try store.indexBacklogCount() == 1)
        let rest = try store.indexBacklog(limit: 10)
        #expect(rest.map(\.inline) == [Mail.bytes(3)])
        try store.finishIndexing(Self.words(rest), metas: [:], done: rest.map(\.rowid))
        #expect(try store.indexBacklogCount() == 0 && store.indexBacklog(limit: 10).isEmpty)
        #expect(try store.unindexedUIDs(mailboxID: inbox).isEmpty)
        #expect(try store.textSearch(mailboxID: inbox, fields: SearchText.Field.allCases, needle: "word3") == [3])
        // Mail indexed as it is stored never enters the backlog.
        try store.commit([Mail.commit(4, to: [1])])
        #expect(
            try store.indexBacklogCount() == 0
                && store.textSearch(mailboxID: inbox, fields: [.body], needle: "word4") == [4])
    }

    /// SORT's keys are kept with the metadata, and read back with the Date: instant; mail
    /// without them has none to read (SORT reads its envelope).
    @Test(arguments: StoreKind.allCases)
    func sortKeysAreKeptWithTheMetadata(_ kind: StoreKind) throws {
        let (store, inbox) = try Self.store(kind)
        let keys = SortKeys(
            subject: Array("Zebra".utf8), from: Array("ann".utf8), to: Array("bob".utf8), cc: [],
            fromName: Array("Ann Ö".utf8),
            toName: [], thread: ThreadKeys(messageID: "m@x", references: ["a@x", "b@x"], isReplyOrForward: true))
        var meta = Mail.meta(1, indexed: true)
        meta.sortKeys = keys
        meta.sentDate = Date(timeIntervalSince1970: 1000)
        var with = Mail.commit(1, to: [1])
        with.meta = meta
        try store.commit([with, Mail.commit(2, to: [1]), Mail.commit(3, to: [1], indexed: false, withMeta: false)])
        var rows: [(uid: Int64, sent: Double?, keys: SortKeys?)] = []
        try store.scanSortKeys(mailboxID: inbox, uids: 1, 3) { row in
            let k = row.keys.map {
                SortKeys(
                    subject: Array($0.subject), from: Array($0.from), to: Array($0.to), cc: Array($0.cc),
                    fromName: Array($0.fromName), toName: Array($0.toName),
                    thread: $0.thread.flatMap(ThreadKeys.init(encoded:)))
            }
            rows.append((row.uid, row.sentDate, k))
        }
        #expect(rows.map(\.uid) == [1, 2, 3])
        #expect(rows.map(\.keys) == [keys, nil, nil])
        #expect(rows.map(\.sent) == [1000, nil, nil])
        #expect(try store.sortKeysBacklog(limit: 10).isEmpty, "only mail stored before keys were kept waits for them")
        #expect(try store.threadKeysBacklog(limit: 10).isEmpty)
    }

    /// THREAD's keys as kept: every form reads back the same, and bytes that are not one read
    /// as none (the header is then read again).
    @Test(arguments: [
        ThreadKeys(messageID: "m@x", references: ["a@x", "b@x"], isReplyOrForward: true),
        ThreadKeys(messageID: nil, references: ["a@x"], isReplyOrForward: false),
        ThreadKeys(messageID: "m@x", references: [], isReplyOrForward: false),
        ThreadKeys(messageID: nil, references: [], isReplyOrForward: true),
        ThreadKeys(messageID: "ü@例え.jp", references: ["\"q\"@[1.2.3.4]"], isReplyOrForward: false),
    ])
    func threadKeysRoundTrip(_ keys: ThreadKeys) {
        #expect(keys.encoded.withUnsafeBytes { ThreadKeys(encoded: $0) } == keys)
    }

    @Test(arguments: [[], [2], [0xFF, 0x61], Array("xm@x".utf8)])
    func bytesThatAreNoThreadKeysReadAsNone(_ bytes: [UInt8]) {
        #expect(bytes.withUnsafeBytes { ThreadKeys(encoded: $0) } == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func mailStoredWithoutItsMetadataGetsItFromTheIndexer(_ kind: StoreKind) throws {
        let (store, inbox) = try Self.store(kind)
        try store.commit([Mail.commit(1, to: [1], indexed: false, withMeta: false)])
        func stored() throws -> [(Bool, [UInt8]?)] {
            var rows: [(Bool, [UInt8]?)] = []
            try store.scanSortFields(mailboxID: inbox, uids: 1, 1) {
                rows.append(($0.stored, $0.envelope.map { Array($0) }))
            }
            return rows
        }
        #expect(try stored().map(\.0) == [false])
        let pending = try store.indexBacklog(limit: 10)
        #expect(pending.map(\.needsMeta) == [true])
        let meta = Mail.meta(1, indexed: false)
        try store.finishIndexing(Self.words(pending), metas: [pending[0].rowid: meta], done: pending.map(\.rowid))
        #expect(try stored().map(\.0) == [true] && stored().map(\.1) == [meta.envelope])
        #expect(try store.textSearch(mailboxID: inbox, fields: [.body], needle: "word1") == [1])
        // Mail stored with its metadata waits only for its words; a blob that no mailbox
        // holds (only queued for other servers) waits for nothing.
        try store.commit([Mail.commit(2, to: [1], indexed: false)])
        #expect(try store.indexBacklog(limit: 10).map(\.needsMeta) == [false])
        try store.commit([Mail.commit(3, to: [], remote: ["r@example.net"], withMeta: false)])
        #expect(try store.indexBacklogCount() == 1)
    }

    /// Writes leave merging to the indexer's steps: a level that gathered 16 segments (one
    /// per transaction here) is merged a few pages at a time, until there is nothing to merge.
    @Test(arguments: StoreKind.allCases)
    func theIndexIsMergedInStepsWhenAsked(_ kind: StoreKind) throws {
        let (store, inbox) = try Self.store(kind)
        #expect(try !store.mergeSearchIndex(pages: 64), "nothing to merge in an empty index")
        for n in 1...15 { try store.commit([Mail.commit(n, to: [1])]) }
        #expect(try !store.mergeSearchIndex(pages: 64), "15 segments are not a level to merge")
        for n in 16...20 { try store.commit([Mail.commit(n, to: [1])]) }
        var steps = 0
        while try store.mergeSearchIndex(pages: 1), steps < 1_000 { steps += 1 }
        #expect(steps >= 1 && steps < 1_000, "\(steps) steps")
        #expect(try !store.mergeSearchIndex(pages: 64))
        for n in 1...20 {
            let expected = Set((1...20).filter { "word\($0)".hasPrefix("word\(n)") }.map(Int64.init))
            #expect(try store.textSearch(mailboxID: inbox, fields: [.body], needle: "word\(n)") == expected)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRebuiltIndexFindsWhatTheOldOneDid(_ kind: StoreKind) throws {
        let (store, inbox) = try Self.store(kind)
        try store.commit((1...3).map { Mail.commit($0, to: [1]) })
        try store.startSearchIndexRebuild()
        var after: Int64 = 0
        var rebuilt = 0
        while true {
            let batch = try store.indexedBlobs(after: after, limit: 2)
            guard let last = batch.last else { break }
            #expect(batch.map(\.rowid) == batch.map(\.rowid).sorted() && batch[0].rowid > after)
            try store.addToRebuiltSearchIndex(
                batch.map { b in (b.rowid, Mail.text(Mail.number(b.hash))) })
            rebuilt += batch.count
            after = last.rowid
        }
        #expect(rebuilt == 3)
        #expect(try store.finishSearchIndexRebuild() == 0)
        for n in 1...3 {
            #expect(try store.textSearch(mailboxID: inbox, fields: [.body], needle: "word\(n)") == [Int64(n)])
        }
    }
}

/// SQLite's indexer lets deliveries go first, which the contract above only allows.
@Suite struct SearchIndexYieldTests {
    @Test(arguments: StoreKind.allCases)
    func aWaitingDeliveryEndsTheIndexingTransactionEarly(_ kind: StoreKind) throws {
        let (store, inbox) = try kind.makeWithInbox()
        try store.commit((1...20).map { Mail.commit($0, to: [1], indexed: false) })
        let pending = try store.indexBacklog(limit: 64)
        #expect(pending.count == 20)
        // A delivery waits for the writer: the indexer takes its minimum, then gives way.
        store.deliveriesWaiting.add(1, ordering: .relaxed)
        let first = try store.finishIndexing(
            SearchIndexStoreContractTests.words(pending), metas: [:], done: pending.map(\.rowid))
        store.deliveriesWaiting.subtract(1, ordering: .relaxed)
        #expect(first == SQLiteStore.indexedBeforeYielding)
        #expect(try store.indexBacklogCount() == 20 - first)
        #expect(try store.unindexedUIDs(mailboxID: inbox) == Array(Int64(first + 1)...20))
        // Nobody waits: the rest go in one transaction.
        let rest = Array(pending.map(\.rowid).dropFirst(first))
        #expect(
            try store.finishIndexing(SearchIndexStoreContractTests.words(pending), metas: [:], done: rest) == rest.count
        )
        #expect(try store.indexBacklogCount() == 0)
        #expect(try store.textSearch(mailboxID: inbox, fields: [.body], needle: "word20") == [20])
    }

    @Test func theIndexingTransactionLeavesTheConnectionsDurabilityAsItWas() throws {
        let (store, _) = try StoreKind.file.makeWithInbox()
        try store.commit([Mail.commit(1, to: [1], indexed: false)])
        let pending = try store.indexBacklog(limit: 1)
        try store.finishIndexing(SearchIndexStoreContractTests.words(pending), metas: [:], done: pending.map(\.rowid))
        // FULL (2), as the store opened it: deliveries still fsync before their 250.
        #expect(try store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
    }
}
