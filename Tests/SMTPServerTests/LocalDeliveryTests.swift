import AdminModels
import Foundation
import Testing

@testable import Delivery
@testable import Directory
@testable import MailCore
@testable import SMTP
@testable import SMTPServer
@testable import Storage

@Suite struct LocalDeliveryTests {
    func message(_ rcpts: [String], headers: String = "", body: String = "hello\r\n") -> InboundMessage {
        InboundMessage(
            sender: "sender@elsewhere.com", recipients: rcpts,
            data: Array("Subject: test\r\nMessage-ID: <id-\(UUID().uuidString)@x>\r\n\(headers)\r\n\(body)".utf8),
            receivedHeader: "Received: from test\r\n", clientIP: "192.0.2.1", helo: "client", tls: nil, authenticatedUser: nil)
    }

    func account(_ h: PolicyHarness, _ address: String) throws -> Int64 {
        try #require(h.dir.snapshot.account(try EmailAddress(address))?.id)
    }

    @Test func aListMessageIsStoredOnceForAllMembers() async throws {
        let h = try PolicyHarness()
        let admin = AdminActor(name: "t", role: .serverAdmin)
        let members = (1...200).map { "m\($0)@example.org" }
        for m in members { _ = try h.dir.addAccount(m, actor: admin) }
        _ = try h.dir.createList("all@example.org", members: members, actor: admin)
        let qid = try await h.delivery.deliver(message(["all@example.org"]))
        #expect(try h.store.referencedBlobs().count == 1)
        let stored = try h.store.inboxMessages(accountID: try account(h, "m77@example.org"))
        #expect(stored.count == 1)
        #expect(stored[0].queueID == qid)
        let prefix = String(decoding: stored[0].headerPrefix, as: UTF8.self)
        #expect(prefix == "Return-Path: <sender@elsewhere.com>\r\nDelivered-To: all@example.org\r\n")
        let blob = String(decoding: try h.delivery.readBlob(stored[0].blobHash), as: UTF8.self)
        #expect(blob.hasPrefix("Received: from test\r\nList-Id: <all.example.org>\r\nList-Post: <mailto:all@example.org>\r\n"))
        let trace = try h.dir.trace(messageID: nil, sender: nil, recipient: "m5@example.org", since: nil, limit: 10, actor: admin)
        #expect(trace.first?.events.contains { $0.event == "stored" && $0.detail?.contains("via all@example.org") == true } == true)
    }

    @Test func largeMessagesBecomeBlobFilesSmallOnesStayInTheDatabase() async throws {
        let h = try PolicyHarness()
        _ = try await h.delivery.deliver(message(["alice@example.org"]))
        let big = String(repeating: "0123456789abcdef\r\n", count: 20_000)
        _ = try await h.delivery.deliver(message(["alice@example.org"], body: big))
        let inbox = try h.store.inboxMessages(accountID: try account(h, "alice@example.org"))
        #expect(try h.store.inlineBlob(inbox[0].blobHash) != nil)
        #expect(try h.store.inlineBlob(inbox[1].blobHash) == nil)
        #expect(FileManager.default.fileExists(atPath: h.delivery.blobs.path(of: inbox[1].blobHash)))
        #expect(!FileManager.default.fileExists(atPath: h.delivery.blobs.path(of: inbox[0].blobHash)))
        #expect(String(decoding: try h.delivery.readBlob(inbox[1].blobHash), as: UTF8.self).hasSuffix(big))
    }

    @Test func eachRecipientGetsOneCopyAndUIDsIncrease() async throws {
        let h = try PolicyHarness()
        _ = try await h.delivery.deliver(message(["alice@example.org", "ALICE+x@example.net", "sales@example.org", "eng@example.org"]))
        _ = try await h.delivery.deliver(message(["alice@example.org"]))
        let inbox = try h.store.inboxMessages(accountID: try account(h, "alice@example.org"))
        #expect(inbox.map(\.uid) == [1, 2])
        #expect(inbox[1].modseq > inbox[0].modseq)
        #expect(try h.store.inboxMessages(accountID: try account(h, "bob@example.org")).count == 1)
    }

