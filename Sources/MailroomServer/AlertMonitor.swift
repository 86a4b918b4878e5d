import AdminModels
import Delivery
import Foundation
import Logging
import MailCore
import ServiceLifecycle
import Storage
import Synchronization

/// `[alerts]`: where alerts are mailed, how often they are checked and repeated.
public struct AlertSettings: Sendable {
    /// nil: alerts show in `mailroom status` only.
    public var email: String?
    public var interval: TimeInterval = 60
    /// A mail again while an alert keeps firing, at most this often.
    public var repeatAfter: TimeInterval = 4 * 3600
    public init() {}
}

/// The conditions the Prometheus rules in deploy/prometheus alert on, checked by the server
/// itself every `interval`: for `mailroom status`, and mailed to `[alerts] email` for
/// administrators without Prometheus. A mail goes out when an alert starts or ends, and again
/// every `repeatAfter` while one keeps firing; never more often than one per check.
final class AlertMonitor: Service, Sendable {
    struct Readings: Sendable {
        var deferred: Int
        var oldestQueued: Date?
        var certificateExpiry: Date?
        var authFailures: Double
        var diskFree: Double?
        var diskSize: Double?
    }

    private struct State {
        var firing: [String: StatusView.Alert] = [:]
        var lastMail: Date?
        /// Deferred counts and failed-login totals over the last 30 minutes, for growth.
        var samples: [(at: Date, deferred: Int, authFailures: Double)] = []
    }

    let settings: AlertSettings
    let hostname: String
    private let read: @Sendable () -> Readings
    private let send: @Sendable (_ subject: String, _ body: String) async throws -> Void
    private let logger: Logger
    private let state = Mutex(State())

    init(
        settings: AlertSettings, hostname: String, logger: Logger, read: @escaping @Sendable () -> Readings,
        send: @escaping @Sendable (String, String) async throws -> Void
    ) {
        self.settings = settings
        self.hostname = hostname
        self.logger = logger
        self.read = read
        self.send = send
    }

