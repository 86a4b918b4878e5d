import Foundation

/// `POST /api/v1/migrations/imap`: copy accounts' mail from another IMAP server. The server
/// connects to the other server itself and runs the copy as a job; `GET
/// /api/v1/migrations/imap/{id}` reports its progress and, once done, its report.
public struct IMAPMigrationRequest: StrictRequest, Hashable {

    /// One account to copy: the login on the other server, its password (empty with a master
    /// user), and the address of the account here.
    public struct Account: Codable, Sendable, Hashable {
        public var login: String
        public var password: String?
        public var address: String
        public init(login: String, password: String?, address: String) {
            self.login = login
            self.password = password
            self.address = address
        }
    }

    public var host: String
    public var port: Int
    /// `tls` (imaps), `starttls`, or `plain` (loopback only).
    public var security: String
    /// PEM certificates to trust for the other server, instead of the system's.
    public var caFile: String?
    /// Do not verify the other server's certificate.
    public var insecure: Bool?
    public var accounts: [Account]
    /// Dovecot's master user: each account is opened as `login` authorized by this user.
    public var masterUser: String?
    public var masterPassword: String?
    /// `Source/Name=Our/Name` overrides.
    public var map: [String]?
    /// Source folder patterns (`*` any text, `?` one character) not to copy.
    public var exclude: [String]?
    public var dryRun: Bool?
    /// The last pass before a cutover: besides copying what is new and bringing flag changes
    /// and deletions (as every run does), compare every folder with the source and report
    /// whether they match. Absent means false.
    public var final: Bool?
    /// Accounts copied at once (each on its own connection).
    public var parallel: Int?
    public var timeoutSeconds: Int?

    public init(
        host: String, port: Int, security: String, caFile: String? = nil, insecure: Bool? = nil, accounts: [Account],
        masterUser: String? = nil, masterPassword: String? = nil, map: [String]? = nil, exclude: [String]? = nil,
        dryRun: Bool? = nil, final: Bool? = nil, parallel: Int? = nil, timeoutSeconds: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.caFile = caFile
        self.insecure = insecure
        self.accounts = accounts
        self.masterUser = masterUser
        self.masterPassword = masterPassword
        self.map = map
        self.exclude = exclude
        self.dryRun = dryRun
        self.final = final
        self.parallel = parallel
        self.timeoutSeconds = timeoutSeconds
    }
}
