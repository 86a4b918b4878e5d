import Foundation

/// The client side of one outbound SMTP connection (RFC 5321, RFC 2920 PIPELINING, RFC 3207
/// STARTTLS, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 4954 AUTH PLAIN) as a
/// state machine without I/O: server bytes and requests in, bytes to write and outcomes out.
///
/// ```
/// S: 220 mx.example.org ESMTP
/// C: EHLO relay.example.net
/// S: 250-mx.example.org
/// S: 250-PIPELINING
/// S: 250 STARTTLS
/// C: STARTTLS
/// S: 220 2.0.0 ready            → .startTLS; the shell calls tlsEstablished()
/// C: EHLO relay.example.net     (extensions learnt before TLS are forgotten)
/// …                             → .ready
/// C: MAIL FROM:<a@example.net> SIZE=1234
/// C: RCPT TO:<b@example.org>
/// C: DATA                       (one write when PIPELINING is offered)
/// S: 250 / 250 / 354            → .writeMessage(data)
/// S: 250 2.0.0 queued           → .transactionCompleted(result)
/// ```
///
/// The I/O shell performs each action in order: `.write` and `.writeMessage` (dot-stuffed
/// with `DotStuffer`), `.startTLS` (then `tlsEstablished()` or `tlsFailed(_:)`), `.close`.
/// `.fail` ends the connection: the shell fails the pending operation and closes.
/// `.operationFailed` refuses one request and leaves the connection as it was. The shell
/// times each wait with `awaitingStage` and reports `timedOut(_:)`.
public struct SMTPClientSession {
    public struct Configuration: Sendable {
        /// The name sent with EHLO/HELO.
        public var heloName: String
        public var tlsPolicy: SMTPTLSPolicy
        /// AUTH is allowed without TLS only to a loopback peer.
        public var peerIsLoopback: Bool
        public var limits: SMTPClientLimits

        public init(
            heloName: String, tlsPolicy: SMTPTLSPolicy, peerIsLoopback: Bool = false,
            limits: SMTPClientLimits = SMTPClientLimits()
        ) {
            self.heloName = heloName
            self.tlsPolicy = tlsPolicy
            self.peerIsLoopback = peerIsLoopback
            self.limits = limits
        }
    }

    /// What the client is waiting for; each has its own timeout (`SMTPClientTimeouts`).
    public enum Stage: String, Hashable, Sendable {
        case greeting
        case ehlo = "EHLO"
        case helo = "HELO"
        case starttls = "STARTTLS"
        case tlsHandshake = "TLS handshake"
        case auth = "AUTH"
        case rset = "RSET"
        case mail = "MAIL"
        case rcpt = "RCPT"
        case dataInit = "DATA"
        /// Writing the message content (the shell's own stage: the session says `.dataEnd`).
        case dataBlock = "message data"
        case dataEnd = "end of data"
        case quit = "QUIT"
    }

    public enum Action: Hashable, Sendable {
        /// Commands to write and flush.
        case write([UInt8])
        /// Message content to write dot-stuffed and terminated with CRLF "." CRLF.
        case writeMessage([UInt8])
        /// Add the TLS handler now; nothing else may be read in plaintext.
        case startTLS
        /// Greeting, EHLO and STARTTLS done: transactions can start.
        case ready
        case authenticated
        case transactionCompleted(TransactionResult)
        /// The request was refused; the connection is unchanged.
        case operationFailed(SMTPClientError)
        /// The connection is finished: fail what is pending and close it.
        case fail(SMTPClientError)
        /// Close the connection (the server said 421, or QUIT was answered).
        case close
    }

    private enum State: Hashable {
        case greeting, ehlo, helo, starttls, tlsHandshake, idle, auth, transaction, quitting, closed
    }

    private enum Expect: Hashable {
        case rset, mail, rcpt(Int), data, dataEnd, dataEndDiscard
    }

