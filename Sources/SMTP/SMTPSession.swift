import LoginKit
import Foundation

/// What a session needs to know about where it runs.
public struct SMTPSessionConfig: Sendable {
    public enum Mode: String, Sendable {
        /// Port 25: mail for our domains from anyone; no AUTH.
        case mx
        /// Ports 587/465: mail from our authenticated users to anywhere.
        case submission
    }

    public var hostname: String
    public var mode: Mode
    /// STARTTLS can be offered (a certificate is configured).
    public var tlsAvailable: Bool
    /// The connection is already TLS (port 465).
    public var implicitTLS: Bool
    /// AUTH is allowed without TLS: true for loopback connections unless configured off.
    public var plaintextAuthAllowed: Bool
    public var limits: SMTPLimits
    /// The client is in a trusted network: it may relay without AUTH (Postfix's `mynetworks`).
    public var trustedClient = false

    public init(hostname: String, mode: Mode, tlsAvailable: Bool, implicitTLS: Bool, plaintextAuthAllowed: Bool, limits: SMTPLimits) {
        self.hostname = hostname
        self.mode = mode
        self.tlsAvailable = tlsAvailable
        self.implicitTLS = implicitTLS
        self.plaintextAuthAllowed = plaintextAuthAllowed
        self.limits = limits
    }
}

/// A recipient the policy accepted at RCPT time.
public struct SMTPRecipient: Hashable, Sendable {
    /// The address as given (canonical form), e.g. `alice+tag@example.org`.
    public var address: String
    public var isLocal: Bool
    public init(address: String, isLocal: Bool) {
        self.address = address
        self.isLocal = isLocal
    }
}

public enum RecipientCheck: Hashable, Sendable {
    case accept(SMTPRecipient)
    case reject(SMTPReply)
}

/// The server's decisions the protocol core asks for. Implemented over the directory; called
/// synchronously (answers come from an in-memory snapshot).
public protocol SMTPPolicy: Sendable {
    /// nil `recipient` is `<Postmaster>`. `trustedClient`: the client is in a trusted network
    /// (may relay without AUTH).
    func checkRecipient(
        _ recipient: SMTPMailbox?, sender: SMTPMailbox?, authenticatedUser: String?, mode: SMTPSessionConfig.Mode, trustedClient: Bool
    ) -> RecipientCheck
    /// For submission: may this user send as `sender`? nil when allowed.
    func checkSender(_ sender: SMTPMailbox?, authenticatedUser: String) -> SMTPReply?
    /// The user's SCRAM-SHA-256 keys, or nil when there is no such (active) user.
    func scramCredentials(for user: String) -> SCRAMCredentials?
}

extension SMTPPolicy {
    public func scramCredentials(for user: String) -> SCRAMCredentials? { nil }
    /// For a client outside the trusted networks.
    public func checkRecipient(_ recipient: SMTPMailbox?, sender: SMTPMailbox?, authenticatedUser: String?, mode: SMTPSessionConfig.Mode) -> RecipientCheck {
        checkRecipient(recipient, sender: sender, authenticatedUser: authenticatedUser, mode: mode, trustedClient: false)
    }
}

/// One message ready for delivery.
public struct SMTPEnvelope: Hashable, Sendable {
    public var sender: SMTPMailbox?
    public var recipients: [SMTPRecipient]
    public var parameters: MailParameters
    public var helo: String
    public var esmtp: Bool
    public var tls: Bool
    public var authenticatedUser: String?
    public var chunked: Bool

    public init(
        sender: SMTPMailbox?, recipients: [SMTPRecipient], parameters: MailParameters = MailParameters(), helo: String,
        esmtp: Bool = true, tls: Bool = false, authenticatedUser: String? = nil, chunked: Bool = false
    ) {
        self.sender = sender
        self.recipients = recipients
        self.parameters = parameters
        self.helo = helo
        self.esmtp = esmtp
        self.tls = tls
        self.authenticatedUser = authenticatedUser
        self.chunked = chunked
    }
}

