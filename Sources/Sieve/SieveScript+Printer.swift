extension SieveScript: CustomStringConvertible {
    /// The script as Sieve text that parses back to an equal `SieveScript`: four-space
    /// indentation, every string quoted (`"` and `\` escaped, line breaks kept as they are).
    public var description: String {
        var out = ""
        for c in commands { c.print(into: &out, indent: 0) }
        return out
    }
}

extension SieveCommand {
    func print(into out: inout String, indent: Int) {
        out += String(repeating: " ", count: indent * 4) + identifier
        for a in arguments { out += " " + a.description }
        if let tests { out += " " + tests.description }
        if let block {
            out += " {\n"
            for c in block { c.print(into: &out, indent: indent + 1) }
            out += String(repeating: " ", count: indent * 4) + "}\n"
        } else {
            out += ";\n"
        }
    }
}

extension SieveTests: CustomStringConvertible {
    public var description: String {
        switch self {
        case .single(let t): t.description
        case .list(let ts): "(" + ts.map(\.description).joined(separator: ", ") + ")"
        }
    }
}

extension SieveTest: CustomStringConvertible {
    public var description: String {
        var out = identifier
        for a in arguments { out += " " + a.description }
        if let tests { out += " " + tests.description }
        return out
    }
}

extension SieveArgument: CustomStringConvertible {
    public var description: String {
        switch value {
        case .tag(let t): ":" + t
        case .number(let n): String(n)
        case .string(let s): Self.quoted(s)
        case .stringList(let l): "[" + l.map(Self.quoted).joined(separator: ", ") + "]"
        }
    }

    /// A quoted-string (RFC 5228 §2.4.2) holding exactly `s`.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            if c == "\"" || c == "\\" { out += "\\" }
            out.unicodeScalars.append(c)
        }
        return out + "\""
    }
}
