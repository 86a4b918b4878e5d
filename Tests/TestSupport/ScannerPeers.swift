import Foundation

/// ClamAV's clamd on a Unix socket in a temporary folder, with a signature database of one
/// signature: the EICAR test file's MD5 (freshclam cannot reach its servers here, and the test
/// needs nothing else). Stopped by PID.
public final class ClamdPeer: Sendable {
    public static let clamdPath = Peers.find("clamd")
    public static let available = clamdPath != nil
    /// The EICAR anti-virus test file (68 bytes).
    public static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    public let folder: URL
    public let socket: String
    private let process: ChildProcess

    private init(folder: URL, socket: String, process: ChildProcess) {
        self.folder = folder
        self.socket = socket
        self.process = process
    }

    public static func start() throws -> ClamdPeer {
        guard let clamd = clamdPath else { throw PeerError("clamd is required when CI=true: apt-get install clamav-daemon") }
        let folder = try Scratch.folder("mailroom-clamd")
        let db = folder.appendingPathComponent("db")
        try FileManager.default.createDirectory(at: db, withIntermediateDirectories: true)
        // An .hdb line: MD5, size, name (sigtool --md5 writes the same).
        try "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n".write(
            to: db.appendingPathComponent("eicar.hdb"), atomically: true, encoding: .utf8)
        let socket = folder.appendingPathComponent("clamd.sock").path
        let conf = """
            DatabaseDirectory \(db.path)
            LocalSocket \(socket)
            Foreground yes
            LogFile \(folder.appendingPathComponent("clamd.log").path)
            User root
            StreamMaxLength 60M

            """
        let confPath = folder.appendingPathComponent("clamd.conf").path
        try conf.write(toFile: confPath, atomically: true, encoding: .utf8)
        let process = try ChildProcess(clamd, ["-c", confPath], stderr: folder.appendingPathComponent("stderr.log").path)
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: socket) {
            guard process.isRunning(), Date() < deadline else {
                process.stop()
                let log = (try? String(contentsOf: folder.appendingPathComponent("clamd.log"), encoding: .utf8)) ?? ""
                throw PeerError("clamd did not start: \(log.suffix(2000))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return ClamdPeer(folder: folder, socket: socket, process: process)
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// rspamd on loopback ports with Debian's configuration plus test overrides: no DNS beyond a
/// dead loopback port, no greylisting, action thresholds far above what ordinary test mail
/// scores, and two rules that make a message Junk (`Subject: rspamd-junk-test`) or refused
/// (`Subject: rspamd-reject-test`); a third, TEST_OUR_RESULTS, sees the Authentication-Results
/// field of a server whose authserv-id is mail.example.org.
public final class RspamdPeer: Sendable {
    public static let rspamdPath = Peers.find("rspamd")
    public static let available = rspamdPath != nil

    public let folder: URL
    public let port: Int
    private let process: ChildProcess

    public var url: String { "http://127.0.0.1:\(port)" }

    private init(folder: URL, port: Int, process: ChildProcess) {
        self.folder = folder
        self.port = port
        self.process = process
    }

    public static func start() throws -> RspamdPeer {
        guard let rspamd = rspamdPath else { throw PeerError("rspamd is required when CI=true: apt-get install rspamd") }
        // rspamd binds its three ports only after loading its rules, up to a minute later on a
        // loaded machine; a parallel test may take one of them meanwhile. Then rspamd exits,
        // and it is started again on other ports.
        for _ in 1...3 {
            if let peer = try start(rspamd) { return peer }
        }
        throw PeerError("rspamd found one of its ports taken at each of 3 starts")
    }

    /// nil when one of the ports was taken before rspamd bound it.
    private static func start(_ rspamd: String) throws -> RspamdPeer? {
        let folder = try Scratch.folder("mailroom-rspamd")
        for dir in ["local.d", "override.d", "db", "run"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        let normal = Peers.freePort()
        var controller = Peers.freePort()
        while controller == normal { controller = Peers.freePort() }
        var proxy = Peers.freePort()
        while proxy == normal || proxy == controller { proxy = Peers.freePort() }
        let files: [String: String] = [
            "local.d/worker-normal.inc": "bind_socket = \"127.0.0.1:\(normal)\";\n",
            "local.d/worker-controller.inc": "bind_socket = \"127.0.0.1:\(controller)\";\n",
            "local.d/worker-proxy.inc": "bind_socket = \"127.0.0.1:\(proxy)\";\n",
            "local.d/logging.inc": "type = \"file\";\nfilename = \"\(folder.path)/rspamd.log\";\nlevel = \"notice\";\n",
            // No Hyperscan: it compiles every regular expression of the stock rules into a cache
            // in this fresh folder at each start, which took past 90 s on a loaded 2-core CI run.
            "local.d/options.inc": "dns { nameserver = [\"127.0.0.1:9\"]; timeout = 1s; retransmits = 1; }\ndisable_hyperscan = true;\n",
            "local.d/greylist.conf": "enabled = false;\n",
            "local.d/actions.conf": "reject = 150;\nadd_header = 100;\ngreylist = null;\nrewrite_subject = null;\n",
            "local.d/multimap.conf": """
                TEST_JUNK { type = "header"; header = "Subject"; map = "\(folder.path)/junk.map"; score = 120.0; }
                TEST_REJECT { type = "header"; header = "Subject"; map = "\(folder.path)/reject.map"; score = 500.0; }
                TEST_OUR_RESULTS { type = "header"; header = "Authentication-Results"; regexp = true; map = "\(folder.path)/ar.map"; score = 0.5; }

                """,
            "junk.map": "rspamd-junk-test\n",
            "reject.map": "rspamd-reject-test\n",
            // Mailroom's own results, which it puts on top of what it sends (authserv-id mail.example.org).
            "ar.map": "/^mail\\.example\\.org;/\n",
        ]
        for (path, text) in files { try text.write(to: folder.appendingPathComponent(path), atomically: true, encoding: .utf8) }
        let process = try ChildProcess(
            rspamd,
            [
                "-f", "-u", "root", "-g", "root", "-c", "/etc/rspamd/rspamd.conf", "--var=LOCAL_CONFDIR=\(folder.path)",
                "--var=DBDIR=\(folder.path)/db", "--var=RUNDIR=\(folder.path)/run",
            ], stderr: folder.appendingPathComponent("stderr.log").path)
        // rspamd loads its rules for several seconds before the workers listen.
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            guard process.isRunning() else { break }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let ok = Peers.onLoopback(normal) { connect(fd, $0, $1) }
            close(fd)
            if ok == 0 { return RspamdPeer(folder: folder, port: normal, process: process) }
            Thread.sleep(forTimeInterval: 0.2)
        }
        process.stop()
        let log = (try? String(contentsOf: folder.appendingPathComponent("rspamd.log"), encoding: .utf8)) ?? ""
        if log.contains("Address already in use") {
            try? FileManager.default.removeItem(at: folder)
            return nil
        }
        let stderr = (try? String(contentsOf: folder.appendingPathComponent("stderr.log"), encoding: .utf8)) ?? ""
        throw PeerError("rspamd did not start on port \(normal): \(stderr.suffix(1000)) \(log.suffix(1000))")
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}
