/// The sans-I/O half of one query/response exchange: does a datagram answer our query, and what
/// does the answer say. The transports feed bytes in; nothing here touches a socket.
enum DNSResponseMatch: Equatable {
    /// Not for us (too short for a header, another ID, not a response): keep waiting. Spoofed
    /// datagrams land here (RFC 5452 §9.1).
    case ignore
    /// Carries our ID but cannot be parsed or names another question.
    case malformed(String)
    case response(DNSMessage)

    /// Checks `bytes` against the query that was sent.
    static func check(_ bytes: [UInt8], against query: DNSMessage) -> DNSResponseMatch {
        guard bytes.count >= 12 else { return .ignore }
        guard UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == query.id, bytes[2] & 0x80 != 0 else { return .ignore }
        let message: DNSMessage
        do {
            message = try DNSMessage(parsing: bytes)
        } catch {
            return .malformed("unparsable answer (\(error))")
        }
        guard message.opcode == query.opcode else { return .malformed("answer with opcode \(message.opcode)") }
        guard let asked = query.questions.first else { preconditionFailure("query without a question") }
        // Servers may leave the question out of some error answers (FORMERR, SERVFAIL, …).
        if message.questions.isEmpty, message.rcode != .noError, message.rcode != .nameError {
            return .response(message)
        }
        guard message.questions.count == 1, let q = message.questions.first,
            q.name.lowercased == asked.name.lowercased, q.type == asked.type, q.qClass == asked.qClass
        else { return .malformed("answer to another question") }
        return .response(message)
    }
}

/// What a (matched, NOERROR or NXDOMAIN) response says about `name`/`type`, following the
/// CNAME chain inside its answer section (RFC 1034 §4.3.2, RFC 2308, RFC 6604).
struct DNSResponseInterpretation: Equatable {
    enum Outcome: Equatable {
        /// Records of the asked type, owned by the chain's last name.
        case records([DNSRecord])
        /// NXDOMAIN for the chain's last name; the negative TTL if the answer allows caching.
        case nameError(negativeTTL: UInt32?)
        /// NODATA for the chain's last name.
        case noData(negativeTTL: UInt32?)
        /// The chain ends at a name the answer says nothing about: ask again for that name.
        case incomplete
        /// Any rcode but NOERROR/NXDOMAIN.
        case failure(DNSResponseCode)
        /// More CNAMEs than ``DNSLimits/maxCNAMEChain`` (or a loop).
        case chainTooLong
    }

    /// CNAME records followed, in order (owner → target).
    var aliases: [DNSRecord] = []
    /// The name the outcome is about: the asked name, or the last CNAME target.
    var finalName: DNSName
    var outcome: Outcome

    /// - Parameter budget: CNAMEs that may still be followed for this lookup.
    init(_ message: DNSMessage, name: DNSName, type: DNSRecordType, budget: Int = DNSLimits.maxCNAMEChain) {
        finalName = name
        outcome = .incomplete
        switch message.rcode {
        case .noError, .nameError: break
        default:
            outcome = .failure(message.rcode)
            return
        }
        let answers = message.answers.filter { $0.rrClass == 1 }
        var owner = name.lowercased
        var seen: Set<DNSName> = [owner]
        while true {
            let matching = answers.filter { $0.type == type && $0.name.lowercased == owner }
            if !matching.isEmpty, message.rcode == .noError {
                outcome = .records(matching)
                return
            }
            guard type != .cname,
                let alias = answers.first(where: { $0.type == .cname && $0.name.lowercased == owner }),
                case .cname(let target) = alias.data
            else { break }
            guard aliases.count < budget, seen.insert(target.lowercased).inserted else {
                outcome = .chainTooLong
                return
            }
            aliases.append(alias)
            finalName = target
            owner = target.lowercased
        }
        let ttl = Self.negativeTTL(message)
        if message.rcode == .nameError {
            outcome = .nameError(negativeTTL: ttl)
        } else if aliases.isEmpty || Self.hasSOA(message) {
            // RFC 2308 §2.2: NODATA is NOERROR with no records of the type; after a CNAME it
            // is only final when the authority section says so (SOA); otherwise ask the target.
            outcome = .noData(negativeTTL: ttl)
        } else {
            outcome = .incomplete
        }
    }

    static func hasSOA(_ m: DNSMessage) -> Bool { m.authority.contains { $0.type == .soa } }

    /// RFC 2308 §5: the smaller of the SOA's TTL and its MINIMUM field, capped; none without a
    /// SOA in the authority section.
    static func negativeTTL(_ m: DNSMessage) -> UInt32? {
        for r in m.authority {
            if case .soa(_, _, _, _, _, _, let minimum) = r.data {
                return min(r.ttl, minimum, DNSLimits.maxNegativeCacheTTL)
            }
        }
        return nil
    }
}
