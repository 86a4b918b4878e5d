import Foundation

/// IMAP listeners for `ServerProcess`: the base configuration opens only SMTP and admin ports.
extension ServerProcess {
    /// A server whose config also opens IMAP and IMAPS on ephemeral loopback ports.
    static func withIMAP() throws -> ServerProcess {
        let s = try ServerProcess()
        let config = """
            hostname = "mail.example.org"
            data_dir = "\(s.dataDir)"

            [listeners]
            admin = ["127.0.0.1:0"]
            smtp = ["127.0.0.1:0"]
            submission = ["127.0.0.1:0"]
            submissions = []
            imap = ["127.0.0.1:0"]
            imaps = ["127.0.0.1:0"]

            [smtp]
            auth_failure_delay_ms = 20

            [security]
            password_iterations = 100000
            """
        try config.write(toFile: s.configPath, atomically: true, encoding: .utf8)
        return s
    }

    /// Starts the server and returns the IMAP and SMTP (MX) ports it bound
    /// (from the start-up lines `  IMAP               127.0.0.1:41234`).
    func startWithIMAP() throws -> (imap: Int, smtp: Int) {
        try start()
        let ports = try waitForPorts(["IMAP", "SMTP (MX)"])
        return (ports[0], ports[1])
    }
}
