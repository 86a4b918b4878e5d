import Foundation
import Testing

/// Real peer software for interop tests: under CI (`CI=true`) a missing program is a failure,
/// elsewhere the test is skipped.
public enum Peers {
    public static var underCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The path of an installed program (PATH first, as a shell would find it, then the
    /// system folders that root's PATH may lack), or nil.
    public static func find(_ name: String, in dirs: [String] = ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/sbin", "/bin"]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"].map { $0.split(separator: ":").map(String.init) } ?? []
        return (path + dirs).map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago. Chosen below the kernel's ephemeral
    /// range (32768 and up), so that no outgoing connection of a parallel test takes it before
    /// the peer binds it.
    public static func freePort(in range: Range<Int> = 20000..<32000) -> Int {
        for _ in 0..<1000 {
            let port = Int.random(in: range)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let ok = onLoopback(port) { bind(fd, $0, $1) }
            close(fd)
            if ok == 0 { return port }
        }
        return 0
    }

    /// Calls `body` (bind, connect) with the address 127.0.0.1:`port`.
    public static func onLoopback(_ port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Connects to 127.0.0.1:`port`, sends `text`, and returns all the server wrote until it
    /// closed the connection (or 10 seconds passed without a byte).
    public static func converse(port: Int, _ text: String, timeout seconds: Int = 10) -> String {
        String(decoding: converseBytes(port: port, Array(text.utf8), timeout: seconds), as: UTF8.self)
    }

    /// ``converse(port:_:timeout:)`` with bytes in and out (messages that are not UTF-8).
    public static func converseBytes(port: Int, _ bytes: [UInt8], timeout seconds: Int = 10) -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        guard onLoopback(port, { connect(fd, $0, $1) }) == 0 else { return [] }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return received
    }

    /// Whether a test needing a peer that is `available` should run: always under CI (so that
    /// it fails there when the peer is missing), otherwise only when the peer is installed.
    public static func shouldRun(_ available: Bool) -> Bool { available || underCI }

    public struct RunResult: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// Both, standard output first.
        public var output: String { stdout + stderr }
    }

    /// Runs a program to its end, feeding it `input`; stopped (and the test told) after
    /// `timeout` seconds. Every test runs its programs through here, so none can hang a test
    /// run: output goes through files (a chatty program never blocks on a full pipe, and a
    /// daemon it leaves behind holding the output open never keeps us reading), and SIGKILL
    /// follows SIGTERM. It is a ``ChildProcess``: under Foundation's `Process`, `id -u vmail` once
    /// seemed to run for 60 s in CI (see ``ChildProcess`` for the likely cause).
    @discardableResult
    public static func run(_ path: String, _ args: [String], input: String? = nil, timeout: TimeInterval = 60) throws -> RunResult {
        let scratch = try Scratch.folder("run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let files = ["in", "out", "err"].map { scratch.appendingPathComponent($0) }
        try Data((input ?? "").utf8).write(to: files[0])
        let child = try ChildProcess(path, args, stdin: files[0].path, stdout: files[1].path, stderr: files[2].path)
        let status: Int32
        if let ended = child.wait(for: .milliseconds(Int(timeout * 1000))) {
            status = ended
        } else {
            Issue.record("\(path) \(args.joined(separator: " ")) ran longer than \(timeout) s and was stopped")
            status = child.stop()
        }
        return RunResult(
            status: status, stdout: String(decoding: try Data(contentsOf: files[1]), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: files[2]), as: UTF8.self))
    }

    /// Waits up to `seconds` for `condition`, polling.
    public static func eventually(_ seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }
}

/// A private Postfix on 127.0.0.1 that accepts mail for one domain into Maildirs (one per
/// local part, under `mailRoot/DOMAIN/USER/new`), never relays, and answers recipients listed
/// in `access` with the reply given there (e.g. `450 4.2.0 try later`). Its log goes to
/// `log`. Stop it with `stop()`.
public final class PostfixPeer: @unchecked Sendable {
    public let base: String
    public let port: Int
    public let domain: String
    public var mailRoot: String { "\(base)/mail" }
    public var log: String { "\(base)/log/maillog" }
    private var conf: String { "\(base)/etc" }

