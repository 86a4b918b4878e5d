import Foundation

/// A private Dovecot (IMAP only) on 127.0.0.1 in a temporary folder: passwd-file users with
/// plain passwords, an optional master user (a master passdb: `AUTHENTICATE PLAIN` with an
/// authorization identity, and `user*master` with LOGIN unless `masterSeparator` is nil), Maildirs with `.` as the hierarchy separator and special-use
/// Drafts, Sent, Trash and Junk. Mail is written straight into the Maildirs (Dovecot indexes it
/// at the next SELECT). Runs as root only (the mail processes run as `nobody`).
public final class DovecotPeer: @unchecked Sendable {
    public let base: String
    public let port: Int
    /// IMAPS (TLS from the start), when started with `tls`; `port` then offers STARTTLS.
    public let tlsPort: Int?
    /// The self-signed certificate (CN=localhost, IP 127.0.0.1) when started with `tls`.
    public var certificatePath: String { "\(base)/cert.pem" }
    private var process: ChildProcess?
    /// The uid and gid the users' mail belongs to.
    static let owner = "65534:65534"

    /// nil when Dovecot is not installed or we are not root (the caller skips, or fails under CI).
    public static func start(
        users: [String: String], masterUsers: [String: String] = [:], masterSeparator: String? = "*", tls: Bool = false
    ) throws -> DovecotPeer? {
        guard let dovecot = Peers.find("dovecot"), getuid() == 0 else { return nil }
        let peer = DovecotPeer(port: Peers.freePort(), tlsPort: tls ? Peers.freePort() : nil)
        try peer.configure(users: users, masterUsers: masterUsers, masterSeparator: masterSeparator)
        peer.process = try ChildProcess(
            dovecot, ["-F", "-c", "\(peer.base)/dovecot.conf"], stderr: "\(peer.base)/stderr.log")
        let up = Peers.eventually(20) { Peers.converse(port: peer.port, "a LOGOUT\r\n").contains("* OK") }
        guard up else {
            let log = (try? String(contentsOfFile: "\(peer.base)/dovecot.log", encoding: .utf8)) ?? ""
            let err = (try? String(contentsOfFile: "\(peer.base)/stderr.log", encoding: .utf8)) ?? ""
            peer.stop()
            throw PeerError("dovecot did not start on 127.0.0.1:\(peer.port): \(err) \(log.suffix(2000))")
        }
        return peer
    }

    init(port: Int, tlsPort: Int?) {
        self.port = port
        self.tlsPort = tlsPort
        self.base =
            Scratch.root.appendingPathComponent("mr-dovecot-\(UUID().uuidString.prefix(8))")
            .path
    }

    public func maildir(_ user: String) -> String { "\(base)/home/\(user)/Maildir" }

