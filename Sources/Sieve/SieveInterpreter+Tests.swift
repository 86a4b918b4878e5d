import Foundation
import MIME

extension SieveInterpreter {
    mutating func evaluate(_ t: Test) throws(SieveError) -> Bool {
        try step(t.location)
        switch t.kind {
        case .constant(let b):
            return b
        case .not(let inner):
            return !(try evaluate(inner))
        case .anyof(let tests):
            // RFC 5228 §5.2: evaluation stops at the first true test.
            for x in tests where try evaluate(x) { return true }
            return false
        case .allof(let tests):
            for x in tests where !(try evaluate(x)) { return false }
            return true
        case .exists(let names):
            return expand(names).allSatisfy { n in headers.contains { $0.name.lowercased() == n.lowercased() } }
        case .size(let over, let limit):
            return over ? Int64(message.bytes.count) > limit : Int64(message.bytes.count) < limit
        case .header(let match, let names, let keys, let index):
            let values = fields(expand(names), index).map { Self.decoded($0) }
            return try matchValues(match, values, expand(keys), at: t.location)
        case .address(let part, let match, let names, let keys, let index):
            var values: [String] = []
            for raw in fields(expand(names).filter { SieveValidator.addressFields.contains($0.lowercased()) }, index) {
                let parsed = HeaderMailboxes.parseAsWritten(Array(raw.utf8))
                // An entry without a domain is not an address and is skipped; a field with
                // nothing but such entries matches only as a whole, with :all (RFC 5228
                // §2.7.4; Pigeonhole does the same). A group alone gives nothing.
                let valid = parsed.filter { $0.domain != nil }
                if valid.isEmpty {
                    let v = Self.decoded(raw)
                    if part == .all && !parsed.isEmpty && !v.isEmpty { values.append(v) }
                    continue
                }
                for a in valid {
                    if let v = Self.addressPart(part, local: a.local, domain: a.domain) { values.append(v) }
                }
            }
            return try matchValues(match, values, expand(keys), at: t.location)
        case .envelope(let part, let match, let parts, let keys):
            var values: [String] = []
            for p in expand(parts) {
                let address: String? =
                    switch p.lowercased() {
                    case "from": context.envelopeFrom
                    case "to": context.envelopeTo
                    case "auth": context.envelopeAuth
                    default: nil
                    }
                guard let address else { continue }
                // RFC 5228 §5.4: the null reverse-path is the empty string, whatever the part.
                if address.isEmpty {
                    values.append("")
                    continue
                }
                let (local, domain) = Self.split(address)
                if let v = Self.addressPart(part, local: local, domain: domain) { values.append(v) }
            }
            return try matchValues(match, values, expand(keys), at: t.location)
        case .body(let transform, let match, let keys):
            return try matchValues(match, bodyTexts(transform), expand(keys), at: t.location, capture: false)
        case .string(let match, let sources, let keys):
            var values = expand(sources)
            // RFC 5229 §5: for :count, empty strings are not counted.
            if case .count = match.kind { values.removeAll { $0.isEmpty } }
            return try matchValues(match, values, expand(keys), at: t.location)
        case .hasflag(let match, let variables, let keys):
            let flags = variables.map { names in Self.flagList(names.map { lookup($0) }) } ?? internalFlags
            return try matchValues(match, flags, Self.flagList(expand(keys)), at: t.location)
        case .date(let match, let zone, let header, let part, let keys, let index):
            var values: [String] = []
            let name = expand(header)
            // RFC 5260 §4.1: a Received field's date is what follows its last ";".
            let dateText = fields([name], index).first.map { raw in
                name.lowercased() == "received"
                    ? String(raw[(raw.lastIndex(of: ";").map { raw.index(after: $0) } ?? raw.startIndex)...]) : raw
            }
            if let dateText, let parsed = DateParser.parseWithZone(Array(dateText.utf8)) {
                let minutes: Int =
                    switch zone {
                    case .local: context.timeZoneMinutes
                    case .fixed(let m): m
                    case .original: parsed.zoneMinutes
                    }
                if let v = SieveDate.part(part, parsed.date, zoneMinutes: minutes) { values.append(v) }
            }
            return try matchValues(match, values, expand(keys), at: t.location)
        case .currentdate(let match, let zone, let part, let keys):
            let minutes: Int =
                switch zone {
                case .fixed(let m): m
                default: context.timeZoneMinutes
                }
            let values = SieveDate.part(part, context.now, zoneMinutes: minutes).map { [$0] } ?? []
            return try matchValues(match, values, expand(keys), at: t.location)
        case .mailboxexists(let names):
            return expand(names).allSatisfy { context.mailboxExists($0) }
        case .duplicate(let spec):
            let id: String?
            if let u = spec.uniqueID {
                id = expand(u)
            } else {
                let name = spec.header.map { expand($0) } ?? "message-id"
                id = headers.first { $0.name.lowercased() == name.lowercased() }.map { Self.decoded($0.value) }
            }
            guard let id, !id.isEmpty else { return false }
            return context.isDuplicate(
                SieveDuplicateCheck(
                    handle: expand(spec.handle), uniqueID: id, seconds: spec.seconds ?? 604_800, last: spec.last))
        }
    }

