import MailCore
import Storage

/// An admin operation that cannot be done, with the HTTP status the API answers, a stable
/// machine code, and a message that tells the administrator what to do.
public struct AdminError: Error, Hashable, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func invalid(_ code: String, _ message: String) -> AdminError {
        AdminError(status: 400, code: code, message: message)
    }
    public static func notFound(_ code: String, _ message: String) -> AdminError {
        AdminError(status: 404, code: code, message: message)
    }
    public static func conflict(_ code: String, _ message: String) -> AdminError {
        AdminError(status: 409, code: code, message: message)
    }
    public static func forbidden(_ message: String) -> AdminError {
        AdminError(status: 403, code: "forbidden", message: message)
    }
    public static let unauthenticated = AdminError(
        status: 401, code: "unauthenticated",
        message: "a valid admin token is required: pass it as 'Authorization: Bearer TOKEN' "
            + "(the CLI reads it from the data folder, --token or MAILROOM_TOKEN)")

    static func badAddress(_ error: AddressError) -> AdminError {
        .invalid("invalid_address", error.description)
    }

    static func domainMissing(_ domain: DomainName) -> AdminError {
        .notFound(
            "domain_not_found",
            "domain \(domain.unicode) does not exist — add it with `mailroom domain add \(domain.unicode)`")
    }

    public static func from(_ error: StoreError) -> AdminError {
        switch error {
        case .addressTaken: return .conflict("address_taken", error.description + " — choose another address, or remove that one first")
        case .domainTaken: return .conflict("domain_exists", error.description)
        case .conflict: return .conflict("conflict", error.description)
        case .notFound: return .notFound("not_found", error.description)
        case .schemaTooNew, .databaseLocked: return AdminError(status: 500, code: "store_error", message: error.description)
        }
    }
}

/// Who is making an admin change, and what they may touch.
public struct AdminActor: Sendable, Hashable {
    public var name: String
    public var role: TokenRole
    /// For a domain admin, the domains it manages (and their domain aliases).
    public var domains: Set<DomainName>
    public var sourceIP: String?

    public init(name: String, role: TokenRole, domains: Set<DomainName> = [], sourceIP: String? = nil) {
        self.name = name
        self.role = role
        self.domains = domains
        self.sourceIP = sourceIP
    }

    /// The server itself (start-up tasks), with every right.
    public static let system = AdminActor(name: "system", role: .serverAdmin)

    public var isServerAdmin: Bool { role == .serverAdmin }
}
