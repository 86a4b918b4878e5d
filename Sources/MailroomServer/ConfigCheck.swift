import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// `mailroom serve --check-config`: everything the server would refuse at start-up, found
/// without starting it. Binds nothing, takes no lock and writes nothing, so it is safe to run
/// beside the running server before a restart.
public enum ConfigCheck {
    /// What the server would run with, a line each; throws the first problem found.
    public static func run(_ config: ServerConfig) throws -> [String] {
        try config.validate()
        var lines = ["host name        \(config.hostname)"]
        lines.append("data folder      \(config.dataDir)  (\(try dataFolderState(config.dataDir)))")
        if let certFile = config.tlsCertFile, let keyFile = config.tlsKeyFile {
            lines.append("TLS certificate  \(try certificatePair(cert: certFile, key: keyFile, key: "tls"))")
        } else {
            lines.append("TLS certificate  \(config.acme != nil ? "from ACME" : "the data folder's (generated when missing)")")
        }
        if let certFile = config.adminCertFile, let keyFile = config.adminKeyFile {
            lines.append("admin cert       \(try certificatePair(cert: certFile, key: keyFile, key: "admin"))")
        }
        if let caFile = config.acme?.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ConfigError(file: nil, line: nil, message: "acme.ca_file: cannot read \(caFile)")
        }
        if let user = config.user {
            guard getpwnam(user) != nil else {
                throw ConfigError(file: nil, line: nil, message: "security.user: there is no user \(user) on this machine")
            }
            lines.append("runs as          \(user)")
        }
        let l = config.listeners
        for (name, addresses) in [
            ("SMTP (MX)", l.smtp), ("submission", l.submission), ("submissions", l.submissions), ("IMAP", l.imap),
            ("IMAPS", l.imaps), ("admin API", l.admin), ("ACME HTTP-01", l.acmeHTTP),
        ] where !addresses.isEmpty {
            lines.append("\(name.padding(toLength: 17, withPad: " ", startingAt: 0))\(addresses.map(\.description).joined(separator: ", "))")
        }
        if let acme = config.acme {
            switch acme.challenge {
            case .http01:
                lines.append("ACME challenge   http-01, answered on acme_http (the CA connects to port 80)")
            case .tlsALPN01:
                var line = "ACME challenge   tls-alpn-01, answered on web \(l.web.map(\.description).joined(separator: ", "))"
                if !l.web.contains(where: { $0.port == 443 }) {
                    line += " — note: the CA connects to port 443, so forward 443 to it"
                    if l.admin.contains(where: { $0.port == 443 }) {
                        line += " (listeners.admin is on 443, and the admin API does not answer the CA)"
                    }
                }
                lines.append(line)
            }
        }
        return lines
    }

    static func dataFolderState(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "created at start" }
        guard isDirectory.boolValue else {
            throw ConfigError(file: nil, line: nil, message: "data_dir: \(path) is a file, not a folder")
        }
        let dir = DataDirectory(path: path)
        if let pid = dir.runningServerPID() { return "in use by the running server, pid \(pid)" }
        return FileManager.default.fileExists(atPath: dir.databasePath) ? "exists" : "empty"
    }

    /// The pair loads, and the key is the certificate's.
    static func certificatePair(cert: String, key keyFile: String, key table: String) throws -> String {
        func fail(_ message: String) -> ConfigError { ConfigError(file: nil, line: nil, message: "\(table).cert_file/key_file: \(message)") }
        let chain: [Certificate]
        let key: Certificate.PrivateKey
        do {
            let pem = try String(contentsOfFile: cert, encoding: .utf8)
            chain = try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
        } catch { throw fail("cannot read the certificate \(cert): \(error)") }
        do {
            key = try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: keyFile, encoding: .utf8))
        } catch { throw fail("cannot read the private key \(keyFile): \(error)") }
        guard let leaf = chain.first else { throw fail("\(cert) holds no certificate") }
        guard leaf.publicKey == key.publicKey else { throw fail("the key \(keyFile) is not the key of the certificate \(cert)") }
        let days = Int(leaf.notValidAfter.timeIntervalSinceNow / 86400)
        return "\(cert), \(leaf.subject), \(days >= 0 ? "valid \(days) more days" : "EXPIRED \(-days) days ago")"
    }
}
