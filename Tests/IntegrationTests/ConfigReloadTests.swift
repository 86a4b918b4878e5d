import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP: limits and trusted networks change at once, an open connection stays, a config that
/// does not load changes nothing, and what needs a restart is said.
struct ConfigReloadTests {
    /// An SMTP connection kept open across the reload.
    final class Connection {
        let fd: Int32
        init(port: Int) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        deinit { close(fd) }

        /// Sends `line` (unless empty) and reads one reply.
        func say(_ line: String) -> String {
            if !line.isEmpty { _ = Array((line + "\r\n").utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
        }
    }

    @Test func sighupAppliesWhatItCanAndSaysWhatItCannot() async throws {
        try await blocking {
            let s = try ServerProcess(smtp: "max_message_size = 1000000")
            try s.start()
            defer { s.stop() }
            let smtp = try s.waitForPorts(["SMTP (MX)"])[0]
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            let relay = "EHLO c.test\r\nMAIL FROM:<app@example.org>\r\nRCPT TO:<someone@elsewhere.test>\r\nQUIT\r\n"
            #expect(Peers.converse(port: smtp, relay).contains("554"), "no relay before")
            let open = Connection(port: smtp)
            #expect(open.say("").hasPrefix("220"))

            let original = try String(contentsOfFile: s.configPath, encoding: .utf8)
            try original.replacingOccurrences(
                of: "max_message_size = 1000000", with: "max_message_size = 2000000\ntrusted_networks = [\"127.0.0.1/32\"]"
            ).write(toFile: s.configPath, atomically: true, encoding: .utf8)
            kill(s.process!.pid, SIGHUP)
            #expect(Peers.eventually(10) { s.log.contains("configuration reload: applied SMTP limits and trusted networks") }, "\(s.log)")

            let ehlo = Peers.converse(port: smtp, "EHLO c.test\r\nQUIT\r\n")
            #expect(ehlo.contains("SIZE 2000000"), "\(ehlo)")
            #expect(Peers.converse(port: smtp, relay).contains("250 2.1.5"), "a trusted network relays")
            #expect(open.say("NOOP").hasPrefix("250"), "the connection opened before the reload is still served")

            // A file that does not load changes nothing.
            try "hostname = \"not a host\"\n".write(toFile: s.configPath, atomically: true, encoding: .utf8)
            kill(s.process!.pid, SIGHUP)
            #expect(Peers.eventually(10) { s.log.contains("kept the running configuration") }, "\(s.log)")
            #expect(Peers.converse(port: smtp, "EHLO c.test\r\nQUIT\r\n").contains("SIZE 2000000"))

            // Listeners need a restart, and the reload says so.
            try original.replacingOccurrences(of: "imaps = [\"127.0.0.1:0\"]", with: "imaps = []")
                .write(toFile: s.configPath, atomically: true, encoding: .utf8)
            kill(s.process!.pid, SIGHUP)
            #expect(Peers.eventually(10) { s.log.contains("restart to apply listeners") }, "\(s.log)")
            #expect(Peers.converse(port: smtp, "EHLO c.test\r\nQUIT\r\n").contains("SIZE 1000000"), "back to the first limits")
        }
    }
}
