import Foundation
import MailCore
import Storage

/// What a distribution list adds to a message it distributes: RFC 2919 `List-Id`, RFC 2369
/// `List-Post`, `List-Owner`, `List-Help` and (for announcement lists) `List-Unsubscribe`, the
/// subject prefix, and `Reply-To` when replies go to the list.
public enum ListHeaders {
    /// Announcement lists (only chosen senders, or moderated) tell readers how to leave.
    static func isAnnouncement(_ list: ListRecord) -> Bool {
        list.postingPolicy == .senders || list.postingPolicy == .moderated
    }

    /// `strictSenderPolicy`: the poster's From domain publishes DMARC `p=reject` or
    /// `p=quarantine` (what the inbound checks found), for `dmarcRewrite = auto`.
    public static func apply(_ list: ListRecord, to message: [UInt8], strictSenderPolicy: Bool = false) -> [UInt8] {
        let (headerEnd, bodyStart) = headerBounds(message)
        var fields = splitFields(Array(message[..<headerEnd]))
        let address = list.address.description
        // list-id = [phrase] "<" list-label "." list-id-namespace ">"; the address with "@" as "."
        let label = list.address.localPart.replacingOccurrences(of: ".", with: "-") + "." + list.address.domain.ascii
        let name = list.name.isEmpty ? "" : "\"\(list.name.replacingOccurrences(of: "\"", with: "'"))\" "
        var added = ["List-Id: \(name)<\(label)>", "List-Post: <mailto:\(address)>"]
        let owner = list.owners.first
        if let owner {
            added.append("List-Owner: <mailto:\(owner)>")
            added.append("List-Help: <mailto:\(owner)?subject=help>")
        }
        if isAnnouncement(list) {
            let target = owner ?? "postmaster@\(list.address.domain.ascii)"
            let subject = "unsubscribe%20\(address.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? address)"
            added.append("List-Unsubscribe: <mailto:\(target)?subject=\(subject)>")
        }
        // A message already carrying this list's headers (a nested copy) keeps the outer ones.
        fields.removeAll { f in
            let n = f.name.lowercased()
            return n.hasPrefix("list-") && ["list-id", "list-post", "list-owner", "list-help", "list-unsubscribe"].contains(n)
        }
        if !list.subjectPrefix.isEmpty {
            let prefix = list.subjectPrefix
            if let i = fields.firstIndex(where: { $0.name.lowercased() == "subject" }) {
                let value = String(decoding: fields[i].value, as: UTF8.self)
                if !value.contains(prefix) {
                    let trimmed = value.drop { $0 == " " || $0 == "\t" }
                    fields[i].value = Array(" \(prefix) \(trimmed)".utf8)
                }
            } else {
                added.append("Subject: \(prefix)")
            }
        }
        if list.replyTo == .list {
            fields.removeAll { $0.name.lowercased() == "reply-to" }
            added.append("Reply-To: <\(address)>")
        }
        // DMARC-safe From (as Mailman 3): the list's address with the poster's name, the poster
        // in Reply-To, so that servers checking the poster's strict DMARC policy accept the copy.
        let rewrite = list.dmarcRewrite == .always || (list.dmarcRewrite == .auto && strictSenderPolicy)
        if rewrite, let i = fields.firstIndex(where: { $0.name.lowercased() == "from" }) {
            let original = String(decoding: fields[i].value, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            let poster = Self.displayName(original)
            let listName = list.name.isEmpty ? list.address.localPart : list.name
            let phrase = "\(poster) via \(listName)".replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "\"", with: "'")
            fields.remove(at: i)
            added.append("From: \"\(phrase)\" <\(address)>")
            if list.replyTo == .sender, !fields.contains(where: { $0.name.lowercased() == "reply-to" }) {
                added.append("Reply-To: \(original)")
            }
        }
        var out: [UInt8] = []
        for line in added { out += Array(line.utf8) + [13, 10] }
        for f in fields { out += f.name.isEmpty ? f.value : Array(f.name.utf8) + [UInt8(ascii: ":")] + f.value }
        out += message[headerEnd..<bodyStart]
        out += message[bodyStart...]
        return out
    }

    struct Field {
        var name: String
        /// Everything after the colon, folded lines and final CRLF included.
        var value: [UInt8]
    }

    /// The header block's end (start of the blank line) and the body's start.
    static func headerBounds(_ m: [UInt8]) -> (Int, Int) {
        var i = 0
        var lineStart = 0
        while i < m.count {
            if m[i] == 10 {
                let contentEnd = i > lineStart && m[i - 1] == 13 ? i - 1 : i
                if contentEnd == lineStart { return (lineStart, i + 1) }
                lineStart = i + 1
            }
            i += 1
        }
        return (m.count, m.count)
    }

    static func splitFields(_ header: [UInt8]) -> [Field] {
        var fields: [Field] = []
        var i = 0
        while i < header.count {
            var end = i
            while end < header.count && header[end] != 10 { end += 1 }
            let line = Array(header[i..<min(end + 1, header.count)])
            if line.first == 32 || line.first == 9, !fields.isEmpty {
                fields[fields.count - 1].value += line
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                fields.append(Field(name: String(decoding: line[..<colon], as: UTF8.self), value: Array(line[(colon + 1)...])))
            } else {
                // Not a field (malformed): kept as it was.
                fields.append(Field(name: "", value: line))
            }
            i = end + 1
        }
        return fields
    }

    /// The poster's name for "Name via List": the display name of a From value, unquoted and
    /// unfolded, or the address when there is none.
    static func displayName(_ from: String) -> String {
        let unfolded = from.replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: "\t", with: " ")
        if let lt = unfolded.firstIndex(of: "<") {
            var name = unfolded[..<lt].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            if !name.isEmpty { return name }
            return String(unfolded[unfolded.index(after: lt)...].prefix { $0 != ">" })
        }
        return unfolded
    }
}