    @Test func loopsAreRefused() async throws {
        let h = try PolicyHarness()
        await #expect(throws: DeliveryRefusal.self) {
            _ = try await h.delivery.deliver(message(["alice@example.org"], headers: "Delivered-To: alice@example.org\r\n"))
        }
        let many = String(repeating: "Received: from a by b; Mon, 1 Jan 2026 00:00:00 +0000\r\n", count: 50)
        do {
            _ = try await h.delivery.deliver(message(["alice@example.org"], headers: many))
            Issue.record("accepted a looping message")
        } catch let r as DeliveryRefusal {
            #expect(r.code == 554 && r.enhanced == "5.4.6")
        }
        #expect(try h.store.inboxMessages(accountID: try account(h, "alice@example.org")).isEmpty)
    }

    @Test func moderatedListsHoldMessages() async throws {
        let h = try PolicyHarness()
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try h.dir.createList("mod@example.org", members: ["carol@example.org"], actor: admin)
        _ = try h.dir.updateList("mod@example.org", postingPolicy: "moderated", moderators: ["bob@example.org"], actor: admin)
        #expect(h.rcpt("<mod@example.org>") == 250)
        _ = try await h.delivery.deliver(message(["mod@example.org"]))
        #expect(try h.store.inboxMessages(accountID: try account(h, "carol@example.org")).isEmpty)
        let trace = try h.dir.trace(messageID: nil, sender: nil, recipient: "mod@example.org", since: nil, limit: 10, actor: admin)
        #expect(trace.first?.events.map(\.event).contains("held") == true)
    }

    @Test func remoteRecipientsAreQueuedInTheSameCommit() async throws {
        let h = try PolicyHarness()
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try h.dir.addAlias("fwd@example.org", targets: ["friend@partner.test", "bob@example.org"], actor: admin)
        _ = try await h.delivery.deliver(message(["fwd@example.org", "other@remote.test"]))
        let queued = try h.store.queuedRecipients().map(\.recipient).sorted()
        #expect(queued == ["friend@partner.test", "other@remote.test"])
    }

    @Test func concurrentDeliveriesShareCommits() async throws {
        let h = try PolicyHarness()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask { _ = try? await h.delivery.deliver(self.message(["bob@example.org"])) }
            }
        }
        #expect(try h.store.inboxMessages(accountID: try account(h, "bob@example.org")).count == 40)
        let stats = h.delivery.commitStats
        #expect(stats.messages == 40)
        #expect(stats.batches <= 40)
    }

    @Test func fullMailboxesAreRefusedAtRCPT() async throws {
        let h = try PolicyHarness()
        #expect(h.rcpt("<full@example.org>") == 250)
        _ = try await h.delivery.deliver(message(["full@example.org"], body: String(repeating: "x", count: 2000) + "\r\n"))
        #expect(h.rcpt("<full@example.org>") == 452)
    }
}

@Suite struct ListHeadersTests {
    func list(_ policy: PostingPolicy = .anyone, prefix: String = "", replyTo: ReplyToMode = .sender, owners: [String] = []) throws -> ListRecord {
        ListRecord(
            address: try EmailAddress("eng.team@example.org"), name: "Engineering", postingPolicy: policy, owners: owners,
            subjectPrefix: prefix, replyTo: replyTo, createdAt: Date())
    }

    func apply(_ l: ListRecord, _ message: String) -> String {
        String(decoding: ListHeaders.apply(l, to: Array(message.utf8)), as: UTF8.self)
    }

    @Test func addsListHeadersPrefixAndReplyTo() throws {
        let out = apply(
            try list(prefix: "[eng]", replyTo: .list, owners: ["boss@example.org"]),
            "From: a@b.org\r\nSubject: build is\r\n\tbroken\r\nReply-To: a@b.org\r\n\r\nbody\r\n")
        #expect(out.hasPrefix("List-Id: \"Engineering\" <eng-team.example.org>\r\nList-Post: <mailto:eng.team@example.org>\r\n"))
        #expect(out.contains("List-Owner: <mailto:boss@example.org>\r\n"))
        #expect(out.contains("Subject: [eng] build is\r\n\tbroken\r\n"))
        #expect(out.contains("Reply-To: <eng.team@example.org>\r\n"))
        #expect(!out.contains("Reply-To: a@b.org"))
        #expect(!out.contains("List-Unsubscribe"))
        #expect(out.hasSuffix("\r\n\r\nbody\r\n"))
    }

    @Test func prefixIsNotDoubledAndAnnouncementsCanBeLeft() throws {
        let out = apply(try list(.senders, prefix: "[eng]"), "Subject: Re: [eng] build\r\n\r\nx\r\n")
        #expect(out.contains("Subject: Re: [eng] build\r\n"))
        #expect(out.contains("List-Unsubscribe: <mailto:postmaster@example.org?subject=unsubscribe%20eng%2Eteam%40example%2Eorg>"))
    }

