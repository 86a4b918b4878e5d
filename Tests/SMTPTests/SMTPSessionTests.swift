import Foundation
import Testing

@testable import SMTP

/// A policy over a tiny directory: example.org has alice and bob; dave is disabled.
struct FakePolicy: SMTPPolicy {
    func checkRecipient(
        _ r: SMTPMailbox?, sender: SMTPMailbox?, authenticatedUser: String?, mode: SMTPSessionConfig.Mode, trustedClient: Bool
    ) -> RecipientCheck {
        guard let r else { return .accept(SMTPRecipient(address: "postmaster@example.org", isLocal: true)) }
        if r.domain.lowercased() != "example.org" {
            return authenticatedUser != nil ? .accept(SMTPRecipient(address: r.description, isLocal: false)) : .reject(.relayDenied(r.description))
        }
        switch r.localPart.lowercased() {
        case "alice", "bob": return .accept(SMTPRecipient(address: r.description, isLocal: true))
        case "dave": return .reject(SMTPReply(550, "5.2.1", "mailbox disabled"))
        case "full": return .reject(SMTPReply(452, "4.2.2", "mailbox full"))
        default: return .reject(SMTPReply(550, "5.1.1", "no such user"))
        }
    }

    func checkSender(_ sender: SMTPMailbox?, authenticatedUser: String) -> SMTPReply? {
        sender?.description.lowercased() == authenticatedUser ? nil : SMTPReply(553, "5.7.1", "not yours")
    }
}

/// Drives a session as the I/O shell would, recording what went out.
struct Driver {
    var session: SMTPSession
    var replies: [SMTPReply] = []
    var delivered: [(SMTPEnvelope, String)] = []
    /// Senders of the transactions MAIL started (`<>` for the null sender).
    var started: [String] = []
    var tlsStarts = 0
    var rejections: [(String, Int)] = []
    var closed = false
    var deliveryReply = SMTPReply(250, "2.0.0", "queued as X")

    init(mode: SMTPSessionConfig.Mode = .mx, tls: Bool = true, implicitTLS: Bool = false, plaintextAuth: Bool = false, limits: SMTPLimits = SMTPLimits()) {
        session = SMTPSession(
            config: SMTPSessionConfig(hostname: "mx.example.org", mode: mode, tlsAvailable: tls, implicitTLS: implicitTLS, plaintextAuthAllowed: plaintextAuth, limits: limits),
            policy: FakePolicy())
        run(session.start())
    }

    mutating func send(_ text: String) { run(session.receive(Array(text.utf8))) }
    mutating func send(_ bytes: [UInt8]) { run(session.receive(bytes)) }

    mutating func run(_ actions: [SMTPSession.Action]) {
        var queue = actions
        while !queue.isEmpty {
            let a = queue.removeFirst()
            switch a {
            case .send(let r): replies.append(r)
            case .close: closed = true
            case .rejected(let rcpt, _, let reply): rejections.append((rcpt, reply.code))
            case .startTLS:
                tlsStarts += 1
                queue += session.tlsStarted()
            case .authenticate(let user, let password):
                queue += session.authenticationFinished(password == "secret-password" ? .success(user) : .failure)
            case .authenticated(let user, let success):
                queue += session.authenticationFinished(success ? .success(user ?? "") : .failure)
            case .deliver(let env, let data):
                delivered.append((env, String(decoding: data, as: UTF8.self)))
                queue += session.deliveryFinished(deliveryReply)
            case .transactionStarted(let sender, _):
                started.append(sender?.description ?? "<>")
            }
        }
    }

    var codes: [Int] { replies.map(\.code) }
    var last: SMTPReply { replies.last! }
}

@Suite struct SMTPSessionTests {
    @Test func pipelinedTransactionWithDotStuffing() {
        var d = Driver()
        d.send("EHLO client.example.net\r\nMAIL FROM:<sender@elsewhere.com>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<ghost@example.org>\r\nDATA\r\n")
        #expect(d.codes == [220, 250, 250, 250, 550, 354])
        d.send("Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n")
        #expect(d.codes.last == 250)
        #expect(d.delivered.count == 1)
        #expect(d.delivered[0].1 == "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n")
        #expect(d.delivered[0].0.recipients.map(\.address) == ["alice@example.org"])
        #expect(d.delivered[0].0.esmtp)
        #expect(d.rejections.map(\.0) == ["ghost@example.org"])
        // The shell heard of the transaction at MAIL, before the data (to start SPF early).
        #expect(d.started == ["sender@elsewhere.com"])
        d.send("MAIL FROM:<>\r\nRSET\r\nMAIL FROM:<bad\r\n")
        #expect(d.started == ["sender@elsewhere.com", "<>"])
    }

