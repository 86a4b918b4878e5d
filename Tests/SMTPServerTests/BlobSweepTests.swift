import AdminModels
import Foundation
import Testing

@testable import Delivery
@testable import Directory
@testable import MailCore
@testable import SMTP
@testable import Storage

/// Sweeping the bytes of messages nothing refers to any more.
@Suite struct BlobSweepTests {
    let admin = AdminActor(name: "t", role: .serverAdmin)

    func message(_ rcpts: [String], body: String) -> InboundMessage {
        InboundMessage(
            sender: "sender@elsewhere.com", recipients: rcpts,
            data: Array("Subject: sweep\r\nMessage-ID: <id-\(UUID().uuidString)@x>\r\n\r\n\(body)".utf8),
            receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "client", tls: nil, authenticatedUser: nil)
    }

    /// Flags every message of `address`'s INBOX \Deleted and expunges them.
    func emptyInbox(_ h: PolicyHarness, _ address: String) throws {
        let account = try #require(h.dir.snapshot.account(try EmailAddress(address))?.id)
        let (inbox, uids) = try #require(try h.store.openMailbox(accountID: account, name: "INBOX"))
        _ = try h.store.storeFlags(mailboxID: inbox.id, uids: uids, change: .add, flags: ["\\Deleted"], unchangedSince: nil)
        #expect(try h.store.expunge(mailboxID: inbox.id, uids: nil).count == uids.count)
    }

    func inbox(_ h: PolicyHarness, _ address: String) throws -> [StoredMessage] {
        try h.store.inboxMessages(accountID: try #require(h.dir.snapshot.account(try EmailAddress(address))?.id))
    }

    @Test func expungedBytesAreFreedWhileAnotherMailboxStillHoldsThem() async throws {
        let h = try PolicyHarness()
        let big = message(["alice@example.org", "bob@example.org"], body: String(repeating: "zebracrossing 0123456789\r\n", count: 12_000))
        _ = try await h.delivery.deliver(message(["alice@example.org"], body: "small and inline\r\n"))
        _ = try await h.delivery.deliver(big)
        let file = h.delivery.blobs.path(of: try inbox(h, "bob@example.org")[0].blobHash)
        #expect(FileManager.default.fileExists(atPath: file))

        #expect(try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1)) == BlobSweepReport(), "nothing to sweep")
        try emptyInbox(h, "alice@example.org")
        var report = try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1))
        #expect(report.unreferenced == 1, "the small message; bob still holds the big one")
        #expect(report.inlineBytesFreed > 0 && report.filesRemoved == 0)
        #expect(FileManager.default.fileExists(atPath: file))
        #expect(try h.delivery.readBlob(try inbox(h, "bob@example.org")[0].blobHash).count > 300_000)

