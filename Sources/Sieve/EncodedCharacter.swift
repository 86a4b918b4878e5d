extension SieveValidator {
    /// RFC 5228 §2.4.2.4: `${hex: 41 42}` and `${unicode: 263A}` become the characters they
    /// name, when encoded-character is required; a malformed sequence stays as written.
    func decode(_ s: String) -> String {
        guard extensions.contains(.encodedCharacter), s.contains("${") else { return s }
        return EncodedCharacter.decode(s)
    }
}

enum EncodedCharacter {
    static func decode(_ s: String) -> String {
        let u = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < u.count {
            if u[i] == "$", i + 1 < u.count, u[i + 1] == "{", let (decoded, end) = sequence(u, i + 2) {
                out.append(contentsOf: decoded)
                i = end
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(out)
    }

    // encoded-arb-octets   = "${hex:" hex-pair-seq "}"
    // encoded-unicode-char = "${unicode:" unicode-hex-seq "}"
    static func sequence(_ u: [Unicode.Scalar], _ start: Int) -> ([Unicode.Scalar], Int)? {
        var i = start
        var name = ""
        while i < u.count, u[i] != ":", name.count < 8 {
            name.unicodeScalars.append(u[i])
            i += 1
        }
        guard i < u.count, u[i] == ":" else { return nil }
        let hex = name.lowercased() == "hex"
        guard hex || name.lowercased() == "unicode" else { return nil }
        i += 1
        var values: [UInt32] = []
        while true {
            while i < u.count, u[i] == " " || u[i] == "\t" || u[i] == "\r" || u[i] == "\n" { i += 1 }
            guard i < u.count else { return nil }
            if u[i] == "}" { break }
            var digits = ""
            while i < u.count, u[i].properties.isASCIIHexDigit {
                digits.unicodeScalars.append(u[i])
                i += 1
            }
            guard !digits.isEmpty, let v = UInt32(digits, radix: 16) else { return nil }
            if hex {
                guard digits.count <= 2 else { return nil }  // hex-pair = 1*2HEXDIG
            } else {
                guard digits.count <= 6 else { return nil }
            }
            values.append(v)
            guard i < u.count, u[i] == " " || u[i] == "\t" || u[i] == "}" || u[i] == "\r" || u[i] == "\n" else {
                return nil
            }
        }
        // hex-pair-seq and unicode-hex-seq hold at least one value; "${hex:}" stays as written.
        guard !values.isEmpty else { return nil }
        if hex {
            let bytes = values.map { UInt8($0) }
            return (Array(String(decoding: bytes, as: UTF8.self).unicodeScalars), i + 1)
        }
        var scalars: [Unicode.Scalar] = []
        for v in values {
            // RFC 5228 §2.4.2.4: a value that is not a Unicode scalar makes the script invalid;
            // we leave the sequence as written instead of failing the whole script.
            guard let s = Unicode.Scalar(v) else { return nil }
            scalars.append(s)
        }
        return (scalars, i + 1)
    }
}
