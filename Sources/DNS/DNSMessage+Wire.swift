extension DNSMessage {
    /// Encodes the message (names uncompressed).
    public func encoded() throws(DNSError) -> [UInt8] {
        var w = Writer()
        w.u16(id)
        var flags: UInt16 = 0
        if isResponse { flags |= 0x8000 }
        flags |= UInt16(opcode & 0x0F) << 11
        if authoritative { flags |= 0x0400 }
        if truncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        flags |= rcode.value & 0x0F
        w.u16(flags)
        w.u16(UInt16(questions.count))
        w.u16(UInt16(answers.count))
        w.u16(UInt16(authority.count))
        w.u16(UInt16(additional.count + (edns == nil ? 0 : 1)))
        for q in questions {
            w.name(q.name)
            w.u16(q.type.code)
            w.u16(q.qClass)
        }
        for r in answers + authority + additional { try w.record(r) }
        if let edns {
            // OPT: root name, type 41, class = payload size, TTL = ext-rcode|version|DO|Z
            w.bytes([0])
            w.u16(41)
            w.u16(edns.udpPayloadSize)
            w.u32(UInt32((rcode.value >> 4) & 0xFF) << 24 | (edns.dnssecOK ? 0x8000 : 0))
            w.u16(0)
        }
        return w.out
    }

    /// Parses a message. Throws on anything malformed; never reads past the input.
    public init(parsing bytes: [UInt8]) throws(DNSError) {
        var r = Reader(bytes: bytes)
        self.init(id: try r.u16())
        let flags = try r.u16()
        isResponse = flags & 0x8000 != 0
        opcode = UInt8((flags >> 11) & 0x0F)
        authoritative = flags & 0x0400 != 0
        truncated = flags & 0x0200 != 0
        recursionDesired = flags & 0x0100 != 0
        recursionAvailable = flags & 0x0080 != 0
        authenticData = flags & 0x0020 != 0
        checkingDisabled = flags & 0x0010 != 0
        var code = flags & 0x0F
        let counts = (try r.u16(), try r.u16(), try r.u16(), try r.u16())
        // Each question takes at least 5 octets and each record 11: bound the counts by the
        // input before allocating anything.
        guard Int(counts.0) * 5 + (Int(counts.1) + Int(counts.2) + Int(counts.3)) * 11 <= bytes.count else {
            throw .truncatedMessage
        }
        for _ in 0..<counts.0 {
            let name = try r.name()
            questions.append(DNSQuestion(name: name, type: DNSRecordType(try r.u16()), qClass: try r.u16()))
        }
        for _ in 0..<counts.1 { answers.append(try r.record()) }
        for _ in 0..<counts.2 { authority.append(try r.record()) }
        for _ in 0..<counts.3 {
            let rec = try r.record()
            if rec.type == .opt {
                guard edns == nil, rec.name.labels.isEmpty else { throw .badRecord("more than one OPT record, or OPT not at the root") }
                edns = EDNS(udpPayloadSize: rec.rrClass, dnssecOK: rec.ttl & 0x8000 != 0)
                code |= UInt16((rec.ttl >> 24) & 0xFF) << 4
            } else {
                additional.append(rec)
            }
        }
        rcode = DNSResponseCode(code)
        guard r.position == bytes.count else { throw .trailingData }
    }
}

struct Writer {
    var out: [UInt8] = []

    mutating func bytes(_ b: [UInt8]) { out += b }
    mutating func u16(_ v: UInt16) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    mutating func u32(_ v: UInt32) { out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    mutating func name(_ n: DNSName) {
        for l in n.labels { out += [UInt8(l.count)] + l }
        out.append(0)
    }

    mutating func record(_ r: DNSRecord) throws(DNSError) {
        name(r.name)
        u16(r.type.code)
        u16(r.rrClass)
        u32(r.ttl)
        var d = Writer()
        switch r.data {
        case .a(let b), .aaaa(let b), .raw(let b): d.bytes(b)
        case .mx(let pref, let exchange):
            d.u16(pref)
            d.name(exchange)
        case .txt(let strings):
            for s in strings {
                guard s.count <= 255 else { throw .badRecord("TXT string longer than 255 octets") }
                d.bytes([UInt8(s.count)] + s)
            }
        case .cname(let n), .ptr(let n), .ns(let n): d.name(n)
        case .tlsa(let usage, let selector, let matching, let data): d.bytes([usage, selector, matching] + data)
        case .soa(let mname, let rname, let serial, let refresh, let retry, let expire, let minimum):
            d.name(mname)
            d.name(rname)
            for v in [serial, refresh, retry, expire, minimum] { d.u32(v) }
        }
        guard d.out.count <= 0xFFFF else { throw .badRecord("record data longer than 65535 octets") }
        u16(UInt16(d.out.count))
        out += d.out
    }
}

struct Reader {
    let bytes: [UInt8]
    var position = 0