    @Test func ehloAdvertisesExtensions() {
        var d = Driver(mode: .submission, tls: true, implicitTLS: false)
        d.send("EHLO c\r\n")
        let lines = d.last.lines
        for ext in ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "STARTTLS"] { #expect(lines.contains(ext)) }
        #expect(lines.contains("SIZE \(50 * 1024 * 1024)"))
        // No AUTH before TLS on a non-loopback connection.
        #expect(!lines.contains { $0.hasPrefix("AUTH") })
        var t = Driver(mode: .submission, tls: true, implicitTLS: true)
        t.send("EHLO c\r\n")
        #expect(t.last.lines.contains("AUTH SCRAM-SHA-256 PLAIN LOGIN"))
        #expect(!t.last.lines.contains("STARTTLS"))
    }

    /// Published SMTP smuggling variants: none of them ends the data, so the "smuggled" MAIL
    /// FROM is never run and the message is refused as a whole.
    static let smuggling: [String] = ["\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r", "\r\n\r.\r\n", "\r\n.\r\r\n", "\n.\r\n\r\n"]

    @Test(arguments: smuggling)
    func smugglingVariantsDoNotEndData(marker: String) {
        var d = Driver()
        d.send("EHLO c\r\nMAIL FROM:<a@elsewhere.com>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
        d.send("Subject: one\r\n\r\nbody" + marker + "MAIL FROM:<evil@elsewhere.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n")
        #expect(d.delivered.isEmpty)
        #expect(d.last.code == 554)
        #expect(d.last.enhanced == "5.6.0")
        #expect(d.codes.filter { $0 == 250 }.count == 3)  // EHLO, MAIL, RCPT only
    }

    @Test func bareLineEndingsInCommandsAreRefused() {
        var d = Driver()
        d.send("EHLO c\nMAIL FROM:<a@b.org>\r\n")
        #expect(d.codes == [220, 500, 503])
        var e = Driver()
        e.send("EHLO c\rNOOP\r\n")
        #expect(e.codes.prefix(2) == [220, 500])
    }

    @Test func startTLSDiscardsPipelinedCommandsAndForgetsEHLO() {
        var d = Driver()
        d.send("EHLO c\r\n")
        d.send("STARTTLS\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<alice@example.org>\r\n")
        #expect(d.tlsStarts == 1)
        #expect(d.codes == [220, 250, 220])  // nothing answered for the injected commands
        d.send("MAIL FROM:<a@b.org>\r\n")
        #expect(d.last.code == 503)  // EHLO must be sent again over TLS
        d.send("EHLO c\r\n")
        #expect(!d.last.lines.contains("STARTTLS"))
        d.send("STARTTLS\r\n")
        #expect(d.last.code == 503)
    }

    @Test func authPlainAndLogin() {
        var d = Driver(mode: .submission, plaintextAuth: true)
        d.send("EHLO c\r\nMAIL FROM:<alice@example.org>\r\n")
        #expect(d.last.code == 530)
        let plain = Data("\0alice@example.org\0secret-password".utf8).base64EncodedString()
        d.send("AUTH PLAIN \(plain)\r\n")
        #expect(d.last.code == 235)
        d.send("MAIL FROM:<bob@example.org>\r\n")
        #expect(d.last.code == 553)
        d.send("MAIL FROM:<alice@example.org>\r\nRCPT TO:<someone@remote.net>\r\n")
        #expect(d.codes.suffix(2) == [250, 250])
        d.send("AUTH PLAIN\r\n")
        #expect(d.last.code == 503)

        var l = Driver(mode: .submission, plaintextAuth: true)
        l.send("EHLO c\r\nAUTH LOGIN\r\n")
        #expect(l.last.code == 334)
        l.send(Data("alice@example.org".utf8).base64EncodedString() + "\r\n")
        #expect(l.last.lines == ["UGFzc3dvcmQ6"])
        l.send(Data("wrong".utf8).base64EncodedString() + "\r\n")
        #expect(l.last.code == 535)
        l.send("AUTH LOGIN\r\n*\r\n")
        #expect(l.last.code == 501)
    }

    @Test func authNeedsTLSUnlessLoopback() {
        var d = Driver(mode: .submission, plaintextAuth: false)
        d.send("EHLO c\r\nAUTH PLAIN AGEAYg==\r\n")
        #expect(d.last.code == 538)
        #expect(d.last.enhanced == "5.7.11")
        var mx = Driver(mode: .mx)
        mx.send("EHLO c\r\nAUTH PLAIN AGEAYg==\r\n")
        #expect(mx.last.code == 502)
    }

    @Test func bdatChunks() {
        var d = Driver()
        d.send("EHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<alice@example.org>\r\nBDAT 14\r\nSubject: x\r\n\r\n")
        #expect(d.last.code == 250)
        d.send("BDAT 7 LAST\r\nbody\r\n.")
        d.send("\r\n")  // not part of the chunk: a bare line is an empty command
        #expect(d.delivered.count == 1)
        #expect(d.delivered[0].1 == "Subject: x\r\n\r\nbody\r\n.")
        #expect(d.delivered[0].0.chunked)
    }

    @Test func bdatWithoutRecipientsStillConsumesTheChunk() {
        var d = Driver()
        d.send("EHLO c\r\nBDAT 12 LAST\r\nQUIT\r\nQUIT\r\nNOOP\r\n")
        #expect(d.codes == [220, 250, 503, 250])
        #expect(!d.closed)
    }

    @Test func sizeLimits() {
        var limits = SMTPLimits()
        limits.maxMessageSize = 100
        var d = Driver(limits: limits)
        d.send("EHLO c\r\nMAIL FROM:<a@b.org> SIZE=1000\r\n")
        #expect(d.last.code == 552)
        d.send("MAIL FROM:<a@b.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n" + String(repeating: "x", count: 90) + "\r\n" + String(repeating: "y", count: 90) + "\r\n.\r\nNOOP\r\n")
        #expect(d.codes.suffix(2) == [552, 250])
        #expect(d.delivered.isEmpty)
    }

    @Test func longLines() {
        var d = Driver()
        d.send("EHLO " + String(repeating: "a", count: 600) + "\r\nNOOP\r\n")
        #expect(d.codes == [220, 500, 250])
        d.send("EHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n" + String(repeating: "z", count: 1200) + "\r\n.\r\n")
        #expect(d.last.code == 554)
        #expect(d.delivered.isEmpty)
    }

    @Test func tooManyErrorsCloses() {
        var d = Driver()
        for _ in 0..<10 { d.send("BOGUS\r\n") }
        #expect(d.last.code == 421)
        #expect(d.closed)
        d.send("NOOP\r\n")
        #expect(d.last.code == 421)
    }

    @Test func tooManyRecipients() {
        var limits = SMTPLimits()
        limits.maxRecipients = 2
        var d = Driver(limits: limits)
        d.send("EHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<bob@example.org>\r\n")
        #expect(d.last.code == 452)
        #expect(d.last.enhanced == "4.5.3")
    }

    @Test func sequenceErrors() {
        var d = Driver()
        d.send("MAIL FROM:<a@b.org>\r\nEHLO c\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nMAIL FROM:<a@b.org>\r\nMAIL FROM:<a@b.org>\r\nDATA\r\n")
        #expect(d.codes == [220, 503, 250, 503, 503, 250, 503, 554])
    }

    @Test func nullSenderAndPostmaster() {
        var d = Driver()
        d.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nDATA\r\nx\r\n.\r\n")
        #expect(d.delivered.first?.0.sender == nil)
        #expect(d.delivered.first?.0.recipients.map(\.address) == ["postmaster@example.org"])
    }

    @Test func utf8AddressesNeedSMTPUTF8() {
        var d = Driver()
        d.send("EHLO c\r\nMAIL FROM:<用户@例え.jp>\r\n")
        #expect(d.last.code == 553)
        d.send("MAIL FROM:<用户@例え.jp> SMTPUTF8\r\n")
        #expect(d.last.code == 250)
    }

    @Test func quitAndShutdown() {
        var d = Driver()
        d.send("QUIT\r\n")
        #expect(d.last.code == 221)
        #expect(d.closed)
        var s = Driver()
        s.run(s.session.shutdown())
        #expect(s.last.code == 421)
    }

    @Test func bytesArrivingOneAtATime() {
        var d = Driver()
        for b in Array("EHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nline\r\n..x\r\n.\r\n".utf8) { d.send([b]) }
        #expect(d.delivered.map(\.1) == ["line\r\n.x\r\n"])
    }
}