    private struct Transaction {
        var envelope: OutboundEnvelope
        var pipelined: Bool
        var expected: [Expect] = []
        var head = 0
        var mailReply: SMTPReply?
        var recipientReplies: [SMTPReply?]
        var accepted = 0
        var dataReply: SMTPReply?

        var mailAccepted: Bool { mailReply.map { $0.code / 100 == 2 } ?? false }
    }

    public let configuration: Configuration
    private var state = State.greeting
    private var parser: SMTPReplyParser
    private var transaction: Transaction?

    /// The server's 220 greeting once received.
    public private(set) var greeting: SMTPReply?
    /// EHLO keywords, upper-cased, with their parameters ("" when none). Empty after HELO.
    public private(set) var extensions: [String: String] = [:]
    public private(set) var tlsActive = false
    /// A transaction was left part-way (MAIL accepted, no data sent): the next one starts
    /// with RSET (pipelined with MAIL when the server allows).
    public private(set) var needsReset = false
    /// Replies parsed so far (the shell restarts its reply timer when this changes).
    public private(set) var repliesReceived = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.parser = SMTPReplyParser(limits: configuration.limits)
    }

    /// Ready to start a transaction (or AUTH).
    public var isReady: Bool { state == .idle }
    public var isClosed: Bool { state == .closed }

    /// What is awaited now, nil when nothing is (idle or closed).
    public var awaitingStage: Stage? {
        switch state {
        case .greeting: .greeting
        case .ehlo: .ehlo
        case .helo: .helo
        case .starttls: .starttls
        case .tlsHandshake: .tlsHandshake
        case .auth: .auth
        case .quitting: .quit
        case .idle, .closed: nil
        case .transaction:
            switch transaction?.expected[transaction!.head] {
            case .rset: .rset
            case .mail: .mail
            case .rcpt: .rcpt
            case .data: .dataInit
            case .dataEnd, .dataEndDiscard: .dataEnd
            case nil: nil
            }
        }
    }

    // MARK: - Events from the connection

    public mutating func receive(_ bytes: UnsafeRawBufferPointer) -> [Action] {
        guard state != .closed else { return [] }
        parser.append(bytes)
        return processReplies()
    }

    public mutating func receive<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [Action] {
        guard state != .closed else { return [] }
        parser.append(bytes)
        return processReplies()
    }

    public mutating func tlsEstablished() -> [Action] {
        guard state == .tlsHandshake else { return [] }
        tlsActive = true
        // RFC 3207 §4.2: forget everything learnt before TLS.
        extensions = [:]
        parser.reset()
        parser.enhancedStatusCodes = false
        state = .ehlo
        return [.write(line("EHLO \(heloName)"))]
    }

    public mutating func tlsFailed(_ why: String) -> [Action] {
        guard state != .closed else { return [] }
        return fail(.tlsFailed(why))
    }

    /// The connection closed, or failed with `error`.
    public mutating func connectionClosed(error: String? = nil) -> [Action] {
        switch state {
        case .closed: return []
        case .quitting:
            state = .closed
            return []
        case .tlsHandshake:
            return fail(.tlsFailed(error ?? "connection closed during the handshake"))
        default:
            return fail(.connectionLost(stage: awaitingStage?.rawValue ?? "idle"))
        }
    }

    public mutating func timedOut(_ stage: Stage) -> [Action] {
        guard state != .closed else { return [] }
        if state == .quitting {
            state = .closed
            return [.close]
        }
        return fail(.timeout(stage: stage.rawValue))
    }

    // MARK: - Requests

    /// AUTH PLAIN (RFC 4954, RFC 4616) with an initial response.
    public mutating func authenticate(user: String, password: String) -> [Action] {
        guard state == .idle else { return [.operationFailed(notReady())] }
        guard tlsActive || configuration.peerIsLoopback else { return [.operationFailed(.tlsUnavailable)] }
        let mechanisms = (extensions["AUTH"] ?? "").uppercased().split(separator: " ")
        guard mechanisms.contains("PLAIN") else {
            let offered = extensions["AUTH"].map { "offers \($0)" } ?? "offers no AUTH"
            return [.operationFailed(.rejected(stage: "AUTH", SMTPReply(454, "4.7.0", "server \(offered), not PLAIN")))]
        }
        let token = Data(([0] + Array(user.utf8) + [0] + Array(password.utf8))).base64EncodedString()
        state = .auth
        return [.write(line("AUTH PLAIN \(token)"))]
    }

    /// Starts one mail transaction.
    public mutating func send(_ envelope: OutboundEnvelope) -> [Action] {
        guard state == .idle else { return [.operationFailed(notReady())] }
        if let problem = Self.validate(envelope, limits: configuration.limits) {
            return [.operationFailed(.invalidEnvelope(problem))]
        }
        let needsUTF8 =
            envelope.requiresSMTPUTF8 || !envelope.sender.utf8.allSatisfy { $0 < 0x80 }
            || envelope.recipients.contains { !$0.utf8.allSatisfy { $0 < 0x80 } }
        if needsUTF8 && extensions["SMTPUTF8"] == nil { return [.operationFailed(.smtputf8Unsupported)] }
        var mail = "MAIL FROM:<\(envelope.sender)>"
        if let size = extensions["SIZE"] {
            if let limit = Int(size), limit > 0, envelope.data.count > limit {
                return [.operationFailed(.messageTooBig(limit: limit))]
            }
            mail += " SIZE=\(envelope.data.count)"
        }
        // Without 8BITMIME the data goes as it is (as Postfix does): most servers take it.
        if envelope.has8BitData && extensions["8BITMIME"] != nil { mail += " BODY=8BITMIME" }
        if needsUTF8 { mail += " SMTPUTF8" }

        var t = Transaction(
            envelope: envelope, pipelined: extensions["PIPELINING"] != nil,
            recipientReplies: Array(repeating: nil, count: envelope.recipients.count))
        var out: [UInt8] = []
        if needsReset {
            out += line("RSET")
            t.expected.append(.rset)
        }
        if t.pipelined || !needsReset {
            out += line(mail)
            t.expected.append(.mail)
        }
        if t.pipelined {
            // RFC 2920 §3.1: RSET, MAIL, RCPT may be grouped; DATA ends the group.
            for (i, recipient) in envelope.recipients.enumerated() {
                out += line("RCPT TO:<\(recipient)>")
                t.expected.append(.rcpt(i))
            }
            out += line("DATA")
            t.expected.append(.data)
        }
        pendingMail = mail
        transaction = t
        state = .transaction
        return [.write(out)]
    }

    /// QUIT (RFC 5321 §4.1.1.10). Mid-operation, the connection is simply closed.
    public mutating func quit() -> [Action] {
        switch state {
        case .closed, .quitting: return []
        case .idle:
            state = .quitting
            return [.write(line("QUIT"))]
        default:
            return fail(.connectionLost(stage: "\(awaitingStage?.rawValue ?? "idle") (closed by QUIT)"))
        }
    }

    /// The MAIL command of the transaction in progress, for lock-step mode after RSET.
    private var pendingMail = ""

    // MARK: - Replies

    private mutating func processReplies() -> [Action] {
        var actions: [Action] = []
        while state != .closed && state != .tlsHandshake {
            let reply: SMTPReply?
            do {
                reply = try parser.next()
            } catch {
                return actions + fail(.protocolError(error.description))
            }
            guard let reply else { break }
            repliesReceived += 1
            actions += handle(reply)
        }
        return actions
    }

    private mutating func handle(_ reply: SMTPReply) -> [Action] {
        switch state {
        case .greeting:
            if reply.code == 220 {
                greeting = reply
                state = .ehlo
                return [.write(line("EHLO \(heloName)"))]
            }
            if reply.code >= 400 { return fail(.rejected(stage: "greeting", reply)) }
            return fail(.protocolError("unexpected greeting \(reply)"))

        case .ehlo:
            if reply.code / 100 == 2 {
                extensions = Self.extensions(from: reply)
                parser.enhancedStatusCodes = extensions["ENHANCEDSTATUSCODES"] != nil
                return afterHello()
            }
            if reply.code >= 500 {
                // RFC 5321 §3.2: an old server; fall back to HELO.
                state = .helo
                return [.write(line("HELO \(heloName)"))]
            }
            return fail(.rejected(stage: "EHLO", reply))

        case .helo:
            guard reply.code / 100 == 2 else { return fail(.rejected(stage: "HELO", reply)) }
            extensions = [:]
            parser.enhancedStatusCodes = false
            return afterHello()

        case .starttls:
            if reply.code == 220 {
                // Anything after the 220 was sent in plaintext before TLS and would be read
                // as if it came over TLS (STARTTLS response injection, CVE-2011-0411 style).
                guard parser.bufferedCount == 0 else {
                    return fail(
                        .protocolError("server sent data after its 220 to STARTTLS; refusing it as possible injection"))
                }
                state = .tlsHandshake
                return [.startTLS]
            }
            if configuration.tlsPolicy.requiresTLS || reply.code == 421 {
                return fail(.rejected(stage: "STARTTLS", reply))
            }
            // Opportunistic: carry on in plaintext.
            state = .idle
            return [.ready]

        case .tlsHandshake:
            return fail(.protocolError("reply \(reply) during the TLS handshake"))

        case .idle:
            if reply.code == 421 {
                state = .closed
                return [.close]
            }
            return fail(.protocolError("unexpected reply while idle: \(reply)"))

        case .auth:
            if reply.code == 235 {
                state = .idle
                return [.authenticated]
            }
            if reply.code == 334 {
                return fail(.protocolError("server asked for more after AUTH PLAIN with an initial response"))
            }
            if reply.code == 421 { return fail(.authFailed(reply)) }
            state = .idle
            return [.operationFailed(.authFailed(reply))]

        case .transaction:
            return handleTransactionReply(reply)

        case .quitting:
            state = .closed
            return [.close]

        case .closed:
            return []
        }
    }

    private mutating func afterHello() -> [Action] {
        if !tlsActive && configuration.tlsPolicy != .none && extensions["STARTTLS"] != nil {
            state = .starttls
            return [.write(line("STARTTLS"))]
        }
        if !tlsActive && configuration.tlsPolicy.requiresTLS { return fail(.tlsUnavailable) }
        state = .idle
        return [.ready]
    }

    private mutating func handleTransactionReply(_ reply: SMTPReply) -> [Action] {
        guard var t = transaction else { preconditionFailure("transaction state without a transaction") }
        transaction = nil
        let expect = t.expected[t.head]
        t.head += 1
        var actions: [Action] = []
        func send(_ text: String, _ next: Expect) {
            actions.append(.write(line(text)))
            t.expected.append(next)
        }
        switch expect {
        case .rset:
            guard reply.code / 100 == 2 else { return fail(.rejected(stage: "RSET", reply)) }
            needsReset = false
            if !t.pipelined { send(pendingMail, .mail) }

        case .mail:
            t.mailReply = reply
            if reply.code == 421 { return closeAfter(t, reply, dataStage: false) }
            if !t.mailAccepted {
                // Pipelined: the RCPT and DATA replies are still to come; read and ignore them.
                if !t.pipelined { return complete(t) }
            } else if !t.pipelined {
                send("RCPT TO:<\(t.envelope.recipients[0])>", .rcpt(0))
            }

        case .rcpt(let i):
            if reply.code == 421 { return closeAfter(t, reply, dataStage: false) }
            if t.mailAccepted {
                t.recipientReplies[i] = reply
                if reply.code / 100 == 2 { t.accepted += 1 }
                if !t.pipelined {
                    if i + 1 < t.envelope.recipients.count {
                        send("RCPT TO:<\(t.envelope.recipients[i + 1])>", .rcpt(i + 1))
                    } else if t.accepted > 0 {
                        send("DATA", .data)
                    } else {
                        needsReset = true
                        return complete(t)
                    }
                }
            }

        case .data:
            if !t.mailAccepted || t.accepted == 0 {
                // Only when pipelined: DATA went out with the group.
                if reply.code == 354 {
                    // A server that starts DATA with no recipients: end it empty.
                    actions.append(.write(line(".")))
                    t.expected.append(.dataEndDiscard)
                } else if reply.code == 421 {
                    return closeAfter(t, reply, dataStage: false)
                } else {
                    needsReset = t.mailAccepted
                    return complete(t)
                }
            } else if reply.code == 354 {
                actions.append(.writeMessage(t.envelope.data))
                t.expected.append(.dataEnd)
            } else {
                t.dataReply = reply
                if reply.code == 421 { return closeAfter(t, reply, dataStage: true) }
                needsReset = true
                return complete(t)
            }

        case .dataEnd:
            t.dataReply = reply
            if reply.code == 421 { return closeAfter(t, reply, dataStage: true) }
            return complete(t)

        case .dataEndDiscard:
            if reply.code == 421 { return closeAfter(t, reply, dataStage: false) }
            return complete(t)
        }
        transaction = t
        return actions
    }

    /// The server said 421 (closing): the transaction ends with that reply for everything
    /// not yet answered, and the connection closes.
    private mutating func closeAfter(_ t: Transaction, _ reply: SMTPReply, dataStage: Bool) -> [Action] {
        var t = t
        if t.mailReply == nil { t.mailReply = reply }
        for i in t.recipientReplies.indices where t.recipientReplies[i] == nil { t.recipientReplies[i] = reply }
        if dataStage { t.dataReply = reply }
        let actions = complete(t)
        state = .closed
        return actions + [.close]
    }

    private mutating func complete(_ t: Transaction) -> [Action] {
        let mailReply = t.mailReply!
        let replies: [SMTPReply]
        if t.mailAccepted {
            replies = t.recipientReplies.map { $0 ?? mailReply }
        } else {
            replies = Array(repeating: mailReply, count: t.recipientReplies.count)
        }
        let accepted = t.mailAccepted && replies.contains { $0.code / 100 == 2 }
        let result = TransactionResult(
            mailReply: mailReply, recipientReplies: replies, dataReply: accepted ? t.dataReply : nil)
        transaction = nil
        state = .idle
        return [.transactionCompleted(result)]
    }

    private mutating func fail(_ error: SMTPClientError) -> [Action] {
        state = .closed
        transaction = nil
        return [.fail(error)]
    }

    private func notReady() -> SMTPClientError {
        state == .closed
            ? .connectionLost(stage: "idle") : .protocolError("connection busy: another operation is in progress")
    }

    // MARK: - Helpers

    private var heloName: String {
        let clean = configuration.heloName.filter {
            $0.isASCII && !$0.isWhitespace && $0 != "\u{7F}" && ($0.asciiValue ?? 0) >= 0x20
        }
        return clean.isEmpty ? "localhost" : clean
    }

    private func line(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// ehlo-line = ehlo-keyword *( SP ehlo-param )   (RFC 5321 §4.1.1.1)
    static func extensions(from reply: SMTPReply) -> [String: String] {
        var result: [String: String] = [:]
        for text in reply.lines.dropFirst() {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let parts = trimmed.split(separator: " ", maxSplits: 1)
            let keyword = parts[0].uppercased()
            let params = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : ""
            if result[keyword] == nil { result[keyword] = params }
        }
        return result
    }

    /// nil when the envelope can be sent; else what is wrong.
    static func validate(_ envelope: OutboundEnvelope, limits: SMTPClientLimits) -> String? {
        if envelope.recipients.isEmpty { return "no recipients" }
        if envelope.recipients.count > limits.recipients {
            return "\(envelope.recipients.count) recipients; at most \(limits.recipients) per transaction"
        }
        for address in [envelope.sender] + envelope.recipients {
            if address.utf8.contains(where: {
                $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">")
            }) {
                return "address \(address.debugDescription) contains a control character or angle bracket"
            }
        }
        if envelope.recipients.contains("") { return "empty recipient address" }
        return nil
    }
}
