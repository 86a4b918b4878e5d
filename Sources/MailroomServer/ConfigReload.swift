import Foundation
import IMAP
import Logging
import MailCore
import Outbound
import SMTP
import SMTPServer
import ServiceLifecycle
import UnixSignals

/// SIGHUP: the configuration file is read again and what can change without a restart is
/// applied at once — the certificate files, SMTP and IMAP limits (timeouts, sizes), trusted
/// networks, routes, relay and retry settings — without dropping a connection.
/// The log says what changed, what needs a restart to apply, or why the old configuration was
/// kept (a file that does not load changes nothing).
final class ConfigReload: Service, Sendable {
    struct Parts: Sendable {
        var smtp: Reloadable<SMTPTunables>?
        var imap: Reloadable<IMAPLimits>?
        var runner: QueueRunner
        var mailTLS: MailTLS
    }

    let file: String
    let parts: Parts
    let logger: Logger
    private let running: Reloadable<ServerConfig>

    init(file: String, running: ServerConfig, parts: Parts, logger: Logger) {
        self.file = file
        self.running = Reloadable(running)
        self.parts = parts
        self.logger = logger
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await cancelWhenGracefulShutdown {
            for await _ in signals { self.reload() }
        }
    }

    /// Reads the file and applies it; returns what the log says.
    @discardableResult
    func reload() -> String {
        let old = running.current
        var new: ServerConfig
        do {
            new = try ServerConfig.load(file: file)
            new.dataDir = old.dataDir  // a --data-dir given at start stays
            try new.validate()
        } catch {
            let text = "configuration reload: kept the running configuration, \(file) does not load: \(error)"
            logger.error("\(text)")
            return text
        }
        var applied: [String] = []
        var restart: [String] = []
        if new.tlsCertFile != old.tlsCertFile || new.tlsKeyFile != old.tlsKeyFile || new.tlsCertFile != nil {
            if let certFile = new.tlsCertFile, let keyFile = new.tlsKeyFile, new.acme == nil {
                do {
                    let chain = try String(contentsOfFile: certFile, encoding: .utf8)
                    if chain != parts.mailTLS.chainPEM {
                        try parts.mailTLS.install(chain: chain, key: try String(contentsOfFile: keyFile, encoding: .utf8), source: "file")
                        applied.append("TLS certificate (\(certFile))")
                    }
                } catch {
                    let text = "configuration reload: kept the running configuration, the certificate does not load: \(error)"
                    logger.error("\(text)")
                    return text
                }
            } else if new.tlsCertFile != old.tlsCertFile {
                restart.append("tls")
            }
        }
        if new.smtpLimits != old.smtpLimits || new.trustedNetworks != old.trustedNetworks {
            parts.smtp?.replace(SMTPTunables(limits: new.smtpLimits, trustedNetworks: new.trustedNetworks))
            applied.append("SMTP limits and trusted networks")
            if new.smtpLimits.maxConnections != old.smtpLimits.maxConnections
                || new.smtpLimits.maxConnectionsPerIP != old.smtpLimits.maxConnectionsPerIP
            {
                restart.append("smtp.max_connections / max_connections_per_ip")
            }
            if new.smtpLimits.maxAuthFailures != old.smtpLimits.maxAuthFailures
                || new.smtpLimits.authBanSeconds != old.smtpLimits.authBanSeconds
            {
                restart.append("smtp.max_auth_failures / auth_ban_seconds")
            }
        }
        if new.imapLimits != old.imapLimits {
            parts.imap?.replace(new.imapLimits)
            applied.append("IMAP limits")
        }
        // The host name (HELO) changes with a restart only, like everything else that names us.
        var outbound = new.outbound
        outbound.hostname = old.hostname
        var oldOutbound = old.outbound
        oldOutbound.hostname = old.hostname
        if outbound != oldOutbound {
            parts.runner.reload(outbound)
            applied.append("routes, relay and queue settings")
        }
        if new.hostname != old.hostname { restart.append("hostname") }
        if new.listeners != old.listeners { restart.append("listeners") }
        // What stays as it started until a restart is remembered as it runs, so that the next
        // reload still says it needs one.
        var kept = new
        (kept.hostname, kept.listeners) = (old.hostname, old.listeners)
        if restart.contains("tls") { (kept.tlsCertFile, kept.tlsKeyFile) = (old.tlsCertFile, old.tlsKeyFile) }
        running.replace(kept)
        var text = "configuration reload: " + (applied.isEmpty ? "nothing to change" : "applied " + applied.joined(separator: ", "))
        if !restart.isEmpty { text += "; restart to apply \(restart.joined(separator: ", "))" }
        logger.notice("\(text)")
        return text
    }
}