        try emptyInbox(h, "bob@example.org")
        report = try h.delivery.sweepBlobs(now: Date())
        #expect(report.unreferenced == 1 && report.filesKept == 1 && report.filesRemoved == 0, "written moments ago: kept")
        #expect(FileManager.default.fileExists(atPath: file))
        report = try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1))
        #expect(report.unreferenced == 0 && report.filesRemoved == 1 && report.fileBytesFreed > 300_000)
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try h.store.referencedBlobs().isEmpty)
        #expect(try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1)) == BlobSweepReport(), "nothing left")
    }

    @Test func theSameBytesStoredAgainAfterASweepAreWholeAndSearchable() async throws {
        let h = try PolicyHarness()
        let big = message(["carol@example.org"], body: String(repeating: "quokkasighting 0123456789\r\n", count: 12_000))
        _ = try await h.delivery.deliver(big)
        try emptyInbox(h, "carol@example.org")
        #expect(try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1)).filesRemoved == 1)

        _ = try await h.delivery.deliver(big)
        let stored = try inbox(h, "carol@example.org")
        #expect(stored.count == 1)
        #expect(try h.store.referencedBlobs() == [stored[0].blobHash], "counted as live again")
        #expect(try h.delivery.readBlob(stored[0].blobHash) == Array(big.receivedHeader.utf8) + big.data)
        let account = try #require(h.dir.snapshot.account(try EmailAddress("carol@example.org"))?.id)
        let mailbox = try #require(try h.store.mailbox(accountID: account, name: "INBOX"))
        try h.delivery.indexWaitingMessages()
        #expect(try h.store.textSearch(mailboxID: mailbox.id, fields: [.body], needle: "quokkasight") == [stored[0].uid])
        #expect(try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1)) == BlobSweepReport(), "live again")
        #expect(try h.delivery.readBlob(stored[0].blobHash).count > 300_000)
    }

    @Test func aRemovedAccountsMailIsFreed() async throws {
        let h = try PolicyHarness()
        _ = try await h.delivery.deliver(message(["carol@example.org"], body: String(repeating: "x", count: 300_000) + "\r\n"))
        let file = h.delivery.blobs.path(of: try inbox(h, "carol@example.org")[0].blobHash)
        _ = try h.dir.removeAccount("carol@example.org", actor: admin)
        let report = try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1))
        #expect(report.unreferenced == 1 && report.filesRemoved == 1)
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    /// Ages a file, as if written an hour ago.
    func age(_ path: String) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: path)
    }

    @Test func filesOfInterruptedDeliveriesAreRemovedAfterTheGrace() async throws {
        let h = try PolicyHarness()
        let live = message(["alice@example.org"], body: String(repeating: "kept 0123456789\r\n", count: 20_000))
        _ = try await h.delivery.deliver(live)
        let liveFile = h.delivery.blobs.path(of: try inbox(h, "alice@example.org")[0].blobHash)
        // Bytes whose file a sweep removed, written again by a delivery that then failed.
        let again = message(["bob@example.org"], body: String(repeating: "again 0123456789\r\n", count: 20_000))
        _ = try await h.delivery.deliver(again)
        try emptyInbox(h, "bob@example.org")
        #expect(try h.delivery.sweepBlobs(grace: 0, now: Date().addingTimeInterval(1)).filesRemoved == 1)
        let rewritten = h.delivery.blobs.path(of: try h.delivery.blobs.put(Array(again.receivedHeader.utf8) + again.data))
        // Bytes written as a delivery would, with no commit after them; and a write cut off
        // before its rename.
        let stray = h.delivery.blobs.path(of: try h.delivery.blobs.put(Array(String(repeating: "y", count: 300_000).utf8)))
        let temporary = h.delivery.blobs.root + "/ab/.tmp-cdef-123"
        try FileManager.default.createDirectory(atPath: h.delivery.blobs.root + "/ab", withIntermediateDirectories: true)
        try Data("half a message".utf8).write(to: URL(fileURLWithPath: temporary))

        var report = try h.delivery.sweepBlobs()
        #expect(report.strayFilesRemoved == 0, "written moments ago: perhaps a delivery about to commit")
        for file in [liveFile, stray, temporary, rewritten] { #expect(FileManager.default.fileExists(atPath: file)) }

        for file in [liveFile, stray, temporary, rewritten] { try age(file) }
        report = try h.delivery.sweepBlobs()
        #expect(report.strayFilesRemoved == 3 && report.strayBytesFreed > 600_000)
        for file in [stray, temporary, rewritten] { #expect(!FileManager.default.fileExists(atPath: file), "\(file)") }
        #expect(try h.delivery.readBlob(try inbox(h, "alice@example.org")[0].blobHash) == Array(live.receivedHeader.utf8) + live.data)
        #expect(try h.delivery.sweepBlobs() == BlobSweepReport(), "nothing left")
    }

    @Test func onlyServerAdminsMaySweep() throws {
        let h = try PolicyHarness()
        let domainAdmin = AdminActor(name: "d", role: .domainAdmin, domains: [try DomainName("example.org")])
        #expect(throws: AdminError.self) { try h.delivery.sweepBlobs(actor: domainAdmin) }
        #expect(try h.delivery.sweepBlobs(actor: admin) == BlobSweepReport())
    }
}
