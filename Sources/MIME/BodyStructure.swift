/// BODY and BODYSTRUCTURE (RFC 3501 §7.4.2 and §9, RFC 9051 §7.5.2).
///
///     body            = "(" (body-type-1part / body-type-mpart) ")"
///     body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]
///     body-type-basic = media-basic SP body-fields
///     body-type-msg   = media-message SP body-fields SP envelope SP body SP body-fld-lines
///     body-type-text  = media-text SP body-fields SP body-fld-lines
///     body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
///     body-ext-1part  = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]
///     body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
///     body-ext-mpart  = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]
///
///     S: * 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)
///        ("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>"
///        "Compiler diff" "BASE64" 4554 73) "MIXED"))
///
/// Media types, subtypes, encodings and parameter names are sent uppercased, as in the RFC's
/// example; values as given.
struct BodyStructure<Bytes: MIMEBytes> {
    let bytes: Bytes
    let extensible: Bool
    var out: [UInt8] = []

    init(bytes: Bytes, extensible: Bool) {
        self.bytes = bytes
        self.extensible = extensible
        out.reserveCapacity(256)
    }

    mutating func render(_ part: MIMEPart) {
        out.append(ASCII.openParen)
        if part.isMultipart {
            for child in part.children { render(child) }
            space()
            upper(part.subtype)
            if extensible {
                space()
                parameters(part.parameters)
                extensions(part)
            }
        } else {
            upper(part.type)
            space()
            upper(part.subtype)
            space()
            var parameters = part.parameters
            if part.type == "text" && !parameters.contains(where: { $0.name == "charset" }) {
                // RFC 2045 §5.2: text without a charset is US-ASCII; say so, as Dovecot does.
                parameters.insert(MIMEParameter(name: "charset", value: "us-ascii"), at: 0)
            }
            self.parameters(parameters)
            space()
            IMAPString.append(part.id, to: &out)
            space()
            IMAPString.append(part.description, to: &out)
            space()
            upper(part.encoding ?? "7bit")
            space()
            number(part.size)
            if let message = part.message {
                space()
                out += Envelope.render(bytes, header: message.headerRange)
                space()
                render(message)
                space()
                number(part.bodyLines)
            } else if part.type == "text" {
                space()
                number(part.bodyLines)
            }
            if extensible {
                space()
                IMAPString.append(part.md5, to: &out)
                extensions(part)
            }
        }
        out.append(ASCII.closeParen)
    }

    /// `SP body-fld-dsp SP body-fld-lang SP body-fld-loc`
    ///
    ///     body-fld-dsp  = "(" string SP body-fld-param ")" / nil
    ///     body-fld-lang = nstring / "(" string *(SP string) ")"
    private mutating func extensions(_ part: MIMEPart) {
        space()
        if let d = part.disposition {
            out.append(ASCII.openParen)
            upper(d.type)
            space()
            parameters(d.parameters)
            out.append(ASCII.closeParen)
        } else {
            nilAtom()
        }
        space()
        if let languages = part.language, !languages.isEmpty {
            out.append(ASCII.openParen)
            for (n, l) in languages.enumerated() {
                if n > 0 { space() }
                IMAPString.append(l, to: &out)
            }
            out.append(ASCII.closeParen)
        } else {
            nilAtom()
        }
        space()
        IMAPString.append(part.location, to: &out)
    }

    /// `body-fld-param = "(" string SP string *(SP string SP string) ")" / nil`
    ///
    /// A value that came from RFC 2231 and is not plain ASCII is sent re-encoded as
    /// `NAME*` `utf-8''%XX…` so clients that understand RFC 2231 get it exactly.
    private mutating func parameters(_ parameters: [MIMEParameter]) {
        guard !parameters.isEmpty else { return nilAtom() }
        out.append(ASCII.openParen)
        for (n, p) in parameters.enumerated() {
            if n > 0 { space() }
            let ascii = p.value.utf8.allSatisfy { $0 < 128 }
            if p.charset != nil && !ascii {
                IMAPString.append(Array(p.name.uppercased().utf8) + [ASCII.asterisk], to: &out)
                space()
                IMAPString.append(Array("utf-8'\(p.language ?? "")'".utf8) + Self.percentEncoded(p.value), to: &out)
            } else {
                upper(p.name)
                space()
                IMAPString.append(p.value, to: &out)
            }
        }
        out.append(ASCII.closeParen)
    }

    /// RFC 2231 §7 `extended-other-values`: attribute-chars as they are, the rest as %XX.
    static func percentEncoded(_ s: String) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            if b > 32 && b < 127 && FieldCursor.isTokenByte(b) && b != ASCII.asterisk && b != ASCII.apostrophe && b != ASCII.percent {
                out.append(b)
            } else {
                out += [ASCII.percent, hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return out
    }

    private mutating func upper(_ s: String) {
        IMAPString.append(Array(s.utf8).map(ASCII.upper), to: &out)
    }

    private mutating func number(_ n: Int) { out += Array(String(n).utf8) }
    private mutating func space() { out.append(ASCII.space) }
    private mutating func nilAtom() { out += [78, 73, 76] }
}
