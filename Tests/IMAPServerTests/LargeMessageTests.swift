import AdminModels
import Foundation
import Logging
import Offload
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@testable import Delivery
@testable import Directory
@testable import IMAP
@testable import IMAPServer
@testable import MIME
@testable import Storage

/// Messages larger than the APPEND streaming threshold, through a real listener on loopback:
/// the literal goes to a file as it arrives, and FETCH sends it back from the file.
@Suite struct LargeMessageTests {
    /// A multipart message of about 3 MB: a text part with a word to search for and a
    /// base64 attachment of `attachment` (binary octets, NUL included).
    static func message(attachment: [UInt8]) -> [UInt8] {
        var text =
            "Subject: big one\r\nFrom: Carol <carol@example.net>\r\nTo: alice@example.org\r\nMessage-ID: <big-1@example.net>\r\n"
        text += "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\nPreamble\r\n--b1\r\n"
        text += "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        for i in 0..<20000 { text += "line \(i) of the report\(i == 15000 ? " zanzibar" : "")\r\n" }
        text += "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        let encoded = Data(attachment).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        text += encoded + "\r\n--b1--\r\n"
        return Array(text.utf8)
    }

    static func attachment() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<1_500_000).map { i in i % 1000 == 0 ? 0 : UInt8.random(in: 0...255, using: &generator) }
    }

    /// Where two byte strings first differ, and their lengths (nil when equal): a test
    /// comparing megabytes reports this, not a diff of the arrays.
    static func difference(_ a: [UInt8], _ b: [UInt8]) -> String? {
        guard a != b else { return nil }
        let at = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        return "lengths \(a.count) and \(b.count), first difference at \(at)"
    }

    @Test func aLargeAppendRoundTripsThroughFetch() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        let attachment = Self.attachment()
        let message = Self.message(attachment: attachment)
        #expect(message.count > IMAPLimits().streamAppendAbove * 4)
        try await server.client { c in
            try c.command("a", "LOGIN alice@example.org Correct-Horse-42")
            // Synchronizing: the server asks for the literal, and stores it.
            c.send(Array("b APPEND INBOX (\\Seen) {\(message.count)}\r\n".utf8))
            #expect(try c.line().hasPrefix("+ "))
            c.send(message + [13, 10])
            let appended = try c.readUntilTagged("b")
            #expect(appended.contains("b OK [APPENDUID "), "\(appended)")
            // Non-synchronizing, into another mailbox: the same bytes are stored once.
            c.send(Array("b2 APPEND Archive {\(message.count)+}\r\n".utf8) + message + [13, 10])
            let again = try c.readUntilTagged("b2")
            #expect(again.contains("b2 OK [APPENDUID "), "\(again)")
            #expect(!again.contains("+ Ready"))
            #expect(server.blobFiles().count == 1)
            try c.command("c", "SELECT INBOX")

            let whole = try c.commandLiteral("d", "UID FETCH 1 BODY.PEEK[]", after: "BODY[] ")
            #expect(Self.difference(whole, message) == nil)
            let partial = try c.commandLiteral("e", "UID FETCH 1 BODY.PEEK[]<1000000.50000>", after: "BODY[]<1000000> ")
            #expect(Self.difference(partial, Array(message[1_000_000..<1_050_000])) == nil)
            let rfc822 = try c.commandLiteral("f", "UID FETCH 1 RFC822", after: "RFC822 ")
            #expect(Self.difference(rfc822, message) == nil)

            // The parts, as the in-memory parser sees the same bytes.
            let parsed = ParsedMessage(parsing: message)
            let text = try c.commandLiteral("g", "UID FETCH 1 BODY.PEEK[1]", after: "BODY[1] ")
            #expect(Self.difference(text, Array(message[parsed.part(at: [1])!.bodyRange])) == nil)
            let binary = try c.commandLiteral("h", "UID FETCH 1 BINARY.PEEK[2]", after: "BINARY[2] ", literal8: true)
            #expect(Self.difference(binary, attachment) == nil)
            let size = try c.command("i", "UID FETCH 1 (BINARY.SIZE[2] RFC822.SIZE)")
            #expect(size.contains("BINARY.SIZE[2] \(attachment.count) RFC822.SIZE \(message.count)"), "\(size)")
            let structure = try c.command("j", "UID FETCH 1 (BODYSTRUCTURE ENVELOPE)")
            let expected =
                "BODYSTRUCTURE \(String(decoding: parsed.bodyStructure(extensible: true), as: UTF8.self)) ENVELOPE \(String(decoding: parsed.envelope(), as: UTF8.self))"
            #expect(structure.contains(expected), "\(structure)")
            let header = try c.commandLiteral(
                "k", "UID FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]", after: "BODY[HEADER.FIELDS (Subject)] ")
            #expect(header == Array("Subject: big one\r\n\r\n".utf8))

            let found = try c.command("l", "UID SEARCH BODY zanzibar")
            #expect(found.contains("* SEARCH 1\r\n"), "\(found)")
            // Once the background indexer has read the message from its file, the index
            // answers the same.
            var waited = 0
            while try server.h.store.indexBacklogCount() > 0 && waited < 400 {
                usleep(50_000)
                waited += 1
            }
            #expect(try server.h.store.indexBacklogCount() == 0)
            let indexed = try c.command("m", "UID SEARCH BODY zanzibar")
            #expect(indexed.contains("* SEARCH 1\r\n"), "\(indexed)")
            let subject = try c.command("n", "UID SEARCH SUBJECT \"big one\"")
            #expect(subject.contains("* SEARCH 1\r\n"), "\(subject)")
            let notFound = try c.command("o", "UID SEARCH BODY zanzibarx")
            #expect(notFound.contains("* SEARCH\r\n"), "\(notFound)")
        }
        #expect(server.temporaryFiles().isEmpty)
    }

    @Test func anAppendCutOffMidwayLeavesNoMessageAndNoFile() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        try await server.client { c in
            try c.command("a", "LOGIN alice@example.org Correct-Horse-42")
            c.send(Array("b APPEND INBOX {3000000}\r\n".utf8))
            #expect(try c.line().hasPrefix("+ "))
            c.send([UInt8](repeating: 0x61, count: 1_000_000))
        }
        // The server sees the connection close and drops what it had.
        #expect(
            await IMAPServerServiceTests.eventually {
                server.temporaryFiles().isEmpty && server.h.env.liveSessions.value == 0
            })
        #expect(server.blobFiles().isEmpty)
        try await server.client { c in
            try c.command("a", "LOGIN alice@example.org Correct-Horse-42")
            let status = try c.command("b", "STATUS INBOX (MESSAGES)")
            #expect(status.contains("(MESSAGES 0)"), "\(status)")
        }
    }

    @Test func aLiteralOverTheQuotaIsRefusedWithoutStoring() async throws {
        let server = try await Server.start()
        defer { server.stop() }
        _ = try server.h.dir.updateAccount(
            "alice@example.org", quota: "1M", actor: AdminActor(name: "t", role: .serverAdmin))
        try await server.client { c in
            try c.command("a", "LOGIN alice@example.org Correct-Horse-42")
            // Synchronizing: refused before the client sends a byte of it.
            c.send(Array("b APPEND INBOX {3000000}\r\n".utf8))
            let refusal = try c.line()
            #expect(refusal.hasPrefix("b NO [OVERQUOTA]"), "\(refusal)")
            // Non-synchronizing: the client sends it anyway; it is read and dropped.
            c.send(Array("c APPEND INBOX {3000000+}\r\n".utf8) + [UInt8](repeating: 0x61, count: 3_000_000) + [13, 10])
            let second = try c.readUntilTagged("c")
            #expect(second.contains("c NO [OVERQUOTA]"), "\(second)")
            #expect(!second.contains("+ "))
            // A mailbox that does not exist is refused the same way.
            c.send(Array("d APPEND Nowhere {3000000}\r\n".utf8))
            #expect(try c.line().hasPrefix("d NO [TRYCREATE]"))
            let status = try c.command("e", "STATUS INBOX (MESSAGES)")
            #expect(status.contains("(MESSAGES 0)"), "\(status)")
        }
        #expect(server.temporaryFiles().isEmpty)
        #expect(server.blobFiles().isEmpty)
    }

    /// An IMAP listener on loopback over an ``IMAPHarness`` store.
    final class Server: Sendable {
        let h: IMAPHarness
        let port: Int
        let group: ServiceGroup
        let running: Task<Void, any Error>

        init(h: IMAPHarness, port: Int, group: ServiceGroup, running: Task<Void, any Error>) {
            self.h = h
            self.port = port
            self.group = group
            self.running = running
        }

        /// `pool`: where sessions run their commands (the shared pool when nil).
        static func start(pool: BlockingPool? = nil) async throws -> Server {
            let h = try IMAPHarness()
            let port = Peers.freePort()
            let listening = Mutex(false)
            var env = h.env
            if let pool { env.pool = pool }
            let service = IMAPServerService(
                listeners: [IMAPListener(host: "127.0.0.1", port: port, implicitTLS: false)], env: env
            ) { _, _ in
                listening.withLock { $0 = true }
            }
            let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
            let running = Task { try await group.run() }
            #expect(await IMAPServerServiceTests.eventually { listening.withLock { $0 } })
            return Server(h: h, port: port, group: group, running: running)
        }

        func stop() {
            let (group, running) = (self.group, self.running)
            Task {
                await group.triggerGracefulShutdown()
                _ = try? await running.value
            }
        }

        /// Runs `body` with a new connection, off the shared pool (the socket blocks).
        func client(_ body: @escaping @Sendable (LineClient) throws -> Void) async throws {
            let port = self.port
            let result: Result<Void, any Error> = await IMAPServerServiceTests.offThePool {
                Result {
                    let c = try LineClient(port: port)
                    defer { c.close() }
                    _ = try c.line()  // greeting
                    try body(c)
                }
            }
            try result.get()
        }

        private func files() -> [String] {
            let root = h.delivery.blobs.root
            return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter {
                !$0.hasSuffix("/") && $0.split(separator: "/").count == 2
            }
        }

        /// Upload files left in the blob store.
        func temporaryFiles() -> [String] { files().filter { $0.contains(".tmp-") } }

        /// Stored blob files.
        func blobFiles() -> [String] { files().filter { !$0.contains(".tmp-") } }
    }
}

