/// Why a piece of text is not a valid address or domain. Each case carries what a person needs to
/// fix the input.
public enum AddressError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case missingAt(String)
    case localPartInvalid(String, reason: String)
    case domainInvalid(String, reason: String)
    case tooLong(String, limit: Int)

    public var description: String {
        switch self {
        case .empty:
            return "the address is empty"
        case .missingAt(let s):
            return "\"\(s)\" is not an email address: it has no @domain part"
        case .localPartInvalid(let s, let reason):
            return "the part before @ in \"\(s)\" is not valid: \(reason)"
        case .domainInvalid(let s, let reason):
            return "\"\(s)\" is not a valid domain name: \(reason)"
        case .tooLong(let s, let limit):
            return "\"\(s.prefix(40))…\" is too long (at most \(limit) octets)"
        }
    }
}
