import Crypto
import Foundation
import TestSupport

/// A folder as an IMAP client sees it, read over IMAP from any server on 127.0.0.1 (ours or
/// Dovecot): each message's UID, flags and bytes, and their SHA-256.
struct IMAPFolderContents {
    struct Message: Hashable {
        var uid: Int
        /// Lowercased, without \Recent (the session's, not the message's).
        var flags: Set<String>
        var bytes: [UInt8]
        var sha256: String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
    }

    var messages: [Message]
    /// What the server said, for failure messages.
    var transcript: String

    var hashes: [String] { messages.map(\.sha256).sorted() }

    /// The message with these bytes.
    func message(_ bytes: [UInt8]) -> Message? { messages.first { $0.bytes == bytes } }

    /// Logs in, EXAMINEs `folder` (the name as the server spells it) and fetches everything.
    static func read(port: Int, login: String, password: String, folder: String) -> IMAPFolderContents {
        let data = Peers.converseBytes(
            port: port,
            Array(
                "a LOGIN \"\(login)\" \"\(password)\"\r\nb EXAMINE \"\(folder)\"\r\nc UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\nd LOGOUT\r\n"
                    .utf8))
        return IMAPFolderContents(messages: parse(data), transcript: String(decoding: data.prefix(3000), as: UTF8.self))
    }

    /// The messages of FETCH responses carrying `BODY[] {n}` literals.
    static func parse(_ data: [UInt8]) -> [Message] {
        let marker = Array("BODY[] {".utf8)
        var out: [Message] = []
        var from = 0
        while let at = find(marker, in: data, from: from) {
            var i = at + marker.count
            var n = 0
            while i < data.count, let d = Int(String(UnicodeScalar(data[i]))) {
                n = n * 10 + d
                i += 1
            }
            guard i + 2 < data.count, data[i] == UInt8(ascii: "}") else { break }
            let start = i + 3  // "}\r\n"
            guard start + n <= data.count else { break }
            // The FETCH line: from its "* " to the literal, and what follows it to the line's end.
            var lineStart = at
            while lineStart > from, !(data[lineStart - 1] == 0x0A && data[lineStart] == UInt8(ascii: "*")) {
                lineStart -= 1
            }
            var lineEnd = start + n
            while lineEnd < data.count, data[lineEnd] != 0x0A { lineEnd += 1 }
            let text =
                String(decoding: data[lineStart..<at], as: UTF8.self)
                + String(decoding: data[(start + n)..<lineEnd], as: UTF8.self)
            out.append(
                Message(uid: uid(text) ?? 0, flags: flags(text), bytes: Array(data[start..<(start + n)])))
            from = start + n
        }
        return out
    }

    static func uid(_ text: String) -> Int? {
        guard let r = text.range(of: #"UID [0-9]+"#, options: .regularExpression) else { return nil }
        return Int(text[r].dropFirst(4))
    }

    static func flags(_ text: String) -> Set<String> {
        guard let r = text.range(of: #"FLAGS \([^)]*\)"#, options: .regularExpression) else { return [] }
        let inner = text[r].dropFirst(7).dropLast()
        return Set(inner.split(separator: " ").map { $0.lowercased() }.filter { $0 != "\\recent" })
    }

    static func find(_ needle: [UInt8], in data: [UInt8], from: Int) -> Int? {
        guard needle.count <= data.count else { return nil }
        var i = from
        while i + needle.count <= data.count {
            if data[i] == needle[0], Array(data[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    /// Adds messages with APPEND (LITERAL+), creating `create` first; returns the transcript.
    @discardableResult
    static func append(
        port: Int, login: String, password: String, create: [String] = [],
        _ messages: [(folder: String, flags: String, bytes: [UInt8])]
    ) -> String {
        var out = Array("a LOGIN \"\(login)\" \"\(password)\"\r\n".utf8)
        for (n, folder) in create.enumerated() { out += Array("c\(n) CREATE \"\(folder)\"\r\n".utf8) }
        for (n, m) in messages.enumerated() {
            out +=
                Array("p\(n) APPEND \"\(m.folder)\" (\(m.flags)) {\(m.bytes.count)+}\r\n".utf8) + m.bytes + [
                    0x0D, 0x0A,
                ]
        }
        out += Array("z LOGOUT\r\n".utf8)
        return String(decoding: Peers.converseBytes(port: port, out), as: UTF8.self)
    }

    /// Runs commands in `folder` (SELECTed, read-write) and returns the transcript.
    @discardableResult
    static func run(port: Int, login: String, password: String, folder: String, _ commands: [String]) -> String {
        var text = "a LOGIN \"\(login)\" \"\(password)\"\r\nb SELECT \"\(folder)\"\r\n"
        for (n, c) in commands.enumerated() { text += "r\(n) \(c)\r\n" }
        text += "z LOGOUT\r\n"
        return Peers.converse(port: port, text)
    }
}