    var firing: [StatusView.Alert] { state.withLock { Array($0.firing.values) }.sorted { $0.since < $1.since } }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await check(now: Date())
            // Ends at once on graceful shutdown rather than after the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(self.settings.interval)) }
        }
    }

    /// One check: evaluates, updates what is firing, and mails when that calls for it.
    func check(now: Date) async {
        let readings = read()
        let current = Self.evaluate(readings, history: state.withLock { $0.samples }, now: now)
        let (started, ended, due) = state.withLock { s -> ([StatusView.Alert], [StatusView.Alert], Bool) in
            s.samples.append((now, readings.deferred, readings.authFailures))
            s.samples.removeAll { now.timeIntervalSince($0.at) > 1800 }
            var started: [StatusView.Alert] = []
            var next: [String: StatusView.Alert] = [:]
            for (name, summary) in current {
                if let old = s.firing[name] {
                    next[name] = StatusView.Alert(name: name, summary: summary, since: old.since)
                } else {
                    let alert = StatusView.Alert(name: name, summary: summary, since: now)
                    next[name] = alert
                    started.append(alert)
                }
            }
            let ended = s.firing.values.filter { next[$0.name] == nil }
            s.firing = next
            let repeatDue = !next.isEmpty && (s.lastMail.map { now.timeIntervalSince($0) >= settings.repeatAfter } ?? true)
            let due = settings.email != nil && (!started.isEmpty || !ended.isEmpty || repeatDue)
            if due { s.lastMail = now }
            return (started, Array(ended), due)
        }
        for a in started { logger.warning("alert: \(a.name): \(a.summary)") }
        for a in ended { logger.notice("alert over: \(a.name)") }
        guard due else { return }
        let (subject, body) = mail(firing: firing, started: started, ended: ended)
        do { try await send(subject, body) } catch { logger.error("cannot mail the alert to \(settings.email ?? "?"): \(error)") }
    }

    /// The alerts that hold for these readings: rule name and summary, as in the Prometheus rules.
    static func evaluate(
        _ r: Readings, history: [(at: Date, deferred: Int, authFailures: Double)], now: Date
    ) -> [(String, String)] {
        var out: [(String, String)] = []
        let halfHourAgo = history.first { now.timeIntervalSince($0.at) >= 1500 }
        if r.deferred > 50, let before = halfHourAgo, r.deferred - before.deferred > 20 {
            out.append(("MailroomQueueGrowing", "The outbound queue keeps growing: \(r.deferred) recipients deferred, \(r.deferred - before.deferred) more than 30 minutes ago"))
        }
        if let oldest = r.oldestQueued, now.timeIntervalSince(oldest) > 3600 {
            out.append(("MailroomOldestQueuedMessage", "A message has waited on the queue for \(Int(now.timeIntervalSince(oldest) / 60)) minutes"))
        }
        if let expiry = r.certificateExpiry, expiry.timeIntervalSince(now) < 14 * 86400 {
            let days = Int(expiry.timeIntervalSince(now) / 86400)
            out.append(("MailroomCertificateExpiresSoon", days >= 0 ? "The TLS certificate expires in \(days) days" : "The TLS certificate has expired"))
        }
        let tenMinutesAgo = history.last { now.timeIntervalSince($0.at) >= 600 }
        if let before = tenMinutesAgo, r.authFailures - before.authFailures > 100 {
            out.append(("MailroomAuthenticationFailureSpike", "\(Int(r.authFailures - before.authFailures)) failed logins in the last 10 minutes"))
        }
        if let free = r.diskFree, let size = r.diskSize, size > 0, free / size < 0.10 {
            out.append(("MailroomDiskAlmostFull", "Only \(Int(free / size * 100))% free on the data folder's file system"))
        }
        return out
    }

    func mail(firing: [StatusView.Alert], started: [StatusView.Alert], ended: [StatusView.Alert]) -> (String, String) {
        let subject =
            firing.isEmpty
            ? "[Mailroom \(hostname)] all clear"
            : "[Mailroom \(hostname)] \(firing.count) alert\(firing.count == 1 ? "" : "s"): \(firing.map(\.summary).first!)"
        var body = "Mailroom on \(hostname) checks itself every \(Int(settings.interval)) s.\n\n"
        if !firing.isEmpty {
            body += "Firing now:\n"
            for a in firing {
                body += "  \(a.name)\(started.contains(a) ? " (new)" : ""): \(a.summary) (since \(RFC5322Date.string(a.since)))\n"
            }
        }
        if !ended.isEmpty { body += "\nOver:\n" + ended.map { "  \($0.name): \($0.summary)\n" }.joined() }
        body += "\n`mailroom status` shows the server's state; `mailroom doctor` checks its setup.\n"
        return (subject, body)
    }
}

extension LocalDelivery {
    /// Delivers a notice from the server itself (alerts) to `recipient`: from the null sender,
    /// marked auto-generated, so that nothing answers or bounces it.
    func deliverNotice(to recipient: String, from hostname: String, subject: String, body: String) async throws {
        let id = LocalDelivery.newQueueID()
        let now = Date()
        let text =
            "From: Mailroom <postmaster@\(hostname)>\r\nTo: <\(recipient)>\r\nSubject: \(String(subject.unicodeScalars.map { $0.isASCII ? Character($0) : "?" }))\r\n"
            + "Date: \(RFC5322Date.string(now))\r\nMessage-ID: <\(id).alert@\(hostname)>\r\nAuto-Submitted: auto-generated\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + body.replacingOccurrences(of: "\n", with: "\r\n")
        _ = try await deliver(
            InboundMessage(
                sender: nil, recipients: [recipient], data: Array(text.utf8),
                receivedHeader: "Received: by \(hostname) (Mailroom) id \(id);\r\n\t\(RFC5322Date.string(now))\r\n", clientIP: nil,
                helo: nil, tls: nil, authenticatedUser: nil),
            queueID: id)
    }
}
