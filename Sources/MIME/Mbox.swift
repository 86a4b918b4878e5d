import Foundation
import MailCore

/// One message of an mbox file: the envelope sender and date of its `From ` line, its flags
/// (from `Status:`/`X-Status:`, which are mbox bookkeeping and are taken out of the message),
/// and its bytes with CRLF line ends.
public struct MboxMessage: Hashable, Sendable {
    public var sender: String
    /// The `From ` line's date, to the second; nil when the line has none that parses.
    public var date: Date?
    /// IMAP system flags, in the order `\Seen \Answered \Flagged \Deleted \Draft`.
    public var flags: [String]
    public var data: [UInt8]

    public init(sender: String, date: Date?, flags: [String], data: [UInt8]) {
        self.sender = sender
        self.date = date
        self.flags = flags
        self.data = data
    }
}

/// mbox files (RFC 4155): messages each after a `From sender date` line.
///
/// The variants differ only in how body lines starting with `From ` are kept: mboxo writes
/// `>From ` and cannot tell it apart from a body line that started with `>From `; mboxrd
/// (which we write) adds one `>` to every `>*From ` line, and reading removes one. mboxcl2
/// quotes nothing and gives each message's body length in `Content-Length:`; a length that
/// holds is followed, so its `From ` body lines stay in their message (format detected per
/// message).
/// Lines are split on LF; carriage returns before it are dropped and every line comes out
/// ending CRLF, so a message with a bare CR or LF does not come back byte for byte.
public enum Mbox {
    public enum Variant: String, Hashable, Sendable, CaseIterable {
        case mboxrd, mboxo
    }

