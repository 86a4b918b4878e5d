import Foundation

/// IMAP ports of a `ServerProcess`.
extension ServerProcess {
    /// A server with IMAP and IMAPS on ephemeral loopback ports (as every test server has).
    static func withIMAP() throws -> ServerProcess { try ServerProcess() }

    /// Starts the server and returns the IMAP and SMTP (MX) ports it bound
    /// (from the start-up lines `  IMAP               127.0.0.1:41234`).
    func startWithIMAP() throws -> (imap: Int, smtp: Int) {
        try start()
        let ports = try waitForPorts(["IMAP", "SMTP (MX)"])
        return (ports[0], ports[1])
    }
}