    /// nil when Postfix is not installed (the caller skips, or fails under CI).
    /// `mainCF` lines are added to its main.cf (e.g. `smtputf8_enable = no`). With `tls`, the
    /// smtpd on `port` offers STARTTLS (a self-signed certificate made with openssl); a
    /// `plainPort` adds a second smtpd without it.
    public static func start(
        domain: String, port: Int = Peers.freePort(), access: [String: String] = [:], mainCF: String = "", tls: Bool = false,
        plainPort: Int? = nil
    ) throws -> PostfixPeer? {
        guard Peers.find("postfix") != nil else { return nil }
        let peer = PostfixPeer(domain: domain, port: port, plainPort: plainPort)
        var extra = mainCF
        if tls { extra = try peer.makeCertificate() + extra }
        try peer.configure(access: access, extra: extra, tls: tls, plainPort: plainPort)
        try peer.launch()
        return peer
    }

    /// The second smtpd, without STARTTLS, when one was asked for.
    public let plainPort: Int?

    init(domain: String, port: Int, plainPort: Int? = nil) {
        self.plainPort = plainPort
        self.base = Scratch.root.appendingPathComponent("mr-postfix-\(UUID().uuidString.prefix(8))").path
        self.port = port
        self.domain = domain
    }

    /// The self-signed certificate smtpd offers with STARTTLS (CN=localhost), once made.
    public var certificatePath: String { "\(conf)/cert.pem" }

