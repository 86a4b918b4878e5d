/// The comparator, match type, address part and index tags that many tests share.
struct MatchReader {
    var comparator: Comparator?
    var comparatorAt: SieveLocation?
    var kind: Match.Kind?
    var kindAt: SieveLocation?
    var part: AddressPart?
    var position: Int?
    var last = false
    var lastAt: SieveLocation?

    mutating func read(
        _ tag: String, _ a: inout ArgumentReader, _ v: SieveValidator, index: Bool = false, addressPart: Bool = false
    ) throws(SieveError) -> Bool {
        let at = a.lastLocation
        switch tag {
        case "comparator":
            guard comparator == nil else { throw v.error(at, "only one :comparator may be given") }
            let name = try a.string("the comparator name")
            guard let c = Comparator(rawValue: name.lowercased()) else {
                throw v.error(
                    at, "the comparator \"\(name)\" is not supported (i;octet, i;ascii-casemap, i;ascii-numeric)")
            }
            if c == .asciiNumeric { try v.need(.comparatorNumeric, "the comparator i;ascii-numeric", at) }
            comparator = c
            comparatorAt = at
        case "is", "contains", "matches", "value", "count":
            guard kind == nil else {
                throw v.error(at, "only one match type (:is, :contains, :matches, :value, :count) may be given")
            }
            switch tag {
            case "is": kind = .is
            case "contains": kind = .contains
            case "matches": kind = .matches
            default:
                try v.need(.relational, ":\(tag)", at)
                let relationAt = a.nextLocation
                let r = try a.string("the relational operator")
                guard let relation = Relation(rawValue: r.lowercased()) else {
                    throw v.error(relationAt, "\"\(r)\" is not a relational operator (gt, ge, lt, le, eq, ne)")
                }
                kind = tag == "value" ? .value(relation) : .count(relation)
            }
            kindAt = at
        case "all", "localpart", "domain", "user", "detail":
            guard addressPart else { return false }
            guard part == nil else {
                throw v.error(at, "only one address part (:all, :localpart, :domain, :user, :detail) may be given")
            }
            if tag == "user" || tag == "detail" { try v.need(.subaddress, ":\(tag)", at) }
            part = AddressPart(rawValue: tag)
        case "index" where index:
            try v.need(.index, ":index", at)
            guard position == nil else { throw v.error(at, "only one :index may be given") }
            let n = try a.number("the index")
            guard n >= 1, n <= Int64(Int32.max) else { throw v.error(at, ":index counts from 1") }
            position = Int(n)
        case "last" where index:
            try v.need(.index, ":last", at)
            last = true
            lastAt = at
        default:
            return false
        }
        return true
    }

    func match(_ a: ArgumentReader) throws(SieveError) -> Match {
        let m = Match(kind: kind ?? .is, comparator: comparator ?? .asciiCasemap)
        if !m.comparator.hasSubstring, m.kind == .contains || m.kind == .matches {
            throw SieveError(
                .validation, kindAt ?? a.location,
                "the comparator i;ascii-numeric cannot be used with :contains or :matches")
        }
        return m
    }

    func index(_ a: ArgumentReader) throws(SieveError) -> HeaderIndex? {
        if last && position == nil {
            throw SieveError(.validation, lastAt ?? a.location, ":last needs :index: :index 1 :last")
        }
        return position.map { HeaderIndex(position: $0, last: last) }
    }
}
