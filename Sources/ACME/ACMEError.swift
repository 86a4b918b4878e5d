/// What went wrong talking to an ACME server, each with what to do about it.
public enum ACMEError: Error, Sendable, CustomStringConvertible {
    /// The server could not be reached, or broke HTTP.
    case unreachable(url: String, reason: String)
    /// The server answered with a problem document (RFC 8555 §6.7).
    case problem(url: String, status: Int, ACMEProblem)
    /// The server sent something that is not what RFC 8555 describes.
    case badResponse(url: String, reason: String)
    /// The CA tried to validate `name` by `challenge` (`http-01`, `tls-alpn-01`) and failed;
    /// `problem` is its explanation.
    case validationFailed(name: String, ACMEProblem?, challenge: String = "http-01")
    /// The server offers no challenge of the configured type (`wanted`) for `name`.
    case noUsableChallenge(name: String, offered: [String], wanted: String = "http-01")
    /// An order or authorization did not settle within the polling bound.
    case timedOut(what: String, seconds: Int)
    /// The order ended `invalid` (for a reason other than a failed validation).
    case orderInvalid(ACMEProblem?)

    public var description: String {
        switch self {
        case .unreachable(let url, let reason):
            return
                "cannot reach the ACME server at \(url): \(reason) — check [acme] directory_url, the network, and [acme] ca_file for a private CA"
        case .problem(let url, let status, let problem):
            return "the ACME server refused \(url) (HTTP \(status)): \(problem)\(Self.advice(problem))"
        case .badResponse(let url, let reason):
            return "the ACME server's answer to \(url) is not valid ACME: \(reason)"
        case .validationFailed(let name, let problem, let challenge):
            return "the CA could not validate \(name): \(problem.map { "\($0)" } ?? "no reason given")"
                + " — for \(challenge), make sure \(name) resolves to this server and "
                + (challenge == "tls-alpn-01"
                    ? "port 443 reaches [listeners] web" : "port 80 reaches [listeners] acme_http")
        case .noUsableChallenge(let name, let offered, let wanted):
            return
                "the ACME server offers no \(wanted) challenge for \(name) (offered: \(offered.joined(separator: ", "))); "
                + "choose another with [acme] challenge (http-01 needs [listeners] acme_http, tls-alpn-01 [listeners] web)"
        case .timedOut(let what, let seconds):
            return "\(what) did not complete within \(seconds) s; it is tried again later"
        case .orderInvalid(let problem):
            return "the ACME server marked the order invalid: \(problem.map { "\($0)" } ?? "no reason given")"
        }
    }

    private static func advice(_ p: ACMEProblem) -> String {
        switch p.shortType {
        case "rateLimited": " — wait before trying again (Mailroom backs off on its own)"
        case "rejectedIdentifier", "unsupportedIdentifier": " — remove that name from [acme] names"
        case "invalidContact", "unsupportedContact": " — fix [acme] email"
        case "caa": " — a CAA record forbids this CA for the name; allow it in DNS"
        default: ""
        }
    }
}