    mutating func u8() throws(DNSError) -> UInt8 {
        guard position < bytes.count else { throw .truncatedMessage }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16() throws(DNSError) -> UInt16 { UInt16(try u8()) << 8 | UInt16(try u8()) }

    mutating func u32() throws(DNSError) -> UInt32 { UInt32(try u16()) << 16 | UInt32(try u16()) }

    mutating func take(_ n: Int) throws(DNSError) -> [UInt8] {
        guard n >= 0, position + n <= bytes.count else { throw .truncatedMessage }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    /// A name at the current position, following compression pointers (RFC 1035 §4.1.4).
    /// Pointers must point strictly backwards, which rules out loops.
    mutating func name() throws(DNSError) -> DNSName {
        var labels: [[UInt8]] = []
        var length = 1
        var cursor = position
        var jumped = false
        var lowestTarget = position
        while true {
            guard cursor < bytes.count else { throw .truncatedMessage }
            let len = Int(bytes[cursor])
            switch len & 0xC0 {
            case 0x00:
                if len == 0 {
                    if !jumped { position = cursor + 1 }
                    return DNSName(labels: labels)
                }
                guard cursor + 1 + len <= bytes.count else { throw .truncatedMessage }
                length += len + 1
                guard length <= DNSName.maxLength else { throw .badName("name longer than 255 octets") }
                labels.append(Array(bytes[(cursor + 1)...(cursor + len)]))
                cursor += len + 1
            case 0xC0:
                guard cursor + 1 < bytes.count else { throw .truncatedMessage }
                let target = (len & 0x3F) << 8 | Int(bytes[cursor + 1])
                guard target < lowestTarget else { throw .badPointer }
                if !jumped { position = cursor + 2 }
                jumped = true
                lowestTarget = target
                cursor = target
            default:
                throw .badName("unknown label type")
            }
        }
    }

    mutating func record() throws(DNSError) -> DNSRecord {
        let name = try name()
        let type = DNSRecordType(try u16())
        let rrClass = try u16()
        let ttl = try u32()
        let rdlength = Int(try u16())
        guard position + rdlength <= bytes.count else { throw .truncatedMessage }
        let end = position + rdlength
        let data: DNSRecordData
        switch type {
        case .a:
            guard rdlength == 4 else { throw .badRecord("A record of \(rdlength) octets") }
            data = .a(try take(4))
        case .aaaa:
            guard rdlength == 16 else { throw .badRecord("AAAA record of \(rdlength) octets") }
            data = .aaaa(try take(16))
        case .mx:
            data = .mx(preference: try u16(), exchange: try self.name())
        case .cname: data = .cname(try self.name())
        case .ptr: data = .ptr(try self.name())
        case .ns: data = .ns(try self.name())
        case .txt:
            var strings: [[UInt8]] = []
            while position < end { strings.append(try take(Int(try u8()))) }
            data = .txt(strings)
        case .tlsa:
            guard rdlength >= 3 else { throw .badRecord("TLSA record too short") }
            data = .tlsa(usage: try u8(), selector: try u8(), matchingType: try u8(), data: try take(rdlength - 3))
        case .soa:
            data = .soa(
                mname: try self.name(), rname: try self.name(), serial: try u32(), refresh: try u32(), retry: try u32(),
                expire: try u32(), minimum: try u32())
        default:
            data = .raw(try take(rdlength))
        }
        guard position == end else { throw .badRecord("record data length does not match its contents") }
        return DNSRecord(name: name, type: type, rrClass: rrClass, ttl: ttl, data: data)
    }
}
