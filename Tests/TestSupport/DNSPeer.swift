import DNS
import Foundation
import NIOCore
import NIOPosix
import Testing

/// Real name servers for the resolver tests, on loopback only: NSD serves the test zones and
/// Unbound resolves them (stub zones to NSD) and refuses every other name, so nothing leaves the
/// machine. Both run in the foreground from a temporary folder and are stopped by PID.
///
/// Without nsd/unbound the suite is skipped, unless `CI=true`, where it fails.
public final class DNSPeer: Sendable {
    @TaskLocal public static var current: DNSPeer?

    public static let nsdPath = Peers.find("nsd")
    public static let unboundPath = Peers.find("unbound")
    public static let available = nsdPath != nil && unboundPath != nil
    public static let requiredByCI = ProcessInfo.processInfo.environment["CI"] == "true"
    public static let enabled = available || requiredByCI

    public let folder: URL
    public let nsdPort: Int
    public let unboundPort: Int
    private let processes: [ChildProcess]

    /// The Unbound resolver to point the resolver under test at.
    public var server: DNSServerAddress { DNSServerAddress(host: "127.0.0.1", port: unboundPort) }

    private init(folder: URL, nsdPort: Int, unboundPort: Int, processes: [ChildProcess]) {
        self.folder = folder
        self.nsdPort = nsdPort
        self.unboundPort = unboundPort
        self.processes = processes
    }

    /// Starts both, on fresh ports. A port can be taken between the check and the bind (by a
    /// peer of a suite running in parallel): then it tries again on other ports.
    ///
    /// `extraZones` (file name = zone name + ".zone", text) are served beside
    /// ``DNSPeerZones/zones``, e.g. a sender domain with keys made by the test.
    public static func start(extraZones: [(String, String)] = []) async throws -> DNSPeer {
        for attempt in 1...5 {
            do {
                return try await startOnce(zones: DNSPeerZones.zones + extraZones)
            } catch let e as PeerError where e.description.contains("already in use") && attempt < 5 {
                continue
            }
        }
        throw PeerError("unreachable")
    }

    static func startOnce(zones: [(String, String)]) async throws -> DNSPeer {
        guard let nsd = nsdPath, let unbound = unboundPath else {
            throw PeerError("nsd and unbound are required when CI=true: apt-get install nsd unbound")
        }
        let folder = Scratch.url("mailroom-dns")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("zones"), withIntermediateDirectories: true)
        let nsdPort = try await freePort()
        var unboundPort = try await freePort()
        while unboundPort == nsdPort { unboundPort = try await freePort() }
        for (file, text) in zones {
            try text.write(to: folder.appendingPathComponent("zones/\(file)"), atomically: true, encoding: .utf8)
        }
        try nsdConf(folder, port: nsdPort, zones: zones).write(
            to: folder.appendingPathComponent("nsd.conf"), atomically: true, encoding: .utf8)
        try unboundConf(folder, port: unboundPort, nsdPort: nsdPort, zones: zones).write(
            to: folder.appendingPathComponent("unbound.conf"), atomically: true, encoding: .utf8)

        var started: [ChildProcess] = []
        let stderr = folder.appendingPathComponent("stderr.log").path
        do {
            started.append(
                try ChildProcess(nsd, ["-d", "-c", folder.appendingPathComponent("nsd.conf").path], stderr: stderr))
            try await waitForTCP(nsdPort, process: started[0], log: folder.appendingPathComponent("nsd.log"))
            started.append(
                try ChildProcess(
                    unbound, ["-d", "-c", folder.appendingPathComponent("unbound.conf").path], stderr: stderr))
            try await waitForTCP(unboundPort, process: started[1], log: folder.appendingPathComponent("unbound.log"))
            // Listening is not enough (the port may be another suite's server): it must answer.
            let probe = DNSResolver(servers: [DNSServerAddress(host: "127.0.0.1", port: unboundPort)], timeout: .seconds(2))
            guard (try? await probe.addresses("host.mailroom.example")) == ["192.0.2.1", "2001:db8::1"] else {
                throw PeerError("unbound on port \(unboundPort) does not answer (port already in use?)")
            }
        } catch {
            for p in started.reversed() { p.stop() }
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
        return DNSPeer(folder: folder, nsdPort: nsdPort, unboundPort: unboundPort, processes: started)
    }