public enum AuthResult: Sendable {
    case success(String)
    case failure
    /// Refused for now (too many failures from this address).
    case tempFailure
}

/// The SMTP server side of one connection, as a state machine without I/O: bytes and results
/// in, replies and requests out. The I/O shell writes every `.send`, performs `.startTLS`,
/// `.authenticate` and `.deliver`, and reports back with `tlsStarted()`,
/// `authenticationFinished(_:)` and `deliveryFinished(_:)`; until it does, no further input is
/// processed (so pipelined commands wait their turn).
///
/// Lines end only in CRLF: a bare CR or LF in a command or in message data is an error, never
/// a line end (SMTP smuggling). DATA ends only at CRLF "." CRLF.
public struct SMTPSession {
    public enum Action: Hashable, Sendable {
        case send(SMTPReply)
        case startTLS
        case authenticate(user: String, password: String)
        /// A SCRAM exchange ended; the shell applies failure delays and bans, then answers
        /// with `authenticationFinished`.
        case authenticated(user: String?, success: Bool)
        case deliver(SMTPEnvelope, [UInt8])
        /// MAIL was accepted: the shell may start checks on the sender (SPF) while the client
        /// sends the rest of the transaction.
        case transactionStarted(sender: SMTPMailbox?, helo: String)
        /// A recipient was refused: for the delivery log (`mailroom trace`).
        case rejected(recipient: String, sender: String?, reply: SMTPReply)
        case close
    }

    private struct Transaction {
        var sender: SMTPMailbox?
        var parameters: MailParameters
        var recipients: [SMTPRecipient] = []
        var chunks: [UInt8] = []
        var chunkFailure: SMTPReply?
        var usedBDAT = false
    }

    private enum AuthStep {
        case plain
        case loginUser
        case loginPassword(String)
        case scramFirst
        case scramFinal(SCRAMServer)
        case scramDone(user: String)
    }

    private enum State {
        case fresh
        case greeted
        case mail(Transaction)
        case data(Transaction, DataReader)
        case bdat(Transaction?, remaining: Int, last: Bool)
        case auth(AuthStep)
        case waiting
        case closed
    }

    public let config: SMTPSessionConfig
    let policy: any SMTPPolicy
    private var state = State.fresh
    private var input: [UInt8] = []
    private var inputStart = 0
    private var helo: String?
    private var esmtp = false
    public private(set) var tlsActive: Bool
    public private(set) var authenticatedUser: String?
    private var errors = 0
    private var skippingLongLine = false
    /// Held between `.deliver` and `deliveryFinished`, or `.authenticate` and its answer.
    private var pendingTransaction: Transaction?
    /// The client was refused at connection time: every command but QUIT gets this.
    private var refusal: SMTPReply?

    public init(config: SMTPSessionConfig, policy: any SMTPPolicy) {
        self.config = config
        self.policy = policy
        self.tlsActive = config.implicitTLS
    }

    /// The greeting to send when the connection opens. With a `refusal` (a client on a
    /// blocklist) the greeting is that reply, and every later command but QUIT gets it too
    /// (RFC 5321 §3.1: a 554 greeting, then wait for QUIT).
    public mutating func start(refusal: SMTPReply? = nil) -> [Action] {
        self.refusal = refusal
        return [.send(refusal ?? .greeting(config.hostname))]
    }

    /// Whether the peer is sending message data (for the longer data timeout).
    public var isReceivingData: Bool {
        switch state {
        case .data, .bdat: return true
        default: return false
        }
    }

    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Bytes from the peer.
    public mutating func receive(_ bytes: some Collection<UInt8>) -> [Action] {
        if case .closed = state { return [] }
        input.append(contentsOf: bytes)
        return process()
    }

    public mutating func tlsStarted() -> [Action] {
        guard case .waiting = state else { return [] }
        tlsActive = true
        helo = nil
        esmtp = false
        state = .fresh
        return process()
    }

