/// Reads a command's or test's arguments in order: tagged arguments first, then positional
/// ones (RFC 5228 §2.6.2).
struct ArgumentReader {
    let items: [SieveArgument]
    let owner: String
    let location: SieveLocation
    let validator: SieveValidator
    var next = 0

    init(_ items: [SieveArgument], owner: String, location: SieveLocation, validator: SieveValidator) {
        self.items = items
        self.owner = owner
        self.location = location
        self.validator = validator
    }

    var hasMore: Bool { next < items.count }
    var lastLocation: SieveLocation { next > 0 ? items[next - 1].location : location }
    var nextLocation: SieveLocation { next < items.count ? items[next].location : location }

    /// Offers each leading tag to `handle`, which reads the tag's own arguments and returns
    /// false for a tag it does not know.
    mutating func tags(_ handle: (String, inout ArgumentReader) throws(SieveError) -> Bool) throws(SieveError) {
        var seen: Set<String> = []
        while next < items.count, case .tag(let written) = items[next].value {
            let tag = written.lowercased()
            next += 1
            guard try handle(tag, &self) else {
                throw SieveError(.validation, lastLocation, "\(owner) has no tag :\(written)")
            }
            guard seen.insert(tag).inserted else {
                throw SieveError(.validation, lastLocation, "\(owner): the tag :\(written) is given twice")
            }
        }
    }

    func found() -> String {
        guard next < items.count else { return "nothing" }
        switch items[next].value {
        case .tag(let t): return "the tag :\(t)"
        case .number(let n): return "the number \(n)"
        case .string: return "a string"
        case .stringList: return "a string list"
        }
    }

    mutating func string(_ what: String) throws(SieveError) -> String {
        if next < items.count {
            switch items[next].value {
            case .string(let s):
                next += 1
                return validator.decode(s)
            case .stringList(let l) where l.count == 1:
                next += 1
                return validator.decode(l[0])
            default: break
            }
        }
        throw SieveError(.validation, nextLocation, "\(owner) expects a string (\(what)) here, found \(found())")
    }

    mutating func stringList(_ what: String) throws(SieveError) -> [String] {
        if next < items.count {
            switch items[next].value {
            case .string(let s):
                next += 1
                return [validator.decode(s)]
            case .stringList(let l):
                next += 1
                return l.map(validator.decode)
            default: break
            }
        }
        throw SieveError(.validation, nextLocation, "\(owner) expects a string list (\(what)) here, found \(found())")
    }

    mutating func number(_ what: String) throws(SieveError) -> Int64 {
        if next < items.count, case .number(let n) = items[next].value {
            next += 1
            return n
        }
        throw SieveError(.validation, nextLocation, "\(owner) expects a number (\(what)) here, found \(found())")
    }

    func end() throws(SieveError) {
        guard next < items.count else { return }
        throw SieveError(
            .validation, items[next].location, "\(owner) has too many arguments: \(found()) is not expected here")
    }
}