/// A blocking IMAP client over a socket: lines, tagged replies, literals.
final class LineClient: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    struct Closed: Error {}

    /// `receiveBuffer`: a small socket buffer for a client that means to stop reading (the
    /// server then finds the connection full after little data).
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard ok == 0 else { throw Closed() }
        // A server that stops answering fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        bytes.withUnsafeBytes { raw in
            while sent < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                sent += n
            }
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Closed() }
        buffer += chunk[..<n]
    }

    /// The next line, with its CRLF.
    func line() throws -> String {
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                let line = Array(buffer[...lf])
                buffer.removeFirst(lf + 1)
                return String(decoding: line, as: UTF8.self)
            }
            try fill()
        }
    }

    /// The next `count` octets (a literal whose announcing line was read with ``line()``).
    func read(count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// Everything up to and including the tagged reply line, literals included as bytes.
    func readUntilTagged(_ tag: String) throws -> String {
        var out: [UInt8] = []
        literals = []
        while true {
            guard let lf = buffer.firstIndex(of: 10) else {
                try fill()
                continue
            }
            let line = Array(buffer[...lf])
            buffer.removeFirst(lf + 1)
            out += line
            // A line ending in {n}: n octets of literal follow, then more of the line.
            if let size = Self.literalSize(line) {
                while buffer.count < size { try fill() }
                literals.append((String(decoding: line, as: UTF8.self), Array(buffer[..<size])))
                out += buffer[..<size]
                buffer.removeFirst(size)
                continue
            }
            if line.starts(with: Array("\(tag) ".utf8)) { return String(decoding: out, as: UTF8.self) }
        }
    }

    /// The size announced by `{n}` (or `~{n}`) at the end of a line.
    static func literalSize(_ line: [UInt8]) -> Int? {
        guard line.count >= 4, line.suffix(3) == [0x7D, 13, 10], let open = line.lastIndex(of: 0x7B) else { return nil }
        return Int(String(decoding: line[(open + 1)..<(line.count - 3)], as: UTF8.self))
    }

    /// Sends a command and returns the whole reply; a reply other than OK throws.
    @discardableResult
    func command(_ tag: String, _ text: String) throws -> String {
        send(Array("\(tag) \(text)\r\n".utf8))
        let reply = try readUntilTagged(tag)
        guard reply.contains("\r\n\(tag) OK") || reply.hasPrefix("\(tag) OK") else {
            Issue.record("\(tag) \(text): \(reply.prefix(300))")
            return reply
        }
        return reply
    }

    /// Sends a command and returns the literal that follows `label` in its reply
    /// (`label{n}`, or `label~{n}` for a literal8).
    func commandLiteral(_ tag: String, _ text: String, after label: String, literal8: Bool = false) throws -> [UInt8] {
        try command(tag, text)
        let marker = label + (literal8 ? "~{" : "{")
        guard let hit = literals.first(where: { $0.line.contains(marker) }) else {
            Issue.record("no \(marker) in the reply to \(text)")
            return []
        }
        return hit.bytes
    }

    /// The literals of the last reply read, each with the line that announced it.
    private(set) var literals: [(line: String, bytes: [UInt8])] = []
    var literalCount: Int { literals.count }
    var literalBytes: [[UInt8]] { literals.map(\.bytes) }
}
