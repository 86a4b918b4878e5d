#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// A TCP socket bound to a listener's address, for a server channel to take over (see
/// `ListenerGroup`).
struct ListeningSocket {
    let descriptor: CInt
    /// The port bound (the one the kernel chose, for port 0).
    let port: Int

    /// `sharedPort`: with SO_REUSEPORT, so that one socket per event loop binds the same port.
    init(host: String, port: Int, sharedPort: Bool) throws {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let fd = socket(address.protocol.rawValue, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket") }
        do {
            try Self.set(SO_REUSEADDR, on: fd)
            if sharedPort { try Self.set(SO_REUSEPORT, on: fd) }
            guard address.withSockAddr({ bind(fd, $0, socklen_t($1)) }) == 0 else { throw SocketError(call: "bind") }
            var bound = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else { throw SocketError(call: "getsockname") }
            self.port = withUnsafeBytes(of: &bound) { raw in
                // sin_port and sin6_port are both at offset 2, in network byte order.
                Int(UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            }
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        descriptor = fd
    }

    private static func set(_ option: CInt, on fd: CInt) throws {
        var on: CInt = 1
        guard setsockopt(fd, SOL_SOCKET, option, &on, socklen_t(MemoryLayout<CInt>.size)) == 0 else {
            throw SocketError(call: "setsockopt")
        }
    }

    /// Sets the accept queue's length (again: a server channel that takes the socket over
    /// listens with its default).
    func listen(backlog: Int32) throws {
        guard Glibc.listen(descriptor, backlog) == 0 else { throw SocketError(call: "listen") }
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// A socket call failed: which, and why (`bind: Address already in use`).
struct SocketError: Error, CustomStringConvertible {
    var call: String
    var code: CInt

    init(call: String) {
        self.call = call
        self.code = errno
    }

    var description: String { "\(call): \(String(cString: strerror(code)))" }
}
