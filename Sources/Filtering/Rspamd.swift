import Foundation
import HTTPClientKit
import NIOCore
import NIOHTTP1

/// rspamd's `/checkv2` HTTP endpoint (rspamd's protocol documentation): the message as the
/// body, the envelope and our results as headers; the answer is an action and a score.
public struct Rspamd: Sendable {
    /// rspamd's actions, and what Mailroom does with each.
    public enum Action: String, Hashable, Sendable {
        /// Refuse: 554 5.7.1.
        case reject
        /// Deliver to Junk.
        case addHeader = "add header"
        case rewriteSubject = "rewrite subject"
        /// Refuse for now: 451 4.7.1.
        case greylist
        case softReject = "soft reject"
        case noAction = "no action"
    }

    public struct Verdict: Hashable, Sendable {
        public var action: Action
        public var score: Double
        public var requiredScore: Double?
        /// The symbols that scored, highest first, as "NAME(points)".
        public var symbols: [String]
    }

    public struct Envelope: Sendable {
        public var clientIP: String
        public var helo: String
        public var sender: String?
        public var recipients: [String]
        public var queueID: String
        public var hostname: String
        public var user: String?
        /// Our `Authentication-Results:` field (with its CRLF), put on top of the message rspamd
        /// sees: our SPF, DKIM, DMARC and ARC results, for rules that use them.
        public var authenticationResults: String?

        public init(
            clientIP: String, helo: String, sender: String?, recipients: [String], queueID: String, hostname: String, user: String? = nil,
            authenticationResults: String? = nil
        ) {
            self.authenticationResults = authenticationResults
            self.clientIP = clientIP
            self.helo = helo
            self.sender = sender
            self.recipients = recipients
            self.queueID = queueID
            self.hostname = hostname
            self.user = user
        }
    }

    public let host: String
    public let port: Int
    public let timeout: Duration

    /// `http://127.0.0.1:11333` (only plain HTTP: rspamd's normal worker speaks no TLS).
    public init?(url: String, timeout: Duration = .seconds(15)) {
        guard let u = URLComponents(string: url), u.scheme == "http", let host = u.host, !host.isEmpty else { return nil }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = u.port ?? 11333
        self.timeout = timeout
    }

    public func check(_ message: [UInt8], envelope: Envelope) async throws -> Verdict {
        var headers: [(String, String)] = [
            ("IP", envelope.clientIP), ("Helo", envelope.helo), ("From", envelope.sender ?? ""), ("Queue-Id", envelope.queueID),
            ("MTA-Name", envelope.hostname), ("Hostname", envelope.hostname), ("Content-Type", "message/rfc822"),
        ]
        for r in envelope.recipients { headers.append(("Rcpt", r)) }
        if let user = envelope.user { headers.append(("User", user)) }
        let seconds = timeout.components.seconds
        let response = try await HTTPExchange.send(
            host: host, port: port, method: .POST, path: "/checkv2", headers: headers,
            body: Array((envelope.authenticationResults ?? "").utf8) + message, timeout: .seconds(seconds))
        guard response.status == 200 else {
            throw HTTPExchange.Failure.protocolError("rspamd answered HTTP \(response.status)")
        }
        return try Self.parse(response.body)
    }

    static func parse(_ body: [UInt8]) throws -> Verdict {
        struct Answer: Decodable {
            var action: String
            var score: Double
            var required_score: Double?
            var symbols: [String: Symbol]?
        }
        struct Symbol: Decodable {
            var name: String?
            var score: Double?
        }
        let answer = try JSONDecoder().decode(Answer.self, from: Data(body))
        guard let action = Action(rawValue: answer.action) else {
            throw HTTPExchange.Failure.protocolError("rspamd answered the unknown action \"\(answer.action)\"")
        }
        let symbols = (answer.symbols ?? [:]).map { (name: $0.key, score: $0.value.score ?? 0) }
            .filter { $0.score != 0 }.sorted { abs($0.score) > abs($1.score) }
            .map { "\($0.name)(\(SpamScore.format($0.score)))" }
        return Verdict(action: action, score: answer.score, requiredScore: answer.required_score, symbols: symbols)
    }
}

extension Rspamd {
    /// The JSON parsing alone, for table tests.
    public static func parseForTests(_ body: [UInt8]) throws -> Verdict { try parse(body) }
}
