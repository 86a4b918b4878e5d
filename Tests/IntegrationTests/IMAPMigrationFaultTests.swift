import Foundation
import Testing
import TestSupport

/// `mailroom migrate imap` against a scripted server that breaks the connection in the middle
/// of a folder's messages: the folder is reported with what happened, the account goes on with
/// the next folder on a new connection, the command fails, and the next run brings the rest
/// without doubling what came before the break.
@Suite struct IMAPMigrationFaultTests {
    static let messages: [String: [String]] = [
        "A": (1...2).map {
            "From: a@example.net\r\nSubject: A\($0)\r\nMessage-ID: <a\($0)@example.net>\r\n\r\nbody A\($0)\r\n"
        },
        "B": (1...2).map {
            "From: b@example.net\r\nSubject: B\($0)\r\nMessage-ID: <b\($0)@example.net>\r\n\r\nbody B\($0)\r\n"
        },
    ]

    /// A one-thread IMAP server on 127.0.0.1 that says what a migration needs; while `breaks`
    /// is set, it closes the connection halfway through folder A's second message.
    final class ScriptedServer: @unchecked Sendable {
        let port: Int
        let fd: Int32
        let messages: [String: [String]]
        private let lock = NSLock()
        private var _breaks = true
        var breaks: Bool {
            get { lock.withLock { _breaks } }
            set { lock.withLock { _breaks = newValue } }
        }
        /// Whether it offers AUTH=PLAIN (otherwise only LOGIN).
        let authPlain: Bool
        private var _logins: [String] = []
        /// The LOGIN and AUTHENTICATE commands received, without their tags.
        var logins: [String] { lock.withLock { _logins } }
        /// Whether EXAMINE reports a UIDVALIDITY.
        let uidValidity: Bool
        private var _listsNoFlags = false
        /// While set, a UID FETCH of FLAGS (without bodies) answers with no message at all.
        var listsNoFlags: Bool {
            get { lock.withLock { _listsNoFlags } }
            set { lock.withLock { _listsNoFlags = newValue } }
        }

        init(
            messages: [String: [String]] = IMAPMigrationFaultTests.messages, breaks: Bool = true,
            authPlain: Bool = true,
            uidValidity: Bool = true
        ) throws {
            self.messages = messages
            self._breaks = breaks
            self.authPlain = authPlain
            self.uidValidity = uidValidity
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = 0
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0, listen(fd, 8) == 0 else { throw PeerError("cannot listen on 127.0.0.1") }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            self.fd = fd
            port = Int(UInt16(bigEndian: addr.sin_port))
            Thread.detachNewThread { [self] in
                while true {
                    let c = accept(fd, nil, nil)
                    if c < 0 { return }
                    serve(c)
                    close(c)
                }
            }
        }

        func stop() {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }

        private func send(_ c: Int32, _ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        private func serve(_ c: Int32) {
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let capabilities = authPlain ? "IMAP4rev1 AUTH=PLAIN SASL-IR" : "IMAP4rev1"
            send(c, "* OK [CAPABILITY \(capabilities)] scripted server ready\r\n")
            var buffer: [UInt8] = []
            var selected = ""
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                guard let crlf = buffer.firstIndex(of: 0x0A) else {
                    let n = chunk.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { return }
                    buffer += chunk[0..<n]
                    continue
                }
                let line = String(decoding: buffer[..<crlf], as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines)
                buffer.removeFirst(crlf + 1)
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { return }
                let (tag, command) = (parts[0], parts[1])
                let upper = command.uppercased()
                if upper == "CAPABILITY" {
                    send(c, "* CAPABILITY \(capabilities)\r\n\(tag) OK done\r\n")
                } else if upper.hasPrefix("AUTHENTICATE PLAIN ") && authPlain {
                    lock.withLock { _logins.append(command) }
                    send(c, "\(tag) OK logged in\r\n")
                } else if upper.hasPrefix("LOGIN ") && !authPlain {
                    lock.withLock { _logins.append(command) }
                    send(c, "\(tag) OK logged in\r\n")
                } else if upper.hasPrefix("LIST ") {
                    let list = messages.keys.sorted().map { "* LIST (\\HasNoChildren) \"/\" \($0)\r\n" }.joined()
                    send(c, list + "\(tag) OK done\r\n")
                } else if upper.hasPrefix("EXAMINE ") {
                    selected = String(command.dropFirst(8))
                    send(
                        c,
                        "* \(messages[selected]?.count ?? 0) EXISTS\r\n\(uidValidity ? "* OK [UIDVALIDITY 7] ok\r\n" : "")* OK [UIDNEXT 3] ok\r\n\(tag) OK [READ-ONLY] done\r\n"
                    )
                } else if upper.hasPrefix("UID FETCH") && upper.contains("BODY.PEEK[]") {
                    let list = messages[selected] ?? []
                    for (i, m) in list.enumerated() {
                        let head =
                            "* \(i + 1) FETCH (UID \(i + 1) FLAGS (\\Seen) INTERNALDATE \"03-Dec-2026 10:00:0\(i) +0000\" RFC822.SIZE \(m.utf8.count) BODY[] {\(m.utf8.count)}\r\n"
                        if selected == "A", i == 1, breaks {
                            send(c, head + String(m.prefix(10)))
                            return
                        }
                        send(c, head + m + ")\r\n")
                    }
                    send(c, "\(tag) OK done\r\n")
                } else if upper.hasPrefix("UID FETCH") {
                    let list = upper.contains("FLAGS") && listsNoFlags ? [] : messages[selected] ?? []
                    var out = ""
                    for (i, m) in list.enumerated() {
                        out += "* \(i + 1) FETCH (UID \(i + 1) RFC822.SIZE \(m.utf8.count))\r\n"
                    }
                    send(c, out + "\(tag) OK done\r\n")
                } else if upper == "LOGOUT" {
                    send(c, "* BYE bye\r\n\(tag) OK done\r\n")
                    return
                } else {
                    send(c, "\(tag) BAD unknown\r\n")
                }
            }
        }
    }