    public mutating func authenticationFinished(_ result: AuthResult) -> [Action] {
        guard case .waiting = state else { return [] }
        state = helo == nil ? .fresh : .greeted
        switch result {
        case .success(let user):
            authenticatedUser = user
            return [.send(.authSucceeded)] + process()
        case .failure:
            return fail(.authFailed) + process()
        case .tempFailure:
            return [.send(.tempAuthFailure)] + process()
        }
    }

    public mutating func deliveryFinished(_ reply: SMTPReply) -> [Action] {
        guard case .waiting = state else { return [] }
        state = .greeted
        pendingTransaction = nil
        return [.send(reply)] + process()
    }

    /// The server is stopping: say so and close.
    public mutating func shutdown() -> [Action] {
        if case .closed = state { return [] }
        state = .closed
        return [.send(.shuttingDown(config.hostname)), .close]
    }

    // MARK: Input

    private mutating func process() -> [Action] {
        var actions: [Action] = []
        loop: while true {
            switch state {
            case .waiting, .closed:
                break loop
            case .data(var tx, var reader):
                guard let outcome = reader.consume(&input, from: &inputStart, limits: config.limits) else {
                    state = .data(tx, reader)
                    break loop
                }
                switch outcome {
                case .failed(let reply):
                    state = .greeted
                    actions.append(refusedMessage(tx, reply))
                    actions += fail(reply)
                case .complete(let message):
                    tx.chunks = message
                    actions += finishMessage(tx, chunked: false)
                }
            case .bdat(var tx, let remaining, let last):
                let available = input.count - inputStart
                let take = min(remaining, available)
                if take > 0, tx != nil, tx!.chunkFailure == nil {
                    tx!.chunks.append(contentsOf: input[inputStart..<(inputStart + take)])
                    if tx!.chunks.count > config.limits.maxMessageSize { tx!.chunkFailure = .messageTooBig; tx!.chunks = [] }
                }
                inputStart += take
                if take < remaining {
                    state = .bdat(tx, remaining: remaining - take, last: last)
                    break loop
                }
                guard var t = tx else {
                    state = helo == nil ? .fresh : .greeted
                    actions += fail(.needRcpt)
                    continue
                }
                if !last {
                    state = .mail(t)
                    actions.append(.send(SMTPReply(250, "2.0.0", "\(remaining) octets received")))
                    continue
                }
                if t.chunkFailure == nil, let problem = DataReader.checkLines(t.chunks, limits: config.limits) { t.chunkFailure = problem }
                if let failure = t.chunkFailure {
                    state = .greeted
                    actions.append(refusedMessage(t, failure))
                    actions += fail(failure)
                    continue
                }
                actions += finishMessage(t, chunked: true)
            case .fresh, .greeted, .mail, .auth:
                guard let line = nextLine(&actions) else { break loop }
                guard let line else { continue }
                actions += handle(line: line)
            }
        }
        compactInput()
        return actions
    }

    /// The next CRLF-terminated line, without its CRLF. Returns nil when more input is needed,
    /// `.some(nil)` when a bad line was consumed (and its error reply added to `actions`).
    private mutating func nextLine(_ actions: inout [Action]) -> [UInt8]?? {
        let limit: Int
        if case .auth = state { limit = config.limits.authLineOctets } else { limit = config.limits.commandLineOctets }
        if skippingLongLine {
            // The rest of an over-long line, already answered: drop it through its LF.
            guard let lf = input[inputStart...].firstIndex(of: UInt8(ascii: "\n")) else {
                inputStart = input.count
                return nil
            }
            inputStart = lf + 1
            skippingLongLine = false
        }
        var i = inputStart
        while i < input.count {
            let b = input[i]
            if b == UInt8(ascii: "\n") {
                // LF without CR before it: refuse rather than treat as a line end.
                inputStart = i + 1
                actions += fail(.bareLineEnding)
                return .some(nil)
            }
            if b == UInt8(ascii: "\r") {
                guard i + 1 < input.count else { return nil }
                if input[i + 1] != UInt8(ascii: "\n") {
                    inputStart = i + 1
                    actions += fail(.bareLineEnding)
                    return .some(nil)
                }
                let line = Array(input[inputStart..<i])
                inputStart = i + 2
                if line.count + 2 > limit {
                    actions += fail(.lineTooLong)
                    return .some(nil)
                }
                return .some(line)
            }
            i += 1
            if i - inputStart > limit {
                inputStart = i
                skippingLongLine = true
                actions += fail(.lineTooLong)
                return .some(nil)
            }
        }
        return nil
    }