    /// The raw values of the fields with these names, in header order per name; with an index
    /// only the chosen occurrence of each name (RFC 5260 §6).
    func fields(_ names: [String], _ index: HeaderIndex?) -> [String] {
        var out: [String] = []
        for n in names {
            let l = n.lowercased()
            let values = headers.filter { $0.name.lowercased() == l }.map(\.value)
            if let index {
                let k = index.last ? values.count - index.position : index.position - 1
                if values.indices.contains(k) { out.append(values[k]) }
            } else {
                out += values
            }
        }
        return out
    }

    /// RFC 5228 §5.7 (header): RFC 2047 words decoded, surrounding whitespace removed.
    static func decoded(_ raw: String) -> String {
        EncodedWord.decode(raw).trimmingCharacters(in: .whitespaces)
    }

    /// RFC 5228 §2.7.4 and RFC 5233 §4: the part of an address a test compares; nil when the
    /// address has no such part (no domain; no "+" for :detail).
    static func addressPart(_ part: AddressPart, local written: String, domain: String?) -> String? {
        // :all keeps a quoted local part as written ("john smith"@example.org); the other
        // parts compare its content (john smith).
        let local = unquoted(written)
        switch part {
        case .all: return domain.map { written + "@" + $0 } ?? written
        case .localpart: return local
        case .domain: return domain
        case .user:
            return local.firstIndex(of: "+").map { String(local[..<$0]) } ?? local
        case .detail:
            return local.firstIndex(of: "+").map { String(local[local.index(after: $0)...]) }
        }
    }

    /// A quoted-string's content (RFC 5322 §3.2.4); anything else as it is.
    static func unquoted(_ s: String) -> String {
        guard s.count >= 2, s.first == "\"", s.last == "\"" else { return s }
        var out = ""
        var escaped = false
        for c in s.dropFirst().dropLast() {
            if c == "\\" && !escaped {
                escaped = true
                continue
            }
            escaped = false
            out.append(c)
        }
        return out
    }

    /// RFC 5173 §5: the texts the body test compares, one per part.
    func bodyTexts(_ transform: BodyTransform) -> [String] {
        switch transform {
        case .raw:
            let r = message.root.bodyRange
            let end = min(r.upperBound, r.lowerBound + limits.maxBodyText)
            return [String(decoding: message.bytes[r.lowerBound..<end], as: UTF8.self)]
        case .text:
            // RFC 5173 §5.2 lets us turn HTML into text: the plain text parts are that text
            // already (as in multipart/alternative), so HTML counts only when there is no other
            // text, with its tags removed. Pigeonhole reads no HTML beside plain text either.
            let texts = leaves(message.root).filter { $0.type == "text" }
            let plain = texts.filter { $0.subtype != "html" }
            return plain.isEmpty ? texts.map { Self.withoutTags(text($0)) } : plain.map(text)
        case .content(let types):
            let wanted = expand(types).map { $0.lowercased() }
            return leaves(message.root).filter { p in
                wanted.contains { w in
                    w.isEmpty || (w.contains("/") ? w == p.type + "/" + p.subtype : w == p.type)
                }
            }.map(text)
        }
    }

    /// HTML as text, roughly: tags removed, the common entities decoded.
    static func withoutTags(_ html: String) -> String {
        var out = ""
        var inTag = false
        for c in html {
            if c == "<" {
                inTag = true
            } else if c == ">" && inTag {
                inTag = false
            } else if !inTag {
                out.append(c)
            }
        }
        return out.replacingOccurrences(of: "&nbsp;", with: " ").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    func text(_ p: MIMEPart) -> String {
        Variables.truncate(message.decodedText(of: p), limits.maxBodyText)
    }

    /// The non-multipart parts, message/rfc822 contents included.
    func leaves(_ p: MIMEPart) -> [MIMEPart] {
        if p.isMultipart { return p.children.flatMap(leaves) }
        if let m = p.message { return [p] + leaves(m) }
        return [p]
    }

    /// Compares each value with each key (RFC 5228 §2.7: true when any pair matches). With
    /// `capture`, a :matches success sets the match variables (RFC 5229 §3.2).
    mutating func matchValues(_ m: Match, _ values: [String], _ keys: [String], at: SieveLocation, capture: Bool = true)
        throws(SieveError) -> Bool
    {
        if case .count(let relation) = m.kind {
            for k in keys {
                try step(at)
                if relation.holds(m.comparator.compare(String(values.count), k)) { return true }
            }
            return false
        }
        for v in values {
            for k in keys {
                try step(at)
                switch m.kind {
                case .is:
                    if m.comparator.equals(v, k) { return true }
                case .contains:
                    if m.comparator.contains(v, k) { return true }
                case .matches:
                    if let groups = m.comparator.matches(v, k, work: &matchWork) {
                        if capture && extensions.contains(.variables) { frame.variables.matches = groups }
                        return true
                    }
                    if matchWork <= 0 {
                        throw SieveError(.limit, at, ":matches patterns took too long to try on this message")
                    }
                case .value(let relation):
                    if relation.holds(m.comparator.compare(v, k)) { return true }
                case .count:
                    preconditionFailure("handled above")
                }
            }
        }
        return false
    }
}
