import Foundation
import SMTPClient
import Testing

/// A private Postfix on 127.0.0.1 in a temporary directory: never relays (no SMTP client
/// transports), accepts mail for test.example and puts it on hold. One smtpd with STARTTLS
/// (a self-signed certificate made with openssl), one without.
final class PrivatePostfix: @unchecked Sendable {
    static let domain = "test.example"
    let base: URL
    let tlsPort: Int
    let plainPort: Int
    var conf: String { base.appendingPathComponent("etc").path }

    init(tlsPort: Int, plainPort: Int) {
        base = URL(fileURLWithPath: "/tmp/mailroom-smtpclient-pfx-\(UUID().uuidString.prefix(8))")
        self.tlsPort = tlsPort
        self.plainPort = plainPort
    }

    func start() async throws {
        let fm = FileManager.default
        for dir in ["etc", "spool", "data", "log"] {
            try fm.createDirectory(at: base.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        for dir in ["", "etc", "spool"] {
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: base.appendingPathComponent(dir).path)
        }
        let (chown, chownOut) = try await Peer.run(
            "/bin/chown", ["postfix:postfix", base.appendingPathComponent("data").path])
        try #require(chown == 0, "chown: \(chownOut)")
        let cert = base.appendingPathComponent("etc/cert.pem").path
        let key = base.appendingPathComponent("etc/key.pem").path
        let (ssl, sslOut) = try await Peer.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                "-out", cert, "-days", "2", "-subj", "/CN=localhost",
            ])
        try #require(ssl == 0, "openssl: \(sslOut)")
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)

        let path = base.path
        let mainCF = """
            compatibility_level = 3.6
            queue_directory = \(path)/spool
            data_directory = \(path)/data
            command_directory = /usr/sbin
            daemon_directory = /usr/lib/postfix/sbin
            meta_directory = /etc/postfix
            shlib_directory = /usr/lib/postfix
            mail_owner = postfix
            setgid_group = postdrop
            maillog_file = \(path)/log/maillog
            maillog_file_prefixes = \(path)/log
            syslog_name = mailroom-smtpclient-test
            myhostname = sink.\(Self.domain)
            mydomain = \(Self.domain)
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            mydestination =
            local_recipient_maps =
            alias_maps =
            alias_database =
            relayhost =
            default_transport = error:test instance never delivers off-host
            relay_transport = error:test instance never relays
            smtpd_relay_restrictions = reject_unauth_destination
            smtpd_recipient_restrictions =
            smtpd_end_of_data_restrictions = check_client_access static:HOLD
            in_flow_delay = 0
            biff = no
            smtputf8_enable = yes
            virtual_mailbox_domains = \(Self.domain)
            virtual_mailbox_base = \(path)/mail
            virtual_mailbox_maps = static:\(Self.domain)/catchall/
            virtual_uid_maps = static:65534
            virtual_gid_maps = static:65534
            virtual_minimum_uid = 100
            virtual_transport = discard
            message_size_limit = 10485760
            smtpd_tls_security_level = may
            smtpd_tls_cert_file = \(cert)
            smtpd_tls_key_file = \(key)
            smtpd_tls_loglevel = 1

            """
        let masterCF = """
            127.0.0.1:\(tlsPort) inet n - n - - smtpd
            127.0.0.1:\(plainPort) inet n - n - - smtpd
              -o smtpd_tls_security_level=none
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
            anvil     unix  -       -       n       -       1       anvil
            scache    unix  -       -       n       -       1       scache
            postlog   unix-dgram n  -       n       -       1       postlogd
            tlsmgr    unix  -       -       n       1000?   1       tlsmgr

            """
        try mainCF.write(toFile: conf + "/main.cf", atomically: true, encoding: .utf8)
        try masterCF.write(toFile: conf + "/master.cf", atomically: true, encoding: .utf8)
        // postfix(1) reports errors only to a terminal or syslog: script(1) gives it one.
        let (status, output) = try await Peer.run("/usr/bin/script", ["-qec", "postfix -c \(conf) start", "/dev/null"])
        try #require(status == 0, "postfix start failed: \(output)\n\(log)")
    }

    var masterPID: pid_t? {
        guard let text = try? String(contentsOfFile: base.path + "/spool/pid/master.pid", encoding: .utf8) else {
            return nil
        }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    var log: String { (try? String(contentsOfFile: base.path + "/log/maillog", encoding: .utf8)) ?? "(no maillog)" }

    func holdCount() -> Int {
        let hold = base.path + "/spool/hold"
        guard let e = FileManager.default.enumerator(atPath: hold) else { return 0 }
        return e.allObjects.compactMap { $0 as? String }.filter { name in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: hold + "/" + name, isDirectory: &isDir) && !isDir.boolValue
        }.count
    }

    func stop() async {
        let pid = masterPID
        _ = try? await Peer.run("/usr/sbin/postfix", ["-c", conf, "stop"])
        if let pid {
            for _ in 0..<100 where kill(pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(50)) }
            if kill(pid, 0) == 0 { kill(pid, SIGTERM) }
        }
        try? FileManager.default.removeItem(at: base)
    }
}

