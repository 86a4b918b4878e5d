import Foundation
import Testing

@testable import IMAPServer

/// SEARCH against a brute-force scan: random mailboxes, random queries (text criteria long
/// enough for the full-text index and too short for it, flags, sizes, NOT/OR/AND).
@Suite struct SearchPropertyTests {
    struct Rng {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
    }

    static let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "Über", "naïve"]

    struct Message {
        var subject: String
        var from: String
        var body: String
        var seen: Bool
        var flagged: Bool
        var raw: String { "From: \(from)@example.net\r\nSubject: \(subject)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\(body)\r\n" }
    }

    indirect enum Query {
        case subject(String), body(String), text(String), from(String), seen(Bool), flagged, larger(Int), all
        case not(Query), or(Query, Query), and(Query, Query)

        var imap: String {
            switch self {
            case .subject(let s): return "SUBJECT \"\(s)\""
            case .body(let s): return "BODY \"\(s)\""
            case .text(let s): return "TEXT \"\(s)\""
            case .from(let s): return "FROM \"\(s)\""
            case .seen(let b): return b ? "SEEN" : "UNSEEN"
            case .flagged: return "FLAGGED"
            case .larger(let n): return "LARGER \(n)"
            case .all: return "ALL"
            case .not(let q): return "NOT \(q.imap)"
            case .or(let a, let b): return "OR \(a.imap) \(b.imap)"
            case .and(let a, let b): return "(\(a.imap) \(b.imap))"
            }
        }

        func matches(_ m: Message) -> Bool {
            func has(_ hay: String, _ needle: String) -> Bool { hay.range(of: needle, options: .caseInsensitive) != nil }
            switch self {
            case .subject(let s): return has(m.subject, s)
            case .body(let s): return has(m.body, s)
            case .text(let s): return has(m.raw, s)
            case .from(let s): return has(m.from + "@example.net", s)
            case .seen(let b): return m.seen == b
            case .flagged: return m.flagged
            case .larger(let n): return m.raw.utf8.count > n
            case .all: return true
            case .not(let q): return !q.matches(m)
            case .or(let a, let b): return a.matches(m) || b.matches(m)
            case .and(let a, let b): return a.matches(m) && b.matches(m)
            }
        }
    }

    static func needle(_ r: inout Rng) -> String {
        let w = Array(words[r.next(words.count)])
        let length = 2 + r.next(3)
        let start = r.next(max(1, w.count - length + 1))
        return String(w[start..<min(w.count, start + length)])
    }

    static func query(_ r: inout Rng, depth: Int) -> Query {
        if depth > 0 && r.next(3) == 0 {
            switch r.next(3) {
            case 0: return .not(query(&r, depth: depth - 1))
            case 1: return .or(query(&r, depth: depth - 1), query(&r, depth: depth - 1))
            default: return .and(query(&r, depth: depth - 1), query(&r, depth: depth - 1))
            }
        }
        switch r.next(8) {
        case 0: return .subject(needle(&r))
        case 1: return .body(needle(&r))
        case 2: return .text(needle(&r))
        case 3: return .from(needle(&r))
        case 4: return .seen(r.next(2) == 0)
        case 5: return .flagged
        case 6: return .larger(100 + r.next(120))
        default: return .all
        }
    }

    @Test(arguments: [1, 2, 3])
    func searchAgreesWithAScan(seed: UInt64) throws {
        var r = Rng(state: seed)
        let h = try IMAPHarness()
        let s = h.session()
        var messages: [Message] = []
        for _ in 0..<(20 + r.next(20)) {
            let m = Message(
                subject: (0..<2).map { _ in Self.words[r.next(Self.words.count)] }.joined(separator: " "),
                from: Self.words[r.next(Self.words.count)].lowercased().replacingOccurrences(of: "ü", with: "u").replacingOccurrences(of: "ï", with: "i"),
                body: (0..<(3 + r.next(15))).map { _ in Self.words[r.next(Self.words.count)] }.joined(separator: " "),
                seen: r.next(2) == 0, flagged: r.next(4) == 0)
            let flags = [m.seen ? "\\Seen" : nil, m.flagged ? "\\Flagged" : nil].compactMap { $0 }.joined(separator: " ")
            #expect(h.append(s, m.raw, flags: flags).contains("OK"))
            messages.append(m)
        }
        h.send(s, "s SELECT INBOX")
        for _ in 0..<60 {
            let q = Self.query(&r, depth: 3)
            let reply = h.send(s, "q UID SEARCH CHARSET UTF-8 \(q.imap)")
            guard let line = reply.split(separator: "\r\n").first(where: { $0.hasPrefix("* SEARCH") }) else {
                Issue.record("no SEARCH response to \(q.imap): \(reply)")
                continue
            }
            let got = line.split(separator: " ").dropFirst(2).compactMap { Int($0) }
            let expected = messages.indices.filter { q.matches(messages[$0]) }.map { $0 + 1 }
            #expect(got == expected, "UID SEARCH \(q.imap)")
        }
    }
}