    public func stop() {
        for p in processes.reversed() { p.stop() }
        try? FileManager.default.removeItem(at: folder)
    }

    /// A port free for both UDP and TCP on 127.0.0.1 (the kernel picks it; small race accepted).
    public static func freePort() async throws -> Int {
        // Below the kernel's ephemeral range (32768 and up): no outgoing connection of a
        // parallel test can take the port before NSD or Unbound binds it.
        for _ in 0..<200 {
            let port = Int.random(in: 20000..<32000)
            guard let tcp = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: port).get()
            else { continue }
            let udp = try? await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: port).get()
            try await tcp.close()
            if let udp {
                try await udp.close()
                return port
            }
        }
        throw PeerError("no free port on 127.0.0.1")
    }

    private static func waitForTCP(_ port: Int, process: ChildProcess, log: URL) async throws {
        // Both a time and a number of tries: when blocking tests hold every thread of the shared
        // pool, this task may not run for many seconds, and the time alone would be spent
        // without a single try (as happened under a full parallel run).
        let deadline = ContinuousClock.now + .seconds(30)
        var tries = 0
        while ContinuousClock.now < deadline || tries < 250 {
            tries += 1
            guard process.isRunning() else { break }
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let stderr =
            (try? String(
                contentsOf: log.deletingLastPathComponent().appendingPathComponent("stderr.log"), encoding: .utf8))
            ?? ""
        throw PeerError("\(process.path) did not start on port \(port): \(text) \(stderr)")
    }

    private static func nsdConf(_ folder: URL, port: Int, zones: [(String, String)]) -> String {
        var text = """
            server:
              ip-address: 127.0.0.1@\(port)
              do-ip6: no
              username: ""
              chroot: ""
              zonesdir: "\(folder.path)/zones"
              database: ""
              zonelistfile: "\(folder.path)/nsd-zone.list"
              xfrdfile: "\(folder.path)/nsd-xfrd.state"
              xfrdir: "\(folder.path)"
              pidfile: "\(folder.path)/nsd.pid"
              logfile: "\(folder.path)/nsd.log"
              server-count: 1
              hide-version: yes
            remote-control:
              control-enable: no

            """
        for (file, _) in zones {
            text += "zone:\n  name: \(file.dropLast(5))\n  zonefile: \(file)\n"
        }
        return text
    }

    private static func unboundConf(_ folder: URL, port: Int, nsdPort: Int, zones: [(String, String)]) -> String {
        var text = """
            server:
              interface: 127.0.0.1@\(port)
              port: \(port)
              do-ip6: no
              access-control: 127.0.0.0/8 allow
              username: ""
              chroot: ""
              directory: "\(folder.path)"
              pidfile: "\(folder.path)/unbound.pid"
              logfile: "\(folder.path)/unbound.log"
              use-syslog: no
              verbosity: 1
              module-config: "iterator"
              do-not-query-localhost: no
              qname-minimisation: no
              num-threads: 1
              # Unbound queries NSD from random ports; keep them out of the range test peers
              # listen in (Peers.freePort), or a parallel suite's server could not bind.
              outgoing-port-avoid: 20000-32000
              local-zone: "." refuse

            """
        // The zones NSD serves, and lame.example, which NSD refuses: Unbound answers SERVFAIL.
        let stubs = zones.map { String($0.0.dropLast(5)) } + ["lame.example"]
        for zone in stubs { text += "  local-zone: \"\(zone).\" transparent\n" }
        for zone in stubs { text += "stub-zone:\n  name: \"\(zone).\"\n  stub-addr: 127.0.0.1@\(nsdPort)\n" }
        text += "remote-control:\n  control-enable: no\n"
        return text
    }
}


/// Starts NSD and Unbound once for the suite it is attached to, and stops them after it.
public struct DNSPeerTrait: SuiteTrait, TestScoping {
    public init() {}
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let peer = try await DNSPeer.start()
        do {
            try await DNSPeer.$current.withValue(peer) { try await function() }
        } catch {
            peer.stop()
            throw error
        }
        peer.stop()
    }
}

extension Trait where Self == DNSPeerTrait {
    public static var dnsPeer: Self { DNSPeerTrait() }
}