    /// Adds example.org and erin@example.org to `s`, and writes the accounts file that
    /// migrates erin from the source (login `erin`, `sourcePassword`); returns its path.
    static func erinToMigrate(on s: ServerProcess, sourcePassword: String = "old-pass") throws -> String {
        #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
        #expect(try s.cli(["account", "add", "erin@example.org", "--password", "erin-new-pass-1"]).status == 0)
        let csv = s.root.appendingPathComponent("erin.csv").path
        try "erin,\(sourcePassword),erin@example.org\n".write(toFile: csv, atomically: true, encoding: .utf8)
        return csv
    }

    @Test func aBrokenConnectionCostsTheRestOfOneFolderAndTheNextRunBringsIt() async throws {
        try await blocking {
            let fake = try ScriptedServer()
            defer { fake.stop() }
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let imap = try s.waitForPorts(["IMAP"])[0]
            let csv = try Self.erinToMigrate(on: s)
            let args = [
                "migrate", "imap", "--from", "imap+plain://127.0.0.1:\(fake.port)", "--accounts", csv, "--timeout",
                "10",
            ]

            let broken = try s.cli(args)
            #expect(broken.status != 0, "\(broken.out)")
            #expect(broken.out.range(of: #"A +→ A +2 +1 +0 +0"#, options: .regularExpression) != nil, "\(broken.out)")
            #expect(broken.out.range(of: #"B +→ B +2 +2 +0 +0"#, options: .regularExpression) != nil, "\(broken.out)")
            #expect(broken.out.contains("A: connection closed by the server"), "\(broken.out)")

            fake.breaks = false
            let again = try s.cli(args)
            #expect(again.status == 0, "\(again.out)\(again.err)")
            #expect(again.out.range(of: #"A +→ A +2 +1 +1 +0"#, options: .regularExpression) != nil, "\(again.out)")
            #expect(again.out.range(of: #"B +→ B +2 +0 +0 +0"#, options: .regularExpression) != nil, "\(again.out)")
            for folder in ["A", "B"] {
                let text = Peers.converse(
                    port: imap,
                    "a LOGIN erin@example.org erin-new-pass-1\r\nb EXAMINE \(folder)\r\nc FETCH 1:* (BODY.PEEK[])\r\nd LOGOUT\r\n"
                )
                #expect(text.contains("* 2 EXISTS"), "\(text)")
                for m in Self.messages[folder]! { #expect(text.contains("{\(m.utf8.count)}\r\n" + m), "\(text)") }
            }
        }
    }

    /// With a master user, each account is opened with AUTHENTICATE PLAIN carrying the account
    /// as authorization identity (RFC 4616); a server without AUTH=PLAIN gets Dovecot's
    /// `login*master` with LOGIN instead.
    @Test(arguments: [true, false]) func aMasterUserOpensTheAccount(authPlain: Bool) async throws {
        try await blocking {
            let fake = try ScriptedServer(breaks: false, authPlain: authPlain)
            defer { fake.stop() }
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let csv = try Self.erinToMigrate(on: s, sourcePassword: "")
            let secret = s.root.appendingPathComponent("master").path
            try "master-secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
            let r = try s.cli([
                "migrate", "imap", "--from", "imap+plain://127.0.0.1:\(fake.port)", "--accounts", csv, "--master-user",
                "migrator", "--master-password-file", secret,
            ])
            #expect(r.status == 0, "\(r.out)\(r.err)")
            #expect(r.out.range(of: #"B +→ B +2 +2 +0 +0"#, options: .regularExpression) != nil, "\(r.out)")
            #expect(!fake.logins.isEmpty)
            for login in fake.logins {
                if authPlain {
                    let token = "erin\u{0}migrator\u{0}master-secret"
                    #expect(login == "AUTHENTICATE PLAIN " + Data(token.utf8).base64EncodedString(), "\(login)")
                } else {
                    #expect(login == #"LOGIN "erin*migrator" "master-secret""#, "\(login)")
                }
            }
        }
    }

    /// A server that gives no UIDVALIDITY: mail is copied, but a final pass cannot tie copies to
    /// source messages, says so per folder and fails.
    @Test func aFinalPassFailsWhereTheSourceGivesNoUIDValidity() async throws {
        try await blocking {
            let fake = try ScriptedServer(breaks: false, uidValidity: false)
            defer { fake.stop() }
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let csv = try Self.erinToMigrate(on: s)
            let args = ["migrate", "imap", "--from", "imap+plain://127.0.0.1:\(fake.port)", "--accounts", csv]
            let copy = try s.cli(args)
            #expect(copy.status == 0, "\(copy.out)\(copy.err)")
            #expect(copy.out.range(of: #"A +→ A +2 +2 +0 +0"#, options: .regularExpression) != nil, "\(copy.out)")
            let final = try s.cli(args + ["--final"])
            #expect(final.status != 0, "\(final.out)")
            #expect(
                final.out.contains("A: not compared with the source: the other server gives the folder no UIDVALIDITY"),
                "\(final.out)")
            #expect(final.out.range(of: #"A +→ A +2 .* NO"#, options: .regularExpression) != nil, "\(final.out)")
        }
    }