    public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The file does not start with a `From ` line (after blank lines).
        case notMbox(firstLine: String)
        public var description: String {
            switch self {
            case .notMbox(let line):
                return "not an mbox file: it should start with a \"From \" line, not \(line.debugDescription)"
            }
        }
    }

    /// The flag letters of `Status:` and `X-Status:` (as mutt and Dovecot write them).
    static let statusFlags: [(letter: UInt8, flag: String)] = [
        (UInt8(ascii: "R"), "\\Seen"), (UInt8(ascii: "A"), "\\Answered"), (UInt8(ascii: "F"), "\\Flagged"),
        (UInt8(ascii: "D"), "\\Deleted"), (UInt8(ascii: "T"), "\\Draft"),
    ]

    /// The messages of an mbox file. Blank lines before the first `From ` line are skipped;
    /// anything else there means the file is not an mbox. The blank line a writer puts after
    /// each message is not part of it.
    public static func parse(_ bytes: [UInt8], variant: Variant = .mboxrd) throws -> [MboxMessage] {
        var messages: [MboxMessage] = []
        var current: (sender: String, date: Date?, lines: [ArraySlice<UInt8>])?
        func add(sender: String, date: Date?, _ lines: [ArraySlice<UInt8>]) {
            let (flags, lines) = takeStatus(lines)
            var data: [UInt8] = []
            for line in lines {
                data += line
                data += [13, 10]
            }
            messages.append(MboxMessage(sender: sender, date: date, flags: flags, data: data))
        }
        func finish() {
            guard var c = current else { return }
            if c.lines.last?.isEmpty == true { c.lines.removeLast() }
            add(sender: c.sender, date: c.date, c.lines)
            current = nil
        }
        var start = 0
        while start < bytes.count {
            var end = bytes[start...].firstIndex(of: 10) ?? bytes.count
            let next = end + 1
            while end > start && bytes[end - 1] == 13 { end -= 1 }
            let line = bytes[start..<end]
            start = next
            if line.starts(with: fromPrefix) {
                finish()
                let (sender, date) = parseFromLine(line.dropFirst(5))
                if let (lines, next) = lengthDelimited(bytes, at: start) {
                    add(sender: sender, date: date, lines)
                    start = next
                } else {
                    current = (sender, date, [])
                }
            } else if current != nil {
                current!.lines.append(variant == .mboxrd ? unquoted(line) : line)
            } else if !line.isEmpty {
                throw ParseError.notMbox(firstLine: String(decoding: line.prefix(60), as: UTF8.self))
            }
        }
        finish()
        return messages
    }

    /// mboxcl2 (and mboxcl): the message at `start` (just after its `From ` line) when its
    /// header has a `Content-Length:` that ends the body with a line end exactly at the end of
    /// the file or at the next `From ` line (after at most one blank line). Such a body is taken as it is:
    /// its lines are not split at `From ` nor unquoted. Any other length is not trusted (a
    /// file edited by hand, or a `Content-Length:` that is the message's own) and nil sends the
    /// message through the line rules. Returns its lines and where the file goes on.
    static func lengthDelimited(_ bytes: [UInt8], at start: Int) -> ([ArraySlice<UInt8>], Int)? {
        var lines: [ArraySlice<UInt8>] = []
        var length: Int?
        var position = start
        while true {  // the header, up to its empty line
            guard position < bytes.count, let lf = bytes[position...].firstIndex(of: 10) else { return nil }
            var end = lf
            while end > position && bytes[end - 1] == 13 { end -= 1 }
            let line = bytes[position..<end]
            position = lf + 1
            lines.append(line)
            if line.isEmpty { break }
            if line.hasASCIIPrefix(lowercased: "content-length:") {
                let value = String(decoding: line.dropFirst(15), as: UTF8.self).trimmingCharacters(in: .whitespaces)
                guard value.count <= 12, let n = Int(value), n >= 0 else { return nil }
                length = n
            }
        }
        guard let length, length <= bytes.count - position else { return nil }
        let bodyEnd = position + length
        // The body ends a line, then at most the one blank line writers put between messages:
        // an mboxrd file whose message carries a Content-Length of its own would need both to
        // be misread.
        guard length == 0 || bytes[bodyEnd - 1] == 10 else { return nil }
        var after = bodyEnd
        if bytes[after...].starts(with: [13, 10]) { after += 2 } else if bytes[after...].starts(with: [10]) { after += 1 }
        guard after == bytes.count || bytes[after...].starts(with: fromPrefix) else { return nil }
        var bodyStart = position
        while bodyStart < bodyEnd {
            var end = bytes[bodyStart..<bodyEnd].firstIndex(of: 10) ?? bodyEnd
            let next = end + 1
            while end > bodyStart && bytes[end - 1] == 13 { end -= 1 }
            lines.append(bytes[bodyStart..<end])
            bodyStart = next
        }
        return (lines, after)
    }

    /// An mboxrd file of `messages`, LF line ends. `Status:`/`X-Status:` fields the messages
    /// carry are replaced by ones for their flags. A message without a date gets a `From ` line
    /// without one, as it was read.
    public static func write(_ messages: [MboxMessage]) -> [UInt8] {
        var out: [UInt8] = []
        for m in messages {
            out += fromPrefix
            let sender = m.sender.isEmpty || m.sender.contains(where: \.isWhitespace) ? defaultSender : m.sender
            out += Array((m.date.map { "\(sender) \(asctime($0))\n" } ?? "\(sender)\n").utf8)
            var (_, lines) = takeStatus(splitLines(m.data))
            let headerEnd = lines.firstIndex(where: \.isEmpty) ?? lines.count
            lines.insert(contentsOf: statusFields(m.flags), at: headerEnd)
            for line in lines {
                if quotable(line) { out.append(UInt8(ascii: ">")) }
                out += line
                out.append(10)
            }
            out.append(10)
        }
        return out
    }

    /// The `Status:`/`X-Status:` lines for `flags` (none for a message without flags).
    static func statusFields(_ flags: [String]) -> [ArraySlice<UInt8>] {
        var fields: [ArraySlice<UInt8>] = []
        if flags.contains("\\Seen") { fields.append(ArraySlice("Status: RO".utf8)) }
        let x = statusFlags.dropFirst().filter { flags.contains($0.flag) }.map(\.letter)
        if !x.isEmpty { fields.append(ArraySlice("X-Status: ".utf8) + x) }
        return fields
    }

    static let fromPrefix = Array("From ".utf8)
    /// The sender of a `From ` line that names none (what mutt and Dovecot write for it too).
    public static let defaultSender = "MAILER-DAEMON"

    /// `>*From `: a line a reader would take for a separator once unquoted.
    static func quotable(_ line: ArraySlice<UInt8>) -> Bool {
        line.drop { $0 == UInt8(ascii: ">") }.starts(with: fromPrefix)
    }

    static func unquoted(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.first == UInt8(ascii: ">") && quotable(line) ? line.dropFirst() : line
    }

    /// A message's lines without their ends, CRs before each LF dropped (as `parse` does).
    static func splitLines(_ data: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        while start < data.count {
            var end = data[start...].firstIndex(of: 10) ?? data.count
            let next = end + 1
            while end > start && data[end - 1] == 13 { end -= 1 }
            lines.append(data[start..<end])
            start = next
        }
        return lines
    }

    static func isStatusField(_ line: ArraySlice<UInt8>) -> Bool {
        line.hasASCIIPrefix(lowercased: "status:") || line.hasASCIIPrefix(lowercased: "x-status:")
    }

    /// Takes the `Status:`/`X-Status:` fields (and their continuation lines) out of the
    /// header, returning the flags they set and the remaining lines.
    static func takeStatus(_ lines: [ArraySlice<UInt8>]) -> ([String], [ArraySlice<UInt8>]) {
        var letters = Set<UInt8>()
        var kept: [ArraySlice<UInt8>] = []
        var inHeader = true
        var skipping = false
        for line in lines {
            if inHeader && line.isEmpty { inHeader = false }
            guard inHeader else {
                kept.append(line)
                continue
            }
            if skipping && (line.first == 32 || line.first == 9) { continue }
            skipping = isStatusField(line)
            if skipping {
                let value = line.drop { $0 != UInt8(ascii: ":") }.dropFirst()
                // `R` in Status means read; in X-Status, letters other than R keep their meaning.
                if line.first?.asciiLowercased == UInt8(ascii: "s") {
                    if value.contains(UInt8(ascii: "R")) { letters.insert(UInt8(ascii: "R")) }
                } else {
                    letters.formUnion(value.filter { $0 != UInt8(ascii: "R") })
                }
            } else {
                kept.append(line)
            }
        }
        return (statusFlags.filter { letters.contains($0.letter) }.map(\.flag), kept)
    }

    /// `sender date` of a `From ` line; the date in asctime form (`Thu Dec  3 14:55:24 2026`),
    /// possibly with a zone before or after the year, read as UTC as mbox writers mean it.
    static func parseFromLine(_ rest: ArraySlice<UInt8>) -> (String, Date?) {
        let words = String(decoding: rest, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard let sender = words.first else { return (defaultSender, nil) }
        let dateWords = words.dropFirst()
        guard
            let monthAt = dateWords.firstIndex(where: {
                months.contains(String($0.prefix(3)).capitalized) && $0.count == 3
            }),
            monthAt + 2 < words.endIndex, let day = Int(words[monthAt + 1]),
            let year = dateWords.first(where: { $0.count == 4 && Int($0) != nil }).flatMap({ Int($0) })
        else { return (String(sender), nil) }
        let time = words[monthAt + 2].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        // Bounded so that the date prints back as the same four-digit year.
        guard (2...3).contains(time.count), let hour = time[0], let minute = time[1], (0...23).contains(hour),
            (0...59).contains(minute), (1...31).contains(day), (1000...9998).contains(year)
        else { return (String(sender), nil) }
        let second = time.count > 2 ? time[2] : 0
        guard let second, (0...60).contains(second) else { return (String(sender), nil) }
        var c = DateComponents()
        c.year = year
        c.month = months.firstIndex(of: String(words[monthAt]).capitalized)! + 1
        c.day = day
        c.hour = hour
        c.minute = minute
        c.second = second
        return (String(sender), utcCalendar.date(from: c))
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let utcCalendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    /// `Thu Dec  3 14:55:24 2026`, in UTC.
    public static func asctime(_ date: Date) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let day = c.day ?? 1
        return "\(days[(c.weekday ?? 1) - 1]) \(months[(c.month ?? 1) - 1]) \(day < 10 ? " \(day)" : "\(day)") "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) \(c.year ?? 1970)"
    }
}
