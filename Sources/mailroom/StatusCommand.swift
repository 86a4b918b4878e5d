import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The server's health on one screen: listeners, certificate, queue, bans, alerts, last doctor run.",
        discussion: """
            Alerts are the conditions deploy/prometheus/mailroom-alerts.yml alerts on, checked by the \
            server itself every [alerts] interval (and mailed to [alerts] email when set). Server admins only.
            """)
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let s = try await client.call(API.getStatus)
        guard !client.json else { return }
        let up = Int(Date().timeIntervalSince(s.startedAt))
        printFields([
            ("server", "Mailroom \(s.version) on \(s.hostname)"),
            ("up", "\(up / 86400)d \(up % 86400 / 3600)h \(up % 3600 / 60)m (since \(dateText(s.startedAt)))"),
        ])
        print("\nListeners:")
        for l in s.listeners { print("  \(l.name.padding(toLength: 19, withPad: " ", startingAt: 0))\(l.address)") }
        for c in s.certificates {
            let days = Int(c.notAfter.timeIntervalSinceNow / 86400)
            print("\nCertificate: \(c.names.joined(separator: ", ")) (\(c.source)), expires \(dateText(c.notAfter)), \(days) days left")
        }
        let queued = s.queue.values.reduce(0, +)
        print(
            "Queue: \(queued) recipient\(queued == 1 ? "" : "s")"
                + (queued == 0 ? "" : " (" + s.queue.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")")
                + (s.oldestQueuedSeconds.map { ", oldest queued \(Int($0 / 60)) min ago" } ?? ""))
        print("Bans: \(s.bannedAddresses == 0 ? "none" : "\(s.bannedAddresses) address\(s.bannedAddresses == 1 ? "" : "es") (mailroom bans list)")")
        print("\nAlerts" + (s.alertEmail.map { " (mailed to \($0))" } ?? " (not mailed: set [alerts] email)") + ":" + (s.alerts.isEmpty ? " none" : ""))
        for a in s.alerts { print("  \(a.name): \(a.summary) (since \(dateText(a.since)))") }
        if let d = s.lastDoctor {
            print("\nLast doctor run \(dateText(d.at)): \(d.ok) ok, \(d.warnings) warnings, \(d.errors) errors")
            for p in d.problems.prefix(10) { print("  \(p)") }
        } else {
            print("\nDoctor: not run since the server started (mailroom doctor)")
        }
    }
}