    /// A server that answers the listing of a folder holding messages with none: no copy is
    /// removed, and the folder is reported.
    @Test func anEmptyListingOfAFullFolderRemovesNothing() async throws {
        try await blocking {
            let fake = try ScriptedServer(breaks: false)
            defer { fake.stop() }
            let s = try ServerProcess()
            try s.start()
            defer { s.stop() }
            let imap = try s.waitForPorts(["IMAP"])[0]
            let csv = try Self.erinToMigrate(on: s)
            let args = ["migrate", "imap", "--from", "imap+plain://127.0.0.1:\(fake.port)", "--accounts", csv]
            let copy = try s.cli(args)
            #expect(copy.status == 0, "\(copy.out)\(copy.err)")
            fake.listsNoFlags = true
            let again = try s.cli(args)
            #expect(again.status != 0, "\(again.out)")
            #expect(again.out.contains("A: the server listed no message of a folder that holds some"), "\(again.out)")
            #expect(
                again.out.range(of: #"B +→ B +2 +0 +0 +0 +0 +0"#, options: .regularExpression) != nil, "\(again.out)")
            for folder in ["A", "B"] {
                let here = IMAPFolderContents.read(
                    port: imap, login: "erin@example.org", password: "erin-new-pass-1", folder: folder)
                #expect(here.messages.count == 2, "\(folder): \(here.transcript)")
            }
        }
    }

    /// A message over max_append_size is reported with its UID and size, and not fetched.
    @Test func aMessageOverTheLimitIsReportedAndTheRestCopied() async throws {
        try await blocking {
            let big = "Subject: big\r\n\r\n" + String(repeating: "x", count: 5000) + "\r\n"
            let fake = try ScriptedServer(messages: ["C": [Self.messages["A"]![0], big]], breaks: false)
            defer { fake.stop() }
            let s = try ServerProcess(config: "[imap]\nmax_append_size = 4096")
            try s.start()
            defer { s.stop() }
            let csv = try Self.erinToMigrate(on: s)
            let r = try s.cli(["migrate", "imap", "--from", "imap+plain://127.0.0.1:\(fake.port)", "--accounts", csv])
            #expect(r.status != 0, "\(r.out)")
            #expect(r.out.range(of: #"C +→ C +2 +1 +0 +1"#, options: .regularExpression) != nil, "\(r.out)")
            #expect(r.out.contains("C UID 2: \(big.utf8.count) bytes, larger than the limit of 4096"), "\(r.out)")
        }
    }
}