    /// A self-signed P-256 certificate for STARTTLS; returns the main.cf lines that use it.
    func makeCertificate() throws -> String {
        try FileManager.default.createDirectory(atPath: conf, withIntermediateDirectories: true)
        let cert = "\(conf)/cert.pem", key = "\(conf)/key.pem"
        let r = try Peers.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", "/CN=localhost",
            ])
        guard r.status == 0 else { throw PeerError("openssl: \(r.output)") }
        return """
            smtpd_tls_security_level = may
            smtpd_tls_cert_file = \(cert)
            smtpd_tls_key_file = \(key)
            smtpd_tls_loglevel = 1

            """
    }

    /// Messages on Postfix's hold queue (with `smtpd_end_of_data_restrictions = check_client_access static:HOLD`).
    public func holdCount() -> Int { queueFiles(["hold"]) }

    /// Messages Postfix has accepted and not yet delivered (or given up on): when this is 0
    /// after the last client left, `delivered()` holds everything it will ever deliver.
    public func undeliveredCount() -> Int { queueFiles(["maildrop", "incoming", "active", "deferred", "hold"]) }

    func queueFiles(_ queues: [String]) -> Int {
        queues.reduce(0) { count, queue in
            let dir = "\(base)/spool/\(queue)"
            guard let e = FileManager.default.enumerator(atPath: dir) else { return count }
            return count + e.allObjects.compactMap { $0 as? String }.filter { name in
                var isDir: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(dir)/\(name)", isDirectory: &isDir) && !isDir.boolValue
            }.count
        }
    }

    func configure(access: [String: String], extra: String, tls: Bool, plainPort: Int?) throws {
        let fm = FileManager.default
        for d in ["etc", "spool", "data", "mail", "log"] { try fm.createDirectory(atPath: "\(base)/\(d)", withIntermediateDirectories: true) }
        if (try? Peers.run("/usr/bin/id", ["vmail"]))?.status != 0 {
            try Peers.run("/usr/sbin/useradd", ["--system", "--home-dir", "/nonexistent", "--no-create-home", "--shell", "/usr/sbin/nologin", "vmail"])
        }
        let uid = try Peers.run("/usr/bin/id", ["-u", "vmail"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let gid = try Peers.run("/usr/bin/id", ["-g", "vmail"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        try Peers.run("/bin/chown", ["postfix:postfix", "\(base)/data"])
        try Peers.run("/bin/chown", ["\(uid):\(gid)", "\(base)/mail"])
        try Peers.run("/bin/chmod", ["755", base, "\(base)/etc", "\(base)/spool"])
        try "@\(domain) \(domain)/catchall/\n".write(toFile: "\(conf)/vmailbox", atomically: true, encoding: .utf8)
        try writeAccess(access)
        let main = """
            compatibility_level = 3.6
            queue_directory = \(base)/spool
            data_directory = \(base)/data
            command_directory = /usr/sbin
            daemon_directory = /usr/lib/postfix/sbin
            meta_directory = /etc/postfix
            shlib_directory = /usr/lib/postfix
            mail_owner = postfix
            setgid_group = postdrop
            maillog_file = \(base)/log/maillog
            maillog_file_prefixes = \(base)/log
            syslog_name = mr-postfix-peer
            myhostname = mx.\(domain)
            mydomain = \(domain)
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            mydestination =
            local_recipient_maps =
            alias_maps =
            alias_database =
            relayhost =
            default_transport = error:this test peer never delivers off-host
            relay_transport = error:this test peer never relays
            smtpd_relay_restrictions = reject_unauth_destination
            smtpd_recipient_restrictions = check_recipient_access texthash:\(conf)/access
            smtpd_banner = $myhostname ESMTP test peer
            biff = no
            smtputf8_enable = yes
            virtual_mailbox_domains = \(domain)
            virtual_mailbox_base = \(base)/mail
            virtual_mailbox_maps = texthash:\(conf)/vmailbox
            virtual_uid_maps = static:\(uid)
            virtual_gid_maps = static:\(gid)
            virtual_minimum_uid = 100
            message_size_limit = 52428800
            virtual_mailbox_limit = 0
            in_flow_delay = 0
            \(extra)

            """
        try main.write(toFile: "\(conf)/main.cf", atomically: true, encoding: .utf8)
        let master = """
            127.0.0.1:\(port) inet n - n - - smtpd
            \(plainPort.map { "127.0.0.1:\($0) inet n - n - - smtpd\n  -o smtpd_tls_security_level=none" } ?? "")
            pickup    unix  n       -       n       60      1       pickup
            cleanup   unix  n       -       n       -       0       cleanup
            qmgr      unix  n       -       n       300     1       qmgr
            rewrite   unix  -       -       n       -       -       trivial-rewrite
            bounce    unix  -       -       n       -       0       bounce
            defer     unix  -       -       n       -       0       bounce
            trace     unix  -       -       n       -       0       bounce
            verify    unix  -       -       n       -       1       verify
            flush     unix  n       -       n       1000?   0       flush
            proxymap  unix  -       -       n       -       -       proxymap
            showq     unix  n       -       n       -       -       showq
            error     unix  -       -       n       -       -       error
            retry     unix  -       -       n       -       -       error
            discard   unix  -       -       n       -       -       discard
            virtual   unix  -       n       n       -       -       virtual
            anvil     unix  -       -       n       -       1       anvil
            scache    unix  -       -       n       -       1       scache
            postlog   unix-dgram n  -       n       -       1       postlogd
            \(tls ? "tlsmgr    unix  -       -       n       1000?   1       tlsmgr" : "")

            """
        try master.write(toFile: "\(conf)/master.cf", atomically: true, encoding: .utf8)
    }

    /// Replaces the recipient replies (`address` → `450 4.2.0 text`) and reloads Postfix.
    public func setAccess(_ access: [String: String]) throws {
        try writeAccess(access)
        try Peers.run("/usr/sbin/postfix", ["-c", conf, "reload"])
        // smtpd processes started before the reload keep the old table: let them go.
        usleep(300_000)
    }

    private func writeAccess(_ access: [String: String]) throws {
        let text = access.map { "\($0.key) \($0.value)" }.sorted().joined(separator: "\n") + "\n"
        try text.write(toFile: "\(conf)/access", atomically: true, encoding: .utf8)
    }

    func launch() throws {
        let r = try Peers.run("/usr/sbin/postfix", ["-c", conf, "start"])
        let up = Peers.eventually(10) {
            (try? Peers.run("/usr/bin/ss", ["-ltn", "sport = :\(port)"]).output.contains("LISTEN")) ?? false
        }
        guard up else {
            let log = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw PeerError("postfix did not start on 127.0.0.1:\(port): \(r.output) \(log.suffix(2000))")
        }
    }

    /// Messages delivered so far, as their bytes, from every Maildir of the domain.
    public func delivered() -> [String] {
        let root = "\(mailRoot)/\(domain)"
        let fm = FileManager.default
        var out: [String] = []
        for user in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            for sub in ["new", "cur"] {
                for f in ((try? fm.contentsOfDirectory(atPath: "\(root)/\(user)/\(sub)")) ?? []).sorted() {
                    if let text = try? String(contentsOfFile: "\(root)/\(user)/\(sub)/\(f)", encoding: .utf8) { out.append(text) }
                }
            }
        }
        return out
    }

    public func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    public func stop() {
        _ = try? Peers.run("/usr/sbin/postfix", ["-c", conf, "stop"])
        _ = Peers.eventually(10) {
            !((try? Peers.run("/usr/bin/ss", ["-ltn", "sport = :\(port)"]).output.contains("LISTEN")) ?? false)
        }
    }

    /// Stops it and removes its files (kept with MAILROOM_KEEP_TEST_FILES=1, for a look at the log).
    public func destroy() {
        stop()
        if ProcessInfo.processInfo.environment["MAILROOM_KEEP_TEST_FILES"] == "1" { return }
        try? FileManager.default.removeItem(atPath: base)
    }
}

public struct PeerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
