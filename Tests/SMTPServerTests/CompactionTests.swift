import AdminModels
import Foundation
import GRDB
import Testing

@testable import Delivery
@testable import Directory
@testable import MailCore
@testable import SMTP
@testable import Storage

/// `mailroom storage compact`: the search index built afresh holds the words of the messages
/// still stored and no others.
@Suite struct CompactionTests {
    let sweep = BlobSweepTests()

    /// Index rows holding `word`, whatever mailbox or message they belong to.
    func indexRows(_ h: PolicyHarness, _ word: String) throws -> Int {
        // Delivery leaves the words to the background indexer: let it finish first.
        try h.delivery.indexWaitingMessages()
        return try h.store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blob_text WHERE blob_text MATCH ?", arguments: ["\"\(word)\""]) ?? -1
        }
    }

    func search(_ h: PolicyHarness, _ address: String, _ word: String) throws -> Set<Int64> {
        let account = try #require(h.dir.snapshot.account(try EmailAddress(address))?.id)
        let inbox = try #require(try h.store.mailbox(accountID: account, name: "INBOX"))
        try h.delivery.indexWaitingMessages()
        return try h.store.textSearch(mailboxID: inbox.id, fields: [.body], needle: word)
    }

    @Test func theIndexKeepsOnlyTheWordsOfMessagesStillStored() async throws {
        let h = try PolicyHarness()
        let big = sweep.message(["bob@example.org"], body: String(repeating: "wombatcrossing 0123456789\r\n", count: 12_000))
        _ = try await h.delivery.deliver(sweep.message(["alice@example.org"], body: "platypusfeeding inline\r\n"))
        _ = try await h.delivery.deliver(sweep.message(["alice@example.org"], body: "echidnaburrow kept\r\n"))
        _ = try await h.delivery.deliver(big)
        let bigFile = h.delivery.blobs.path(of: try sweep.inbox(h, "bob@example.org")[0].blobHash)
        // alice expunges the first of her two; bob's account goes.
        let alice = try #require(h.dir.snapshot.account(try EmailAddress("alice@example.org"))?.id)
        let (inbox, uids) = try #require(try h.store.openMailbox(accountID: alice, name: "INBOX"))
        _ = try h.store.storeFlags(mailboxID: inbox.id, uids: [uids[0]], change: .add, flags: ["\\Deleted"], unchangedSince: nil)
        _ = try h.store.expunge(mailboxID: inbox.id, uids: nil)
        _ = try h.dir.removeAccount("bob@example.org", actor: sweep.admin)
        #expect(try indexRows(h, "platypusfeeding") == 1 && indexRows(h, "wombatcrossing") == 1, "kept until compacted")
        _ = try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1))
        var usage = try h.delivery.storageUsage(actor: sweep.admin)
        #expect(usage.mailboxEntries == 1 && usage.storedMessages == 1 && usage.files == 0 && usage.sweptRecords == 2)
        #expect(usage.inlineBytes > 0 && usage.databaseBytes > usage.inlineBytes)

        var progress: [Int] = []
        let report = try h.delivery.compact { progress.append($0) }
        usage = try h.delivery.storageUsage(actor: sweep.admin)
        #expect(usage.storedMessages == 1 && usage.sweptRecords == 0)
        #expect(report.sweep.unreferenced == 0 && report.sweep.filesRemoved == 0, "the sweep before took them")
        #expect(report.reindexed == 1 && report.unreadable.isEmpty && report.rowsRemoved == 2)
        #expect(progress.last == 1)
        #expect(!FileManager.default.fileExists(atPath: bigFile))
        #expect(try indexRows(h, "platypusfeeding") == 0 && indexRows(h, "wombatcrossing") == 0)
        #expect(try indexRows(h, "echidnaburrow") == 1)
        #expect(try search(h, "alice@example.org", "echidnaburrow").count == 1)

        // The same bytes delivered again are a new record, indexed again.
        _ = try h.dir.addAccount("bob@example.org", actor: sweep.admin)
        _ = try await h.delivery.deliver(big)
        #expect(try search(h, "bob@example.org", "wombatcrossing").count == 1)
        #expect(try h.delivery.readBlob(try sweep.inbox(h, "bob@example.org")[0].blobHash) == Array(big.receivedHeader.utf8) + big.data)
    }

    @Test func aMessageWhoseFileIsMissingIsReportedAndTheRestIndexed() async throws {
        let h = try PolicyHarness()
        _ = try await h.delivery.deliver(sweep.message(["carol@example.org"], body: String(repeating: "lostfile 0123456789\r\n", count: 20_000)))
        _ = try await h.delivery.deliver(sweep.message(["carol@example.org"], body: "stillhere\r\n"))
        let lost = try sweep.inbox(h, "carol@example.org").map(\.blobHash).first { FileManager.default.fileExists(atPath: h.delivery.blobs.path(of: $0)) }
        try FileManager.default.removeItem(atPath: h.delivery.blobs.path(of: try #require(lost)))
        let report = try h.delivery.compact()
        #expect(report.unreadable == [lost] && report.reindexed == 1)
        #expect(try search(h, "carol@example.org", "stillhere").count == 1)
    }
}
