import AdminAPI
import AdminModels
import Foundation
import LoginKit
import MailCore
import Storage
import Synchronization

/// What `mailroom status` shows, gathered from the parts the composition root owns.
final class ServerStatus: StatusSource {
    let hostname: String
    let startedAt = Date()
    let alertEmail: String?
    private let store: any QueueStore
    private let mailTLS: MailTLS
    private let authLimiter: AuthLimiter
    private let listeners = Mutex<[StatusView.Listener]>([])
    private let doctor = Mutex<StatusView.DoctorRun?>(nil)
    let alerts: Mutex<AlertMonitor?> = Mutex(nil)

    init(hostname: String, alertEmail: String?, store: any QueueStore, mailTLS: MailTLS, authLimiter: AuthLimiter) {
        self.hostname = hostname
        self.alertEmail = alertEmail
        self.store = store
        self.mailTLS = mailTLS
        self.authLimiter = authLimiter
    }

    func listening(_ name: String, _ address: String) {
        listeners.withLock { $0.append(.init(name: name, address: address)) }
    }

    func status() -> StatusView {
        let queue = ((try? store.queueCounts()) ?? [:]).reduce(into: [String: Int]()) { $0[$1.key.rawValue] = $1.value }
        let oldest = ((try? store.oldestQueued()) ?? nil).map { Date().timeIntervalSince($0) }
        return StatusView(
            version: Mailroom.version, hostname: hostname, startedAt: startedAt, listeners: listeners.withLock { $0 },
            certificates: MailTLSAdmin(mail: mailTLS, acme: nil).status().certificates, queue: queue, oldestQueuedSeconds: oldest,
            bannedAddresses: authLimiter.bannedCount, alerts: alerts.withLock { $0 }?.firing ?? [], alertEmail: alertEmail,
            lastDoctor: doctor.withLock { $0 })
    }

    func doctorRan(_ findings: [DoctorFinding]) {
        let count = { (status: String) in findings.filter { $0.status == status }.count }
        let problems = findings.filter { $0.status != "ok" }.map { "\($0.status): \($0.domain.map { "\($0) " } ?? "")\($0.check): \($0.detail)" }
        doctor.withLock {
            $0 = .init(at: Date(), ok: count("ok"), warnings: count("warning"), errors: count("error"), problems: problems)
        }
    }
}
