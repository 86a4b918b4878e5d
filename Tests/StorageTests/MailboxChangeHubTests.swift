import Testing

@testable import Storage

/// Sessions woken by one change share one read of what changed, and never an out-of-date one.
@Suite struct MailboxChangeHubTests {
    static func answer(_ uid: Int64) -> MailboxChanges {
        MailboxChanges(changed: [MessageState(uid: uid, modseq: uid, flags: [])], expunged: [], mailbox: nil)
    }

    /// Asks the hub, counting the reads it makes.
    final class Asker {
        var reads = 0
        func ask(_ hub: MailboxChangeHub, _ mailbox: Int64 = 1, since: Int64 = 0, uid: Int64 = 1, during: () -> Void = {}) -> Int64 {
            hub.changes(mailbox: mailbox, since: since) {
                reads += 1
                during()
                return MailboxChangeHubTests.answer(uid)
            }.changed[0].uid
        }
    }

    @Test func sessionsOnAWatchedMailboxShareOneReadUntilTheNextPublish() {
        let hub = MailboxChangeHub()
        let token = hub.subscribe(mailbox: 1) {}
        let a = Asker()
        #expect(a.ask(hub, uid: 1) == 1)
        #expect(a.ask(hub, uid: 2) == 1, "the kept answer")
        #expect(a.reads == 1)
        #expect(a.ask(hub, since: 5, uid: 3) == 3, "another MODSEQ is another question")
        hub.publish([1])
        #expect(a.ask(hub, since: 5, uid: 4) == 4, "a publish drops the kept answer")
        hub.invalidate(1)
        #expect(a.ask(hub, since: 5, uid: 5) == 5, "so does an invalidation")
        hub.publish([2])
        #expect(a.ask(hub, since: 5, uid: 6) == 5, "a publish for another mailbox does not")
        hub.unsubscribe(mailbox: 1, token: token)
        #expect(a.ask(hub, since: 5, uid: 7) == 7)
        #expect(a.ask(hub, since: 5, uid: 8) == 8, "nothing is kept for a mailbox nobody watches")
    }

    @Test func aReadThatAPublishOvertookIsNotKept() {
        let hub = MailboxChangeHub()
        _ = hub.subscribe(mailbox: 1) {}
        let a = Asker()
        // The read may have missed what the publish announces.
        #expect(a.ask(hub, uid: 1, during: { hub.publish([1]) }) == 1)
        #expect(a.ask(hub, uid: 2) == 2)
        #expect(a.ask(hub, uid: 3) == 2)
    }

    @Test func watchingAgainDoesNotMeetAnAnswerFromBefore() {
        let hub = MailboxChangeHub()
        let first = hub.subscribe(mailbox: 1) {}
        let a = Asker()
        // A read that began while the mailbox was watched ends after it was left and watched again.
        _ = a.ask(hub, uid: 1, during: {
            hub.unsubscribe(mailbox: 1, token: first)
            _ = hub.subscribe(mailbox: 1) {}
        })
        #expect(a.ask(hub, uid: 2) == 2)
    }
}