    @Test func bodyAndMalformedHeaderLinesAreKept() throws {
        let msg = "X-Weird\r\nSubject: s\r\n\r\nSubject: not a header\r\n"
        let out = apply(try list(prefix: "[p]"), msg)
        #expect(out.contains("X-Weird\r\nSubject: [p] s\r\n\r\nSubject: not a header\r\n"))
    }

    @Test func listMembersGetTheListVariantDirectRecipientsTheOriginal() async throws {
        let h = try PolicyHarness()
        let admin = AdminActor(name: "t", role: .serverAdmin)
        _ = try h.dir.updateList("eng@example.org", postingPolicy: "anyone", subjectPrefix: "[eng]", replyTo: "list", actor: admin)
        _ = try await h.delivery.deliver(
            InboundMessage(
                sender: "x@elsewhere.com", recipients: ["eng@example.org", "carol@example.org"],
                data: Array("Subject: hi\r\n\r\nbody\r\n".utf8), receivedHeader: "Received: from t\r\n", clientIP: nil, helo: nil,
                tls: nil, authenticatedUser: nil))
        func stored(_ a: String) throws -> String {
            let id = try #require(h.dir.snapshot.account(try EmailAddress(a))?.id)
            let m = try #require(try h.store.inboxMessages(accountID: id).first)
            return String(decoding: m.headerPrefix + (try h.delivery.readBlob(m.blobHash)), as: UTF8.self)
        }
        let alice = try stored("alice@example.org")
        #expect(alice.contains("Delivered-To: eng@example.org\r\nReceived: from t\r\nList-Id: <eng.example.org>"))
        #expect(alice.contains("Subject: [eng] hi"))
        let carol = try stored("carol@example.org")
        #expect(carol.contains("Subject: hi") && !carol.contains("List-Id"))
        #expect(try h.store.referencedBlobs().count == 2)
    }
}

@Suite struct ModerationTests {
    @Test func approveDistributesRejectDrops() async throws {
        let h = try PolicyHarness()
        let admin = AdminActor(name: "token:ops", role: .serverAdmin)
        _ = try h.dir.createList("mod@example.org", members: ["carol@example.org", "friend@partner.test"], actor: admin)
        _ = try h.dir.updateList("mod@example.org", postingPolicy: "moderated", moderators: ["bob@example.org"], subjectPrefix: "[mod]", actor: admin)
        for subject in ["first", "second"] {
            _ = try await h.delivery.deliver(
                InboundMessage(
                    sender: "x@elsewhere.com", recipients: ["mod@example.org"], data: Array("Subject: \(subject)\r\n\r\nbody\r\n".utf8),
                    receivedHeader: "Received: from t\r\n", clientIP: nil, helo: nil, tls: nil, authenticatedUser: nil))
        }
        let held = try h.delivery.heldMessages(list: nil, actor: admin)
        #expect(held.map(\.subject) == ["first", "second"])
        let other = AdminActor(name: "o", role: .domainAdmin, domains: [try DomainName("bücher.example")])
        #expect(try h.delivery.heldMessages(list: nil, actor: other).isEmpty)
        #expect(throws: AdminError.self) { try h.delivery.moderate(id: held[0].id, approve: true, actor: other) }

        let approved = try h.delivery.moderate(id: held[0].id, approve: true, actor: admin)
        #expect(approved.recipients == 2)
        let carol = try #require(h.dir.snapshot.account(try EmailAddress("carol@example.org"))?.id)
        let inbox = try h.store.inboxMessages(accountID: carol)
        #expect(inbox.count == 1)
        #expect(String(decoding: try h.delivery.readBlob(inbox[0].blobHash), as: UTF8.self).contains("Subject: [mod] first"))
        #expect(try h.store.queuedRecipients().map(\.recipient) == ["friend@partner.test"])

        _ = try h.delivery.moderate(id: held[1].id, approve: false, actor: admin)
        #expect(try h.delivery.heldMessages(list: nil, actor: admin).isEmpty)
        #expect(try h.store.inboxMessages(accountID: carol).count == 1)
        let story = try h.dir.trace(messageID: nil, sender: "x@elsewhere.com", recipient: nil, since: nil, limit: 10, actor: admin)
        #expect(story.flatMap(\.events).contains { $0.detail == "rejected by moderator token:ops" })
    }
}
