import Foundation
import HTTPClientKit
import NIOCore
import NIOHTTP1
import TestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// HTTPExchange against servers that answer and close early, as a server may when the request
/// says `Connection: close`.
struct HTTPExchangeTests {
    /// A loopback server that answers as soon as it has read a request's head, then half-closes
    /// and drains what the client sends (no reset), until `stop` is called (or, should the test
    /// die first, no connection comes for 10 minutes). The descriptor is closed once, by whoever
    /// is last, so that `stop` never shuts down a number the process has reused.
    static func earlyAnswerServer() throws -> (port: Int, stop: @Sendable () -> Void) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let port = Peers.freePort()
        guard Peers.onLoopback(port, { bind(fd, $0, $1) }) == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw PeerError("cannot listen on 127.0.0.1:\(port): errno \(errno)")
        }
        var acceptTimeout = timeval(tv_sec: 600, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &acceptTimeout, socklen_t(MemoryLayout<timeval>.size))
        let answer = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy".utf8)
        let open = Mutex(true)
        let thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { break }
                // Each client on its own thread: one served after another, a slow drain would
                // hold the next clients past their timeout on a loaded machine (as CI's was).
                Thread {
                    var head = [UInt8](repeating: 0, count: 4096)
                    _ = recv(client, &head, head.count, 0)  // the whole head comes in one segment on loopback
                    _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    shutdown(client, Int32(SHUT_WR))
                    var timeout = timeval(tv_sec: 2, tv_usec: 0)
                    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while recv(client, &buffer, buffer.count, 0) > 0 {}
                    close(client)
                }.start()
            }
            open.withLock {
                $0 = false
                close(fd)
            }
        }
        thread.start()
        // shutdown() wakes the blocked accept(); the thread then closes the descriptor.
        return (port, { open.withLock { if $0 { _ = shutdown(fd, Int32(SHUT_RDWR)) } } })
    }

    /// Before, the request went in two or three writes; one made after the answer and the close
    /// had arrived failed with "I/O on closed channel", and the answer was lost. That needs the
    /// answer to win a race: against the old code this test failed in 1 of 3 runs here (1 of
    /// 400 exchanges), and CI's load made it happen in PebbleTests' admin polls twice.
    @Test func anAnswerThatArrivesWithTheCloseIsRead() async throws {
        let count = 400
        let (port, stop) = try Self.earlyAnswerServer()
        defer { stop() }
        // Eight at a time: the client's tasks wait for threads, which widens the gap between
        // two writes as a loaded machine does.
        let failures = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var failures: [String] = []
                    for _ in 0..<(count / 8) {
                        do {
                            let r = try await HTTPExchange.send(host: "127.0.0.1", port: port, method: .GET, path: "/")
                            if r.status != 503 || r.body != Array("busy".utf8) { failures.append("status \(r.status)") }
                        } catch {
                            failures.append("\(error)")
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(count): \(Set(failures))")
    }
}