@Suite(.serialized) struct PostfixInteropTests {
    static let tools = ["/usr/sbin/postfix", "/usr/bin/openssl", "/usr/bin/script"]

    @Test(.enabled(if: Peer.shouldRun(tools[0], tools[1], tools[2])), .timeLimit(.minutes(1)))
    func startTLSDeliveryAndRequiredPolicy() async throws {
        try Peer.require(Self.tools[0], Self.tools[1], Self.tools[2])
        let postfix = PrivatePostfix(tlsPort: try await Peer.freePort(), plainPort: try await Peer.freePort())
        do {
            try await postfix.start()
            try await exercise(postfix)
        } catch {
            Issue.record("\(error)\nmaillog:\n\(postfix.log.suffix(3000))")
        }
        await postfix.stop()
    }

    func exercise(_ postfix: PrivatePostfix) async throws {
        // Opportunistic TLS: STARTTLS is offered and used; EHLO is repeated over TLS.
        let connection = try await Peer.connectWhenListening(port: postfix.tlsPort, tls: .opportunistic)
        let tls = try #require(connection.tlsDescription)
        #expect(tls.hasPrefix("TLSv1."))
        #expect(connection.extensions["STARTTLS"] == nil)
        #expect(connection.extensions["PIPELINING"] != nil)
        let data = Peer.message(1) + Array("8-bit: \u{e9}t\u{e9}\r\n".utf8)
        let result = try await connection.send(
            OutboundEnvelope(
                sender: "a@client.test", recipients: ["u@\(PrivatePostfix.domain)", "nobody@elsewhere.test"], data: data
            ))
        #expect(result.mailReply.code == 250)
        #expect(result.recipientReplies[0].code == 250)
        #expect(result.recipientReplies[1].code == 554, "relay must be refused: \(result.recipientReplies[1])")
        #expect(result.recipientReplies[1].enhanced == "5.7.1")
        #expect(result.dataReply?.code == 250, "\(result)")
        #expect(result.deliveredIndices == [0])
        // A second transaction on the same connection.
        let second = try await connection.send(
            OutboundEnvelope(sender: "", recipients: ["b@\(PrivatePostfix.domain)"], data: Peer.message(2)))
        #expect(second.dataReply?.code == 250)
        // SIZE is enforced before sending.
        do {
            _ = try await connection.send(
                OutboundEnvelope(
                    sender: "a@client.test", recipients: ["u@\(PrivatePostfix.domain)"],
                    data: [UInt8](repeating: 65, count: 11 << 20)))
            Issue.record("oversized message was sent")
        } catch {
            #expect(error == .messageTooBig(limit: 10_485_760))
        }
        #expect(connection.isUsable)
        await connection.quit()

        var held = 0
        for _ in 0..<100 {
            held = postfix.holdCount()
            if held >= 2 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(held == 2, "messages on hold")
        #expect(postfix.log.contains("TLS connection established"))

        // Required TLS against the smtpd without STARTTLS fails, temporarily.
        do {
            _ = try await Peer.connectWhenListening(port: postfix.plainPort, tls: .required)
            Issue.record("connected without TLS")
        } catch let error as SMTPClientError {
            #expect(error == .tlsUnavailable)
            #expect(!error.isPermanent)
        }
        // And plaintext works there.
        let plain = try await Peer.connectWhenListening(port: postfix.plainPort, tls: .opportunistic)
        #expect(plain.tlsDescription == nil)
        await plain.quit()
    }
}