    func configure(users: [String: String], masterUsers: [String: String], masterSeparator: String?) throws {
        let fm = FileManager.default
        for dir in ["run", "state", "home"] {
            try fm.createDirectory(atPath: "\(base)/\(dir)", withIntermediateDirectories: true)
        }
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: base)
        let passwd = users.sorted { $0.key < $1.key }.map {
            "\($0.key):{PLAIN}\($0.value):65534:65534::\(base)/home/\($0.key)::"
        }
        try (passwd.joined(separator: "\n") + "\n").write(toFile: "\(base)/passwd", atomically: true, encoding: .utf8)
        let masters = masterUsers.sorted { $0.key < $1.key }.map { "\($0.key):{PLAIN}\($0.value)" }
        try (masters.joined(separator: "\n") + "\n").write(toFile: "\(base)/masters", atomically: true, encoding: .utf8)
        for user in users.keys {
            try fm.createDirectory(atPath: "\(maildir(user))/cur", withIntermediateDirectories: true)
        }
        var ssl = "ssl = no"
        var imaps = "port = 0"
        if let tlsPort {
            let openssl = try Peers.run(
                Peers.find("openssl") ?? "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    "\(base)/key.pem", "-out", certificatePath, "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost",
                ])
            guard openssl.status == 0 else {
                throw PeerError("openssl could not make a certificate: \(openssl.output)")
            }
            ssl = "ssl = yes\nssl_cert = <\(certificatePath)\nssl_key = <\(base)/key.pem"
            imaps = "address = 127.0.0.1\n    port = \(tlsPort)\n    ssl = yes"
        }
        let config = """
            # a test peer: loopback only, in \(base)
            instance_name = mr-dovecot-\(port)
            base_dir = \(base)/run
            state_dir = \(base)/state
            log_path = \(base)/dovecot.log
            listen = 127.0.0.1
            protocols = imap
            \(ssl)
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            \(masterSeparator.map { "auth_master_user_separator = \($0)" } ?? "")
            first_valid_uid = 1
            mail_location = maildir:~/Maildir
            mail_fsync = never
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%n \(base)/masters
              master = yes
            }
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%n \(base)/passwd
            }
            userdb {
              driver = passwd-file
              args = username_format=%n \(base)/passwd
            }
            namespace inbox {
              inbox = yes
              separator = .
              mailbox Drafts {
                special_use = \\Drafts
              }
              mailbox Sent {
                special_use = \\Sent
              }
              mailbox Trash {
                special_use = \\Trash
              }
              mailbox Junk {
                special_use = \\Junk
              }
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = \(port)
              }
              inet_listener imaps {
                \(imaps)
              }
            }

            """
        try config.write(toFile: "\(base)/dovecot.conf", atomically: true, encoding: .utf8)
        try Peers.run("/bin/chown", ["-R", Self.owner, "\(base)/home"])
    }

    /// A message put into `user`'s `folder` (Dovecot's name, `INBOX` or `Lists.swift`), with
    /// Maildir flag letters (`S`, `R`, `F`, `D`, `T`, and `a`–`z` for the folder's keywords in
    /// `dovecot-keywords`) and its internal date as the file's time.
    public func put(
        user: String, folder: String, message: [UInt8], flags: String = "", date: Date, keywords: [String] = []
    ) throws {
        let dir = folder == "INBOX" ? maildir(user) : "\(maildir(user))/.\(folder)"
        let fm = FileManager.default
        for sub in ["cur", "new", "tmp"] {
            try fm.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
        }
        if !keywords.isEmpty {
            let lines = keywords.enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: "\n") + "\n"
            try lines.write(toFile: "\(dir)/dovecot-keywords", atomically: true, encoding: .utf8)
        }
        let unique = "\(Int(date.timeIntervalSince1970)).M\(UInt32.random(in: 0...UInt32.max))P\(getpid()).test"
        let file = "\(dir)/cur/\(unique),S=\(message.count):2,\(flags)"
        try Data(message).write(to: URL(fileURLWithPath: file))
        try fm.setAttributes([.modificationDate: date], ofItemAtPath: file)
        try Peers.run("/bin/chown", ["-R", Self.owner, maildir(user)])
    }

    /// Makes Dovecot give `folder` a new UIDVALIDITY (as after a restore on the old server).
    public func resetUIDs(user: String, folder: String) throws {
        let dir = folder == "INBOX" ? maildir(user) : "\(maildir(user))/.\(folder)"
        for file in ["dovecot-uidlist", "dovecot.index", "dovecot.index.log", "dovecot.index.cache"] {
            try? FileManager.default.removeItem(atPath: "\(dir)/\(file)")
        }
    }

    public func logText() -> String { (try? String(contentsOfFile: "\(base)/dovecot.log", encoding: .utf8)) ?? "" }

    public func stop() {
        process?.stop()
        process = nil
    }

    /// Stops it and removes its files (kept with MAILROOM_KEEP_TEST_FILES=1).
    public func destroy() {
        stop()
        if ProcessInfo.processInfo.environment["MAILROOM_KEEP_TEST_FILES"] == "1" { return }
        try? FileManager.default.removeItem(atPath: base)
    }
}
