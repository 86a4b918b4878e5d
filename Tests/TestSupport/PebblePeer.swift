import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Let's Encrypt's Pebble test CA with pebble-challtestsrv as its DNS (every name is 127.0.0.1,
/// unless a test says otherwise with ``setAddress(_:for:)``), on free loopback ports in a
/// temporary folder, so that ACME runs offline with real validation: Pebble's HTTP-01 requests
/// go to 127.0.0.1:`httpPort`, where the test puts Mailroom's `acme_http` listener, and its
/// TLS-ALPN-01 connections to 127.0.0.1:``tlsPort``, where a test puts the `web` listener.
/// `PEBBLE_VA_NOSLEEP=1` (no random validation delay), `PEBBLE_AUTHZREUSE=0` (every order is
/// validated anew); Pebble still refuses 5% of nonces, which the client must retry.
public final class PebblePeer: Sendable {
    public static let pebblePath = Peers.find("pebble")
    public static let challtestsrvPath = Peers.find("pebble-challtestsrv")
    public static let available = pebblePath != nil && challtestsrvPath != nil && Peers.find("openssl") != nil

    public let folder: URL
    /// The ACME directory, `https://127.0.0.1:PORT/dir`.
    public let directoryURL: String
    /// The CA file that signs Pebble's own HTTPS certificate (for `[acme] ca_file`).
    public let caFile: String
    public let managementPort: Int
    public let challtestsrvManagementPort: Int
    /// Where Pebble connects for TLS-ALPN-01 (RFC 8737), on 127.0.0.1.
    public let tlsPort: Int
    private let processes: [ChildProcess]

    private init(
        folder: URL, directoryURL: String, caFile: String, managementPort: Int, challtestsrvManagementPort: Int,
        tlsPort: Int, processes: [ChildProcess]
    ) {
        self.folder = folder
        self.directoryURL = directoryURL
        self.caFile = caFile
        self.managementPort = managementPort
        self.tlsPort = tlsPort
        self.challtestsrvManagementPort = challtestsrvManagementPort
        self.processes = processes
    }

    /// Starts both; Pebble validates HTTP-01 on 127.0.0.1:`httpPort` and TLS-ALPN-01 on
    /// 127.0.0.1:`tlsPort` (a free port when nil). A port taken by a peer of a test running in
    /// parallel between choosing and binding it makes one of them exit: then everything starts
    /// again on other ports.
    public static func start(httpPort: Int, tlsPort: Int? = nil) throws -> PebblePeer {
        var lastError: (any Error)?
        for _ in 1...5 {
            do {
                let peer = try startOnce(httpPort: httpPort, tlsPort: tlsPort ?? Peers.freePort())
                usleep(200_000)
                if peer.processes.allSatisfy({ $0.isRunning() }) { return peer }
                lastError = PeerError("pebble or challtestsrv exited after start (a port was taken): \(peer.log.suffix(1000))")
                peer.stop()
            } catch {
                lastError = error
            }
        }
        throw lastError ?? PeerError("pebble did not start")
    }

    static func startOnce(httpPort: Int, tlsPort: Int) throws -> PebblePeer {
        guard let pebble = pebblePath, let challtestsrv = challtestsrvPath, let openssl = Peers.find("openssl") else {
            throw PeerError("pebble is required when CI=true: apt-get install pebble")
        }
        let folder = try Scratch.folder("mailroom-pebble")
        func file(_ name: String) -> String { folder.appendingPathComponent(name).path }
        // Pebble's own HTTPS certificate, for 127.0.0.1, from a CA of our own.
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
            toFile: file("san.ext"), atomically: true, encoding: .utf8)
        for args in [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=pebble test CA",
                "-keyout", file("ca.key"), "-out", file("ca.pem"),
            ],
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", file("key.pem"), "-out",
                file("srv.csr"),
            ],
            [
                "x509", "-req", "-in", file("srv.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
                "-CAcreateserial", "-days", "30",
                "-extfile", file("san.ext"), "-out", file("cert.pem"),
            ],
        ] {
            let r = try Peers.run(openssl, args)
            guard r.status == 0 else { throw PeerError("openssl \(args[0]) failed: \(r.output)") }
        }
        let (acmePort, managementPort, dnsPort, challMgmtPort) = (
            Peers.freePort(), Peers.freePort(), Peers.freePort(), Peers.freePort()
        )
        let config = """
            { "pebble": {
                "listenAddress": "127.0.0.1:\(acmePort)",
                "managementListenAddress": "127.0.0.1:\(managementPort)",
                "certificate": "\(file("cert.pem"))",
                "privateKey": "\(file("key.pem"))",
                "httpPort": \(httpPort),
                "tlsPort": \(tlsPort),
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false } }
            """
        try config.write(toFile: file("pebble-config.json"), atomically: true, encoding: .utf8)
        let dns = try ChildProcess(
            challtestsrv,
            [
                "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dnsPort)", "-http01", "",
                "-https01", "",
                "-tlsalpn01", "", "-management", "127.0.0.1:\(challMgmtPort)",
            ], stderr: file("challtestsrv.log"))
        // Through env(1), which execs pebble: the same pid, with Pebble's switches in its environment.
        let ca = try ChildProcess(
            "/usr/bin/env",
            [
                "PEBBLE_VA_NOSLEEP=1", "PEBBLE_AUTHZREUSE=0", pebble, "-config", file("pebble-config.json"),
                "-dnsserver",
                "127.0.0.1:\(dnsPort)",
            ], stderr: file("pebble.log"))
        let peer = PebblePeer(
            folder: folder, directoryURL: "https://127.0.0.1:\(acmePort)/dir", caFile: file("ca.pem"),
            managementPort: managementPort,
            challtestsrvManagementPort: challMgmtPort, tlsPort: tlsPort, processes: [ca, dns])
        for (port, process, log) in [(acmePort, ca, "pebble.log"), (challMgmtPort, dns, "challtestsrv.log")] {
            let deadline = Date().addingTimeInterval(30)
            while !Self.accepts(port) {
                guard process.isRunning(), Date() < deadline else {
                    peer.stop()
                    throw PeerError(
                        "\(log) did not start: \((try? String(contentsOfFile: file(log), encoding: .utf8))?.suffix(2000) ?? "")"
                    )
                }
                usleep(50_000)
            }
        }
        return peer
    }

    /// What Pebble logged (its validation attempts and errors), for test failure messages.
    public var log: String {
        (try? String(contentsOfFile: folder.appendingPathComponent("pebble.log").path, encoding: .utf8)) ?? ""
    }

    /// The challtestsrv management request that makes `host` resolve to `address` (e.g.
    /// 127.0.0.2, where nothing listens), as a path and JSON body for an HTTP POST to
    /// 127.0.0.1:``challtestsrvManagementPort``; `/clear-a` undoes it.
    public static func addA(host: String, address: String) -> (path: String, body: String) {
        ("/add-a", #"{"host":"\#(host)","addresses":["\#(address)"]}"#)
    }

    public static func clearA(host: String) -> (path: String, body: String) { ("/clear-a", #"{"host":"\#(host)"}"#) }

    public func stop() {
        for p in processes { p.stop() }
        try? FileManager.default.removeItem(at: folder)
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return Peers.onLoopback(port) { connect(fd, $0, $1) } == 0
    }
}
