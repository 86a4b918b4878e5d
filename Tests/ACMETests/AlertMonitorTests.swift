import Foundation
import Testing

@testable import MailroomServer

/// The server's own alerts hold exactly when the Prometheus rules in deploy/ would fire.
struct AlertMonitorTests {
    static let now = Date(timeIntervalSince1970: 2_000_000_000)
    static let calm = AlertMonitor.Readings(
        deferred: 0, oldestQueued: nil, certificateExpiry: now.addingTimeInterval(60 * 86400), authFailures: 0, diskFree: 500,
        diskSize: 1000)

    static func names(_ r: AlertMonitor.Readings, history: [(at: Date, deferred: Int, authFailures: Double)] = []) -> [String] {
        AlertMonitor.evaluate(r, history: history, now: now).map(\.0)
    }

    @Test func eachConditionAndItsThreshold() {
        #expect(Self.names(Self.calm).isEmpty)
        var r = Self.calm
        r.oldestQueued = Self.now.addingTimeInterval(-3599)
        #expect(Self.names(r).isEmpty)
        r.oldestQueued = Self.now.addingTimeInterval(-3601)
        #expect(Self.names(r) == ["MailroomOldestQueuedMessage"])

        r = Self.calm
        r.certificateExpiry = Self.now.addingTimeInterval(13 * 86400)
        #expect(Self.names(r) == ["MailroomCertificateExpiresSoon"])

        r = Self.calm
        r.diskFree = 99
        #expect(Self.names(r) == ["MailroomDiskAlmostFull"])

        // Growth needs history: 51 deferred, 21 more than 30 minutes ago.
        r = Self.calm
        r.deferred = 51
        #expect(Self.names(r).isEmpty)
        #expect(Self.names(r, history: [(Self.now.addingTimeInterval(-1800), 30, 0)]) == ["MailroomQueueGrowing"])
        #expect(Self.names(r, history: [(Self.now.addingTimeInterval(-1800), 31, 0)]).isEmpty)

        // Over 100 failed logins in 10 minutes.
        r = Self.calm
        r.authFailures = 1101
        #expect(Self.names(r, history: [(Self.now.addingTimeInterval(-600), 0, 1000)]) == ["MailroomAuthenticationFailureSpike"])
        #expect(Self.names(r, history: [(Self.now.addingTimeInterval(-600), 0, 1001)]).isEmpty)
    }
}