    private mutating func compactInput() {
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity < 65_536)
            inputStart = 0
        } else if inputStart > 65_536 {
            input.removeFirst(inputStart)
            inputStart = 0
        }
    }

    /// A failed command: the reply, and 421 when the peer has failed too often.
    private mutating func fail(_ reply: SMTPReply) -> [Action] {
        errors += 1
        if errors >= config.limits.maxErrors {
            state = .closed
            return [.send(reply), .send(.tooManyErrors), .close]
        }
        return [.send(reply)]
    }

    // MARK: Commands

    private mutating func handle(line: [UInt8]) -> [Action] {
        if case .auth(let step) = state { return continueAuth(step, line) }
        let command: SMTPCommand
        do { command = try SMTPCommandParser.parse(line) } catch { return fail(error.reply) }
        if let refusal {
            switch command {
            case .quit, .bdat: break  // BDAT's bytes must still be read past (no transaction can exist)
            default: return fail(refusal)
            }
        }
        switch command {
        case .ehlo(let name), .helo(let name):
            if case .ehlo = command { esmtp = true } else { esmtp = false }
            helo = name
            state = .greeted
            if case .helo = command { return [.send(SMTPReply(250, nil, "\(config.hostname) hello \(name)"))] }
            return [.send(SMTPReply(250, nil, ["\(config.hostname) hello \(name)"] + extensions()))]
        case .quit:
            state = .closed
            return [.send(.closing(config.hostname)), .close]
        case .noop:
            return [.send(.ok)]
        case .rset:
            if helo != nil { state = .greeted }
            return [.send(.resetOK)]
        case .vrfy:
            return [.send(.vrfyNotSupported)]
        case .expn:
            return fail(SMTPReply(502, "5.5.1", "EXPN is not offered: list members are not disclosed"))
        case .help:
            return [.send(SMTPReply(214, "2.0.0", "see RFC 5321; commands: EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT STARTTLS AUTH"))]
        case .starttls:
            return startTLS()
        case .auth(let mechanism, let initial):
            return beginAuth(mechanism, initial)
        case .mail(let sender, let params):
            return mail(sender, params)
        case .rcpt(let recipient):
            return rcpt(recipient)
        case .data:
            guard case .mail(let tx) = state else { return fail(helo == nil ? .needHelo : .needMail) }
            guard !tx.recipients.isEmpty else { return fail(SMTPReply(554, "5.5.1", "no valid recipients")) }
            guard !tx.usedBDAT else { return fail(SMTPReply(503, "5.5.1", "DATA cannot follow BDAT")) }
            state = .data(tx, DataReader())
            return [.send(.startData)]
        case .bdat(let size, let last):
            // The chunk's bytes follow whatever we answer: read them either way (RFC 3030 §2).
            guard case .mail(var tx) = state, !tx.recipients.isEmpty else {
                state = .bdat(nil, remaining: size, last: last)
                return []
            }
            tx.usedBDAT = true
            if tx.chunks.count + size > config.limits.maxMessageSize { tx.chunkFailure = .messageTooBig }
            state = .bdat(tx, remaining: size, last: last)
            return []
        }
    }

    private func extensions() -> [String] {
        var ext = ["PIPELINING", "SIZE \(config.limits.maxMessageSize)", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING"]
        if config.tlsAvailable && !tlsActive { ext.append("STARTTLS") }
        if config.mode == .submission && (tlsActive || config.plaintextAuthAllowed) && authenticatedUser == nil {
            ext.append("AUTH SCRAM-SHA-256 PLAIN LOGIN")
        }
        return ext
    }

    private mutating func startTLS() -> [Action] {
        guard config.tlsAvailable, !tlsActive else { return fail(tlsActive ? .alreadyTLS : .tlsNotAvailable) }
        if case .mail = state { return fail(.badSequence) }
        // Anything pipelined after STARTTLS came in clear and must not be read as if it came
        // over TLS (CVE-2011-0411): drop it.
        input.removeAll()
        inputStart = 0
        state = .waiting
        return [.send(.readyForTLS), .startTLS]
    }

    // MARK: AUTH (RFC 4954)

    private mutating func beginAuth(_ mechanism: String, _ initial: String?) -> [Action] {
        guard config.mode == .submission else { return fail(.authNotAvailable) }
        guard helo != nil else { return fail(.needHelo) }
        guard authenticatedUser == nil else { return fail(.alreadyAuthenticated) }
        if case .mail = state { return fail(.badSequence) }
        guard tlsActive || config.plaintextAuthAllowed else { return fail(.encryptionRequired) }
        switch mechanism {
        case "PLAIN":
            guard let initial else {
                state = .auth(.plain)
                return [.send(SMTPReply(334, nil, ""))]
            }
            return finishPlain(initial == "=" ? "" : initial)
        case "SCRAM-SHA-256":
            guard let initial else {
                state = .auth(.scramFirst)
                return [.send(SMTPReply(334, nil, ""))]
            }
            return scramFirst(initial)
        case "LOGIN":
            guard let initial else {
                state = .auth(.loginUser)
                return [.send(SMTPReply(334, nil, "VXNlcm5hbWU6"))]
            }
            guard let user = Self.base64(initial) else { return fail(SMTPReply(501, "5.5.2", "invalid base64")) }
            state = .auth(.loginPassword(user))
            return [.send(SMTPReply(334, nil, "UGFzc3dvcmQ6"))]
        default:
            return fail(.unsupportedMechanism)
        }
    }

    private mutating func continueAuth(_ step: AuthStep, _ line: [UInt8]) -> [Action] {
        let text = String(decoding: line, as: UTF8.self)
        state = .greeted
        if text == "*" { return fail(.authCancelled) }
        switch step {
        case .plain:
            return finishPlain(text)
        case .loginUser:
            guard let user = Self.base64(text) else { return fail(SMTPReply(501, "5.5.2", "invalid base64")) }
            state = .auth(.loginPassword(user))
            return [.send(SMTPReply(334, nil, "UGFzc3dvcmQ6"))]
        case .loginPassword(let user):
            guard let password = Self.base64(text) else { return fail(SMTPReply(501, "5.5.2", "invalid base64")) }
            state = .waiting
            return [.authenticate(user: user, password: password)]
        case .scramFirst:
            return scramFirst(text)
        case .scramFinal(var server):
            guard let message = Self.base64(text) else { return fail(SMTPReply(501, "5.5.2", "invalid base64")) }
            switch server.finish(message) {
            case .success(let user, let serverFinal):
                // The server's proof goes out as a challenge; the client answers with an empty line.
                state = .auth(.scramDone(user: user))
                return [.send(SMTPReply(334, nil, Data(serverFinal.utf8).base64EncodedString()))]
            case .failure(let user):
                state = .waiting
                return [.authenticated(user: user, success: false)]
            case .challenge:
                return fail(.authFailed)
            }
        case .scramDone(let user):
            state = .waiting
            return [.authenticated(user: user, success: true)]
        }
    }

    private mutating func scramFirst(_ b64: String) -> [Action] {
        guard let message = Self.base64(b64) else { return fail(SMTPReply(501, "5.5.2", "invalid base64")) }
        var server = SCRAMServer()
        switch server.start(message, lookup: policy.scramCredentials) {
        case .challenge(let serverFirst):
            state = .auth(.scramFinal(server))
            return [.send(SMTPReply(334, nil, Data(serverFirst.utf8).base64EncodedString()))]
        case .failure, .success:
            return fail(SMTPReply(501, "5.5.2", "malformed SCRAM message (channel binding is not offered)"))
        }
    }

    /// message = [authzid] UTF8NUL authcid UTF8NUL passwd (RFC 4616 §2)
    private mutating func finishPlain(_ b64: String) -> [Action] {
        guard let data = Data(base64Encoded: b64) else { return fail(SMTPReply(501, "5.5.2", "invalid base64")) }
        let parts = Array(data).split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3, let authz = String(validating: parts[0], as: UTF8.self),
            let user = String(validating: parts[1], as: UTF8.self), let password = String(validating: parts[2], as: UTF8.self),
            !user.isEmpty
        else { return fail(SMTPReply(501, "5.5.2", "malformed PLAIN response")) }
        guard authz.isEmpty || authz == user else { return fail(SMTPReply(535, "5.7.8", "authorisation identity must be empty or the user")) }
        state = .waiting
        return [.authenticate(user: user, password: password)]
    }

    static func base64(_ s: String) -> String? {
        guard let d = Data(base64Encoded: s) else { return nil }
        return String(validating: Array(d), as: UTF8.self)
    }

    // MARK: Transaction

    private mutating func mail(_ sender: SMTPMailbox?, _ params: MailParameters) -> [Action] {
        guard helo != nil else { return fail(.needHelo) }
        if case .mail = state { return fail(SMTPReply(503, "5.5.1", "nested MAIL command")) }
        if config.mode == .submission && authenticatedUser == nil { return fail(.authRequired) }
        if let size = params.size, size > config.limits.maxMessageSize { return fail(.messageTooBig) }
        if let s = sender, !params.smtpUTF8, !s.description.utf8.allSatisfy({ $0 < 0x80 }) {
            return fail(SMTPReply(553, "5.6.7", "non-ASCII address needs the SMTPUTF8 parameter"))
        }
        if let user = authenticatedUser, let refusal = policy.checkSender(sender, authenticatedUser: user) { return fail(refusal) }
        state = .mail(Transaction(sender: sender, parameters: params))
        return [.transactionStarted(sender: sender, helo: helo ?? ""), .send(.senderOK)]
    }

    private mutating func rcpt(_ recipient: SMTPMailbox?) -> [Action] {
        guard case .mail(var tx) = state else { return fail(helo == nil ? .needHelo : .needMail) }
        guard tx.recipients.count < config.limits.maxRecipients else { return [.send(.tooManyRecipients)] }
        if let r = recipient, !tx.parameters.smtpUTF8, !r.description.utf8.allSatisfy({ $0 < 0x80 }) {
            return fail(SMTPReply(553, "5.6.7", "non-ASCII address needs the SMTPUTF8 parameter"))
        }
        switch policy.checkRecipient(
            recipient, sender: tx.sender, authenticatedUser: authenticatedUser, mode: config.mode, trustedClient: config.trustedClient)
        {
        case .reject(let reply):
            let logged = Action.rejected(recipient: recipient?.description ?? "<Postmaster>", sender: tx.sender?.description, reply: reply)
            return [logged] + (reply.isTransient ? [.send(reply)] : fail(reply))
        case .accept(let r):
            if !tx.recipients.contains(r) { tx.recipients.append(r) }
            state = .mail(tx)
            return [.send(.recipientOK)]
        }
    }

    /// The delivery-log entry for a message refused at the end of its data.
    private func refusedMessage(_ tx: Transaction, _ reply: SMTPReply) -> Action {
        .rejected(recipient: tx.recipients.map(\.address).joined(separator: ", "), sender: tx.sender?.description, reply: reply)
    }

    private mutating func finishMessage(_ tx: Transaction, chunked: Bool) -> [Action] {
        state = .waiting
        let envelope = SMTPEnvelope(
            sender: tx.sender, recipients: tx.recipients, parameters: tx.parameters, helo: helo ?? "", esmtp: esmtp,
            tls: tlsActive, authenticatedUser: authenticatedUser, chunked: chunked)
        return [.deliver(envelope, tx.chunks)]
    }
}
