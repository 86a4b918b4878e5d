import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

@testable import IMAPServer

/// The IMAP listener in this process, on loopback, with real connections.
@Suite struct IMAPServerServiceTests {
    /// Every session of a closed connection is freed: a session that had selected a mailbox
    /// once kept itself alive through its mailbox-change callback, which held its handler.
    @Test func closedConnectionsLeaveNoSessionBehind() async throws {
        let h = try IMAPHarness()
        let port = Peers.freePort()
        let listening = Mutex(false)
        let service = IMAPServerService(listeners: [IMAPListener(host: "127.0.0.1", port: port, implicitTLS: false)], env: h.env) { _, _ in
            listening.withLock { $0 = true }
        }
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        #expect(await Self.eventually { listening.withLock { $0 } })
        for _ in 0..<20 {
            let transcript = await Self.offThePool {
                Peers.converse(port: port, "a LOGIN alice@example.org Correct-Horse-42\r\nb SELECT INBOX\r\nc IDLE\r\nDONE\r\nd LOGOUT\r\n")
            }
            #expect(transcript.contains("d OK"), "\(transcript)")
        }
        #expect(await Self.eventually { h.env.liveSessions.value == 0 }, "\(h.env.liveSessions.value) sessions still alive")
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// Polls without holding one of the few threads that every async test shares.
    static func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<400 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// Blocking socket work on a thread of its own.
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in DispatchQueue.global().async { c.resume(returning: body()) } }
    }
}
