/// FETCH's grammar (RFC 9051 §6.4.5, RFC 3516, RFC 7162 §3.1.4).
extension IMAPParser {
    /// fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
    mutating func fetch(uid: Bool) throws -> IMAPCommand {
        try sp()
        let set = try sequenceSet()
        try sp()
        var attributes: [FetchAttribute] = []
        if skip(0x28) {
            while !skip(0x29) {
                if !attributes.isEmpty { try sp() }
                attributes.append(contentsOf: try fetchAttribute(macros: false))
                guard attributes.count <= 100 else { throw fail("too many FETCH items") }
            }
        } else {
            attributes = try fetchAttribute(macros: true)
        }
        var modifiers = FetchModifiers()
        // fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
        if skip(0x20) {
            try expect(0x28, "(")
            var first = true
            while !skip(0x29) {
                if !first { try sp() }
                first = false
                switch try keyword() {
                case "CHANGEDSINCE":
                    try sp()
                    modifiers.changedSince = try number64()
                case "VANISHED": modifiers.vanished = true
                case let other: throw fail("unknown FETCH modifier \(other)")
                }
            }
            if modifiers.vanished && (!uid || modifiers.changedSince == nil) {
                throw fail("VANISHED goes with UID FETCH and CHANGEDSINCE")
            }
        }
        if uid, !attributes.contains(.uid) { attributes.insert(.uid, at: 0) }
        return .fetch(set, attributes, modifiers, uid: uid)
    }

    /// The name of a fetch item: letters, digits and dots, up to "[", "<", SP or ")".
    mutating func fetchName() throws -> String {
        let start = i
        while let c = peek, (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E { i += 1 }
        guard i > start else { throw fail("expected a FETCH item") }
        return String(decoding: bytes[start..<i], as: UTF8.self).uppercased()
    }

    mutating func fetchAttribute(macros: Bool) throws -> [FetchAttribute] {
        let name = try fetchName()
        switch name {
        case "ALL" where macros: return [.flags, .internalDate, .rfc822Size, .envelope]
        case "FAST" where macros: return [.flags, .internalDate, .rfc822Size]
        case "FULL" where macros: return [.flags, .internalDate, .rfc822Size, .envelope, .body]
        case "ENVELOPE": return [.envelope]
        case "FLAGS": return [.flags]
        case "INTERNALDATE": return [.internalDate]
        case "RFC822": return [.rfc822]
        case "RFC822.HEADER": return [.rfc822Header]
        case "RFC822.SIZE": return [.rfc822Size]
        case "RFC822.TEXT": return [.rfc822Text]
        case "BODYSTRUCTURE": return [.bodyStructure]
        case "UID": return [.uid]
        case "MODSEQ": return [.modseq]
        case "BODY", "BODY.PEEK":
            guard peek == 0x5B else {
                guard name == "BODY" else { throw fail("BODY.PEEK needs a [section]") }
                return [.body]
            }
            let section = try self.section()
            return [.bodySection(section, partial: try partial(), peek: name == "BODY.PEEK")]
        case "BINARY", "BINARY.PEEK", "BINARY.SIZE":
            let part = try binarySection()
            if name == "BINARY.SIZE" { return [.binarySize(part: part)] }
            return [.binary(part: part, partial: try partial(), peek: name == "BINARY.PEEK")]
        default:
            throw fail("unknown FETCH item \(name.prefix(40))")
        }
    }

    /// section = "[" [section-spec] "]"
    mutating func section() throws -> SectionSpec {
        try expect(0x5B, "[")
        var spec = SectionSpec()
        if skip(0x5D) { return spec }
        while let c = peek, c >= 0x30, c <= 0x39 {
            spec.part.append(Int(try nzNumber()))
            guard spec.part.count <= 32 else { throw fail("section nested too deeply") }
            if !skip(0x2E) { break }
        }
        if peek != 0x5D {
            let text = try fetchName()
            switch text {
            case "HEADER": spec.text = .header
            case "TEXT": spec.text = .text
            case "MIME" where !spec.part.isEmpty: spec.text = .mime
            case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
                try sp()
                try expect(0x28, "(")
                var fields: [String] = []
                while !skip(0x29) {
                    if !fields.isEmpty { try sp() }
                    fields.append(String(decoding: try astring(), as: UTF8.self))
                }
                guard !fields.isEmpty else { throw fail("HEADER.FIELDS needs at least one field name") }
                spec.text = text == "HEADER.FIELDS" ? .headerFields(fields) : .headerFieldsNot(fields)
            default: throw fail("unknown section \(text.prefix(40))")
            }
        }
        try expect(0x5D, "]")
        return spec
    }

    /// section-binary = "[" [section-part] "]"
    mutating func binarySection() throws -> [Int] {
        try expect(0x5B, "[")
        var part: [Int] = []
        while !skip(0x5D) {
            if !part.isEmpty { try expect(0x2E, ".") }
            part.append(Int(try nzNumber()))
            guard part.count <= 32 else { throw fail("section nested too deeply") }
        }
        return part
    }

    /// partial = "<" number "." nz-number ">"
    mutating func partial() throws -> ClosedRange<Int>? {
        guard skip(0x3C) else { return nil }
        let start = try number()
        try expect(0x2E, ".")
        let length = try nzNumber()
        try expect(0x3E, ">")
        return Int(start)...(Int(start) + Int(length) - 1)
    }
}
