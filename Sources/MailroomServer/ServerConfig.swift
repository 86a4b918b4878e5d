import AdminAPI
import DNS
import Directory
import EmailAuth
import Foundation
import IMAP
import LoginKit
import MailCore
import Outbound
import SMTP
import SMTPServer
import Filtering
import TOMLKit
import Webhooks

/// A `host:port` to listen on. IPv6 hosts are written in brackets: `[::1]:8080`.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Loopback addresses only: 127.0.0.0/8, ::1, localhost.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// Mailroom's configuration: defaults, overridden by `mailroom.toml`, overridden by flags.
/// docs/configuration.md documents every key.
public struct ServerConfig: Sendable {
    public struct Listeners: Hashable, Sendable {
        public var admin = [ListenAddress(host: "127.0.0.1", port: 8080)]
        public var smtp = [ListenAddress(host: "127.0.0.1", port: 2525)]
        public var submission = [ListenAddress(host: "127.0.0.1", port: 2587)]
        public var submissions = [ListenAddress(host: "127.0.0.1", port: 2465)]
        public var imap = [ListenAddress(host: "127.0.0.1", port: 2143)]
        public var imaps = [ListenAddress(host: "127.0.0.1", port: 2993)]
        /// ManageSieve (RFC 5804): users manage their Sieve scripts; STARTTLS on the port.
        public var managesieve = [ListenAddress(host: "127.0.0.1", port: 4190)]
        /// ACME HTTP-01 answers (`/.well-known/acme-challenge/`); none by default.
        public var acmeHTTP: [ListenAddress] = []
        /// HTTPS for MTA-STS policies and client autoconfiguration; none by default.
        public var web: [ListenAddress] = []
    }

    public enum LogFormat: String, Sendable { case text, json }

    public var hostname: String = ServerConfig.systemHostname()
    public var dataDir: String = "./mailroom-data"
    public var listeners = Listeners()
    /// Certificate and key (PEM) for every TLS listener; nil = the generated self-signed one.
    public var tlsCertFile: String?
    public var tlsKeyFile: String?
    /// Serve the admin API over HTTPS.
    public var adminTLS = false
    public var adminCertFile: String?
    public var adminKeyFile: String?
    public var logLevel = "info"
    public var logFormat = LogFormat.text
    /// PBKDF2 rounds for new password hashes.
    public var passwordIterations = 210_000
    /// `[security] user`: started as root, the server runs as this user (see ``Privileges``).
    public var user: String?
    /// SMTP limits (message size, recipients, timeouts, connections).
    public var smtpLimits = SMTPLimits()
    /// IMAP limits (line and literal sizes, timeouts, connections).
    public var imapLimits = IMAPLimits()
    /// `[imap] max_mime_depth`: MIME nesting parsed (and shown in BODYSTRUCTURE) before parts
    /// become opaque.
    public var mimeMaxDepth = 64
    /// Loopback clients may log in without TLS (client and server address both loopback).
    public var plaintextAuthOnLoopback = true
    /// Delay before answering a failed login, in milliseconds.
    public var authFailureDelayMilliseconds = 1000
    /// `[smtp] trusted_networks`: clients that may relay without AUTH.
    public var trustedNetworks: [IPNetwork] = []
    /// `[smtp|imap] connection_limit_exceptions`: clients not held to `max_connections_per_ip`
    /// (loopback by default; for SMTP, trusted networks are exempt too).
    public var smtpConnectionLimitExceptions: [IPNetwork] = IPNetwork.loopback
    public var imapConnectionLimitExceptions: [IPNetwork] = IPNetwork.loopback
    /// `[routes]`, `[relay]` and `[queue]`: how outbound mail leaves (hostname is filled in at start).
    public var outbound = OutboundSettings(hostname: "")
    /// `[dns] servers`: resolvers to ask instead of those in /etc/resolv.conf.
    public var dnsServers: [DNSServerAddress]?
    public var dnsTimeoutMilliseconds = 3000
    /// `[storage] sweep_interval`: seconds between sweeps of unreferenced message bytes; 0 turns
    /// the timer off (`mailroom storage sweep` still works).
    public var sweepInterval: TimeInterval = 3600
    /// `[inbound]`: SPF, DKIM and DMARC on mail from outside.
    public var inbound = InboundSettings()
    /// `[quarantine] keep`: how long quarantined messages are kept before they expire.
    public var quarantineKeep: TimeInterval = 30 * 86400
    /// The file this configuration was read from (SIGHUP reads it again); nil for the defaults.
    public var file: String?
    /// `[spam] junk_learning`: each account's classifier learns from its IMAP moves and judges
    /// its mail (the default), or neither.
    public var junkLearning = true
    /// `[backup]`: scheduled backups; nil = none (`mailroom backup create` still works).
    public var backup: BackupSettings?
    /// `[alerts]`: the server's own checks of what the Prometheus rules alert on.
    public var alerts = AlertSettings()
    /// `[console]`: the web console's sessions and who must use a second factor.
    public var console = ConsoleSettings()
    /// `[webhooks]`: how failed webhook deliveries are retried.
    public var webhooks = WebhookSettings()
    /// `[acme]`: certificates from an ACME CA; nil = the configured or generated certificate.
    public var acme: ACMESettings?
    /// `[web] mta_sts_max_age`: how long senders may cache the MTA-STS policies, in seconds.
    public var mtaSTSMaxAge = MTASTSPolicy.defaultMaxAge

    public init() {}

    static func systemHostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
        let name = String(cString: buf)
        return name.isEmpty ? "localhost" : name
    }

    /// Reads a config file; every unknown key and bad value is an error naming the key and line.
    public static func load(file path: String) throws -> ServerConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, line: nil, message: "cannot read the file: \(error.localizedDescription)")
        }
        var config = try parse(text, file: path)
        config.file = path
        return config
    }

    public static func parse(_ text: String, file: String) throws -> ServerConfig {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ConfigError(file: file, line: e.source.begin.line, message: e.description)
        }
        var config = ServerConfig()
        let reader = ConfigReader(text: text, file: file)
        try reader.checkKeys(table, allowed: [
                "hostname", "data_dir", "listeners", "tls", "admin", "log", "security", "smtp", "imap", "routes", "relay", "queue", "dns", "storage",
                "inbound", "spam", "antivirus", "quarantine", "acme", "alerts", "web", "backup", "console", "webhooks",
            ], path: "")
        if let v = table["hostname"] {
            let h = try reader.string(v, "hostname")
            guard (try? DomainName(h)) != nil || h == "localhost" else {
                throw reader.error("hostname", "\"\(h)\" is not a host name; write the server's fully qualified name, like mail.example.org")
            }
            config.hostname = h
        }
        if let v = table["data_dir"] { config.dataDir = try reader.string(v, "data_dir") }
        if let v = table["listeners"] {
            let t = try reader.table(v, "listeners")
            try reader.checkKeys(
                t, allowed: ["admin", "smtp", "submission", "submissions", "imap", "imaps", "managesieve", "acme_http", "web"],
                path: "listeners")
            func listen(_ key: String) throws -> [ListenAddress]? {
                guard let v = t[key] else { return nil }
                return try reader.addresses(v, "listeners.\(key)")
            }
            if let a = try listen("admin") { config.listeners.admin = a }
            if let a = try listen("smtp") { config.listeners.smtp = a }
            if let a = try listen("submission") { config.listeners.submission = a }
            if let a = try listen("submissions") { config.listeners.submissions = a }
            if let a = try listen("imap") { config.listeners.imap = a }
            if let a = try listen("imaps") { config.listeners.imaps = a }
            if let a = try listen("managesieve") { config.listeners.managesieve = a }
            if let a = try listen("acme_http") { config.listeners.acmeHTTP = a }
            if let a = try listen("web") { config.listeners.web = a }
        }
        if let v = table["web"] {
            let t = try reader.table(v, "web")
            try reader.checkKeys(t, allowed: ["mta_sts_max_age"], path: "web")
            if let d = t["mta_sts_max_age"] {
                let seconds = try reader.duration(d, "web.mta_sts_max_age")
                // RFC 8461 §3.2: at most a year; a day at least, or senders refetch all the time.
                guard seconds >= 86400, seconds <= Double(MTASTSPolicy.maxMaxAge) else {
                    throw reader.error("web.mta_sts_max_age", "must be from \"1d\" to \"365d\" (31557600 seconds), like \"7d\"")
                }
                config.mtaSTSMaxAge = Int(seconds)
            }
        }
        if let v = table["tls"] {
            let t = try reader.table(v, "tls")
            try reader.checkKeys(t, allowed: ["cert_file", "key_file"], path: "tls")
            config.tlsCertFile = try t["cert_file"].map { try reader.string($0, "tls.cert_file") }
            config.tlsKeyFile = try t["key_file"].map { try reader.string($0, "tls.key_file") }
            if (config.tlsCertFile == nil) != (config.tlsKeyFile == nil) {
                throw reader.error(config.tlsCertFile == nil ? "tls.key_file" : "tls.cert_file", "give both tls.cert_file and tls.key_file, or neither")
            }
        }
        if let v = table["admin"] {
            let t = try reader.table(v, "admin")
            try reader.checkKeys(t, allowed: ["tls", "cert_file", "key_file"], path: "admin")
            if let b = t["tls"] { config.adminTLS = try reader.bool(b, "admin.tls") }
            config.adminCertFile = try t["cert_file"].map { try reader.string($0, "admin.cert_file") }
            config.adminKeyFile = try t["key_file"].map { try reader.string($0, "admin.key_file") }
            if (config.adminCertFile == nil) != (config.adminKeyFile == nil) {
                throw reader.error(config.adminCertFile == nil ? "admin.key_file" : "admin.cert_file", "give both admin.cert_file and admin.key_file, or neither")
            }
            if config.adminCertFile != nil {
                if t["tls"] != nil && !config.adminTLS {
                    throw reader.error("admin.tls", "admin.tls is false but admin.cert_file is set; remove one of them")
                }
                config.adminTLS = true
            }
        }
        if let v = table["log"] {
            let t = try reader.table(v, "log")
            try reader.checkKeys(t, allowed: ["level", "format"], path: "log")
            if let l = t["level"] {
                let level = try reader.string(l, "log.level")
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                guard levels.contains(level) else { throw reader.error("log.level", "must be one of \(levels.joined(separator: ", "))") }
                config.logLevel = level
            }
            if let f = t["format"] {
                let s = try reader.string(f, "log.format")
                guard let format = LogFormat(rawValue: s) else { throw reader.error("log.format", "must be text or json") }
                config.logFormat = format
            }
        }
        if let v = table["smtp"] {
            let t = try reader.table(v, "smtp")
            try reader.checkKeys(
                t,
                allowed: [
                    "max_message_size", "max_recipients", "max_errors", "command_timeout", "data_timeout", "max_connections",
                    "max_connections_per_ip", "max_auth_failures", "auth_ban_seconds", "auth_failure_delay_ms",
                    "plaintext_auth_on_loopback", "trusted_networks", "connection_limit_exceptions",
                ], path: "smtp")
            func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? { try reader.int(in: t, "smtp", key, range) }
            if let v = t["max_message_size"] {
                let text = v.string ?? v.int.map(String.init) ?? ""
                guard let n = ByteSize.parse(text), n >= 1024, n <= 2 << 30 else {
                    throw reader.error("smtp.max_message_size", "must be a size from 1K to 2G, like \"50M\"")
                }
                config.smtpLimits.maxMessageSize = Int(n)
            }
            if let n = try int("max_recipients", 1...100_000) { config.smtpLimits.maxRecipients = n }
            if let n = try int("max_errors", 1...1000) { config.smtpLimits.maxErrors = n }
            if let n = try int("command_timeout", 1...3600) { config.smtpLimits.commandTimeoutSeconds = n }
            if let n = try int("data_timeout", 1...7200) { config.smtpLimits.dataTimeoutSeconds = n }
            if let n = try int("max_connections", 1...1_000_000) { config.smtpLimits.maxConnections = n }
            if let n = try int("max_connections_per_ip", 1...100_000) { config.smtpLimits.maxConnectionsPerIP = n }
            if let n = try int("max_auth_failures", 1...1000) { config.smtpLimits.maxAuthFailures = n }
            if let n = try int("auth_ban_seconds", 0...86400 * 7) { config.smtpLimits.authBanSeconds = n }
            if let n = try int("auth_failure_delay_ms", 0...60_000) { config.authFailureDelayMilliseconds = n }
            if let b = t["plaintext_auth_on_loopback"] { config.plaintextAuthOnLoopback = try reader.bool(b, "smtp.plaintext_auth_on_loopback") }
            if let v = t["trusted_networks"] { config.trustedNetworks = try reader.networks(v, "smtp.trusted_networks") }
            if let v = t["connection_limit_exceptions"] {
                config.smtpConnectionLimitExceptions = try reader.networks(v, "smtp.connection_limit_exceptions")
            }
        }
        if let v = table["inbound"] {
            let t = try reader.table(v, "inbound")
            try reader.checkKeys(
                t, allowed: ["spf", "dkim", "dmarc", "dmarc_reject", "protect_own_domains", "dnsbl", "arc_trusted_sealers"], path: "inbound")
            if let v = t["arc_trusted_sealers"] {
                config.inbound.arcTrustedSealers = try reader.strings(v, "inbound.arc_trusted_sealers", example: "[\"lists.example.net\"]").map {
                    guard let d = try? DomainName($0) else { throw reader.error("inbound.arc_trusted_sealers", "\"\($0)\" is not a domain") }
                    return d.ascii
                }
            }
            if let v = t["dnsbl"] {
                config.inbound.dnsbl = try reader.strings(v, "inbound.dnsbl", example: "[\"zen.spamhaus.org\"]").map { zone in
                    guard (try? DomainName(zone)) != nil else { throw reader.error("inbound.dnsbl", "\"\(zone)\" is not a DNS zone") }
                    return zone.lowercased()
                }
            }
            func flag(_ key: String, _ set: (inout InboundSettings, Bool) -> Void) throws {
                if let b = t[key] { set(&config.inbound, try reader.bool(b, "inbound.\(key)")) }
            }
            try flag("spf") { $0.spf = $1 }
            try flag("dkim") { $0.dkim = $1 }
            try flag("dmarc") { $0.dmarc = $1 }
            try flag("dmarc_reject") { $0.dmarcReject = $1 }
            try flag("protect_own_domains") { $0.protectOwnDomains = $1 }
        }
        if let v = table["spam"] {
            let t = try reader.table(v, "spam")
            try reader.checkKeys(
                t, allowed: ["rspamd_url", "junk_score", "quarantine_score", "reject_score", "domains", "junk_learning"], path: "spam")
            if let v = t["junk_learning"] { config.junkLearning = try reader.bool(v, "spam.junk_learning") }
            if let v = t["rspamd_url"] {
                let url = try reader.string(v, "spam.rspamd_url")
                guard let r = Rspamd(url: url) else { throw reader.error("spam.rspamd_url", "must be an http:// URL, like \"http://127.0.0.1:11333\"") }
                config.inbound.rspamd = r
            }
            config.inbound.thresholds = try reader.thresholds(t, "spam", base: config.inbound.thresholds)
            if let v = t["domains"] {
                let domains = try reader.table(v, "spam.domains")
                for key in domains.keys {
                    guard (try? DomainName(key)) != nil, let value = domains[key] else { throw reader.error("spam.domains", "\"\(key)\" is not a domain") }
                    let d = try reader.table(value, "spam.domains.\(key)")
                    config.inbound.domainThresholds[key.lowercased()] = try reader.thresholds(d, "spam.domains.\(key)", base: config.inbound.thresholds)
                }
            }
        }
        if let v = table["backup"] {
            let t = try reader.table(v, "backup")
            try reader.checkKeys(t, allowed: ["dir", "interval", "keep"], path: "backup")
            guard let d = t["dir"] else { throw reader.error("backup", "give backup.dir, the folder scheduled backups go to") }
            let dir = try reader.string(d, "backup.dir")
            guard dir.hasPrefix("/") else { throw reader.error("backup.dir", "must be an absolute path") }
            var settings = BackupSettings(dir: dir)
            if let i = t["interval"] {
                settings.interval = try reader.duration(i, "backup.interval")
                guard settings.interval >= 1 else { throw reader.error("backup.interval", "must be at least \"1s\"") }
            }
            if let k = t["keep"] {
                settings.keep = try reader.int(k, "backup.keep")
                guard settings.keep >= 1 else { throw reader.error("backup.keep", "must be at least 1") }
            }
            config.backup = settings
        }
        if let v = table["alerts"] {
            let t = try reader.table(v, "alerts")
            try reader.checkKeys(t, allowed: ["email", "interval", "repeat"], path: "alerts")
            if let e = t["email"] {
                let text = try reader.string(e, "alerts.email")
                guard (try? EmailAddress(text)) != nil else { throw reader.error("alerts.email", "\"\(text)\" is not an e-mail address") }
                config.alerts.email = text
            }
            if let i = t["interval"] {
                config.alerts.interval = try reader.duration(i, "alerts.interval")
                guard config.alerts.interval >= 1 else { throw reader.error("alerts.interval", "must be at least \"1s\"") }
            }
            if let r = t["repeat"] { config.alerts.repeatAfter = try reader.duration(r, "alerts.repeat") }
        }
        if let v = table["webhooks"] {
            let t = try reader.table(v, "webhooks")
            try reader.checkKeys(t, allowed: ["retry_base", "max_attempts"], path: "webhooks")
            if let v = t["retry_base"] {
                config.webhooks.retryBase = try reader.duration(v, "webhooks.retry_base")
                guard config.webhooks.retryBase >= 1 else { throw reader.error("webhooks.retry_base", "must be at least \"1s\"") }
            }
            if let v = t["max_attempts"] {
                config.webhooks.maxAttempts = try reader.int(v, "webhooks.max_attempts")
                guard (1...100).contains(config.webhooks.maxAttempts) else { throw reader.error("webhooks.max_attempts", "must be 1 to 100") }
            }
        }
        if let v = table["console"] {
            let t = try reader.table(v, "console")
            try reader.checkKeys(t, allowed: ["require_totp", "idle_timeout", "absolute_timeout"], path: "console")
            if let v = t["require_totp"] {
                let roles = try reader.strings(v, "console.require_totp", example: #"["server-admin", "domain-admin"]"#)
                if let bad = roles.first(where: { !["server-admin", "domain-admin", "user"].contains($0) }) {
                    throw reader.error("console.require_totp", "\"\(bad)\" is not a role; the roles are server-admin, domain-admin and user")
                }
                config.console.requireTOTP = Set(roles)
            }
            if let v = t["idle_timeout"] {
                config.console.idleTimeout = try reader.duration(v, "console.idle_timeout")
                guard config.console.idleTimeout >= 60 else { throw reader.error("console.idle_timeout", "must be at least \"1m\"") }
            }
            if let v = t["absolute_timeout"] {
                config.console.absoluteTimeout = try reader.duration(v, "console.absolute_timeout")
                guard config.console.absoluteTimeout >= config.console.idleTimeout else {
                    throw reader.error("console.absolute_timeout", "must be at least console.idle_timeout")
                }
            }
        }
        if let v = table["quarantine"] {
            let t = try reader.table(v, "quarantine")
            try reader.checkKeys(t, allowed: ["keep"], path: "quarantine")
            if let v = t["keep"] {
                config.quarantineKeep = try reader.duration(v, "quarantine.keep")
                guard config.quarantineKeep >= 3600 else { throw reader.error("quarantine.keep", "must be at least \"1h\"") }
            }
        }
        if let v = table["antivirus"] {
            let t = try reader.table(v, "antivirus")
            try reader.checkKeys(t, allowed: ["clamd"], path: "antivirus")
            if let v = t["clamd"] {
                let text = try reader.string(v, "antivirus.clamd")
                guard let address = Clamd.Address(text) else {
                    throw reader.error("antivirus.clamd", "must be \"unix:/run/clamav/clamd.ctl\" or \"127.0.0.1:3310\"")
                }
                config.inbound.clamd = Clamd(address: address)
            }
        }
        if let v = table["imap"] {
            let t = try reader.table(v, "imap")
            try reader.checkKeys(
                t,
                allowed: [
                    "max_line_length", "max_literal_size", "max_append_size", "max_search_depth", "max_mime_depth", "max_bad_commands", "idle_timeout",
                    "login_timeout", "max_connections", "max_connections_per_ip", "max_connections_per_user",
                    "connection_limit_exceptions",
                ], path: "imap")
            func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? { try reader.int(in: t, "imap", key, range) }
            func size(_ key: String, _ range: ClosedRange<Int64>, _ example: String) throws -> Int? {
                guard let v = t[key] else { return nil }
                let text = v.string ?? v.int.map(String.init) ?? ""
                guard let n = ByteSize.parse(text), range.contains(n) else {
                    throw reader.error("imap.\(key)", "must be a size from \(range.lowerBound) to \(range.upperBound) bytes, like \"\(example)\"")
                }
                return Int(n)
            }
            if let n = try size("max_line_length", 1024...(16 << 20), "64K") { config.imapLimits.maxLineLength = n }
            if let n = try size("max_literal_size", 1024...(16 << 20), "64K") { config.imapLimits.maxLiteralSize = n }
            if let n = try size("max_append_size", 1024...(2 << 30), "50M") { config.imapLimits.maxAppendSize = n }
            if let n = try int("max_search_depth", 1...1000) { config.imapLimits.maxSearchDepth = n }
            if let n = try int("max_mime_depth", 1...1000) { config.mimeMaxDepth = n }
            if let n = try int("max_bad_commands", 1...1000) { config.imapLimits.maxBadCommands = n }
            // RFC 9051 §5.4: an autologout timer must be at least 30 minutes.
            if let n = try int("idle_timeout", 1800...86400) { config.imapLimits.idleTimeoutSeconds = n }
            if let n = try int("login_timeout", 1...3600) { config.imapLimits.loginTimeoutSeconds = n }
            if let n = try int("max_connections", 1...1_000_000) { config.imapLimits.maxConnections = n }
            if let n = try int("max_connections_per_ip", 1...100_000) { config.imapLimits.maxConnectionsPerIP = n }
            if let n = try int("max_connections_per_user", 1...10_000) { config.imapLimits.maxConnectionsPerUser = n }
            if let v = t["connection_limit_exceptions"] {
                config.imapConnectionLimitExceptions = try reader.networks(v, "imap.connection_limit_exceptions")
            }
        }
        try Self.parseOutbound(table, reader, &config)
        try Self.parseACME(table, reader, &config)
        if let v = table["storage"] {
            let t = try reader.table(v, "storage")
            try reader.checkKeys(t, allowed: ["sweep_interval"], path: "storage")
            if let d = t["sweep_interval"] { config.sweepInterval = try reader.duration(d, "storage.sweep_interval") }
        }
        if let v = table["security"] {
            let t = try reader.table(v, "security")
            try reader.checkKeys(t, allowed: ["password_iterations", "user"], path: "security")
            if let u = t["user"] {
                let name = try reader.string(u, "security.user")
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                    throw reader.error("security.user", "\"\(name)\" is not a user name")
                }
                config.user = name
            }
            if let i = t["password_iterations"] {
                let n = try reader.int(i, "security.password_iterations")
                guard n >= 100_000 && n <= 10_000_000 else {
                    throw reader.error("security.password_iterations", "must be between 100000 and 10000000")
                }
                config.passwordIterations = n
            }
        }
        return config
    }

    /// Checks that need the whole config: a non-loopback admin listener must use TLS, so that
    /// an admin token never crosses a network in clear.
    public func validate() throws {
        if !adminTLS, let open = listeners.admin.first(where: { !$0.isLoopback }) {
            throw ConfigError(
                file: nil, line: nil,
                message: "the admin listener \(open) is not on loopback but has no TLS: admin tokens would cross the "
                    + "network in clear. Set `tls = true` (or cert_file/key_file) under [admin], or listen on 127.0.0.1")
        }
        guard !listeners.admin.isEmpty else {
            throw ConfigError(file: nil, line: nil, message: "listeners.admin is empty: the CLI needs the admin API")
        }
        try validateACME()
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var message: String

    public var description: String {
        switch (file, line) {
        case (let f?, let l?): return "\(f):\(l): \(message)"
        case (let f?, nil): return "\(f): \(message)"
        default: return message
        }
    }
}

/// Reads typed values and finds the line a key is on (TOMLKit keeps no positions).
struct ConfigReader {
    let lines: [Substring]
    let file: String

    init(text: String, file: String) {
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        self.file = file
    }

    /// The 1-based line of `dotted` (`listeners.admin`): the key inside its `[table]`, or an
    /// inline `listeners = {…}`/top-level key.
    func line(of dotted: String) -> Int? {
        let parts = dotted.split(separator: ".").map(String.init)
        guard let key = parts.last else { return nil }
        let table = parts.dropLast().joined(separator: ".")
        var current = ""
        for (i, raw) in lines.enumerated() {
            let l = raw.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix("[") && !l.hasPrefix("[[") {
                current = l.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).replacingOccurrences(of: "\"", with: "")
                if current == dotted { return i + 1 }
                continue
            }
            let bare = l.replacingOccurrences(of: "\"", with: "")
            if current == table, bare.hasPrefix(key) {
                let rest = bare.dropFirst(key.count).trimmingCharacters(in: .whitespaces)
                if rest.hasPrefix("=") { return i + 1 }
            }
        }
        return nil
    }

    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: line(of: key), message: "\(key): \(message)")
    }

    func checkKeys(_ table: TOMLTable, allowed: Set<String>, path: String) throws {
        for key in table.keys where !allowed.contains(key) {
            let full = path.isEmpty ? key : "\(path).\(key)"
            throw ConfigError(
                file: file, line: line(of: full),
                message: "unknown key \"\(full)\"; \(path.isEmpty ? "top-level keys" : "keys in [\(path)]") are "
                    + allowed.sorted().joined(separator: ", "))
        }
    }

    func string(_ v: any TOMLValueConvertible, _ key: String) throws -> String {
        guard let s = v.string else { throw error(key, "must be a string in quotes, not \(v.type)") }
        return s
    }

    func bool(_ v: any TOMLValueConvertible, _ key: String) throws -> Bool {
        guard let b = v.bool else { throw error(key, "must be true or false, not \(v.type)") }
        return b
    }

    func int(_ v: any TOMLValueConvertible, _ key: String) throws -> Int {
        guard let i = v.int else { throw error(key, "must be a whole number, not \(v.type)") }
        return i
    }

    func strings(_ v: any TOMLValueConvertible, _ key: String, example: String) throws -> [String] {
        guard let array = v.array else { throw error(key, "must be a list of strings, like \(example)") }
        return try array.map { item in
            guard let s = item.string else { throw error(key, "must be a list of strings, like \(example)") }
            return s
        }
    }

    /// A list of networks: addresses or address/prefix.
    func networks(_ v: any TOMLValueConvertible, _ key: String) throws -> [IPNetwork] {
        try strings(v, key, example: "[\"10.1.0.0/16\", \"127.0.0.1/32\"]").map {
            guard let n = IPNetwork($0) else {
                throw error(key, "\"\($0)\" is not a network; write an address or address/prefix like \"10.1.0.0/16\"")
            }
            return n
        }
    }

    /// A duration: seconds as a number, or a string with a unit, like "30s", "5m", "4h", "5d".
    /// `junk_score`, `quarantine_score`, `reject_score` of a table: a number, or `"off"`.
    func thresholds(_ t: TOMLTable, _ path: String, base: SpamThresholds) throws -> SpamThresholds {
        if path != "spam" { try checkKeys(t, allowed: ["junk_score", "quarantine_score", "reject_score"], path: path) }
        var result = base
        func score(_ key: String) throws -> Double?? {
            guard let v = t[key] else { return .none }
            if v.string == "off" { return .some(nil) }
            if let d = v.double ?? v.int.map(Double.init), d.isFinite { return .some(d) }
            throw error("\(path).\(key)", "must be a number like 5 or 7.5, or \"off\"")
        }
        if let v = try score("junk_score") { result.junk = v }
        if let v = try score("quarantine_score") { result.quarantine = v }
        if let v = try score("reject_score") { result.reject = v }
        return result
    }

    func duration(_ v: any TOMLValueConvertible, _ key: String) throws -> TimeInterval {
        if let n = v.int, n >= 0 { return TimeInterval(n) }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let s = v.string, let unit = s.last, let mult = units[unit], let n = Double(s.dropLast()), n >= 0 { return n * mult }
        throw error(key, "must be a duration like \"30s\", \"5m\", \"4h\" or \"5d\"")
    }

    /// `table.key` as a whole number within `range`, or nil when it is not set.
    func int(in t: TOMLTable, _ table: String, _ key: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let v = t[key] else { return nil }
        let n = try int(v, "\(table).\(key)")
        guard range.contains(n) else { throw error("\(table).\(key)", "must be between \(range.lowerBound) and \(range.upperBound)") }
        return n
    }

    func table(_ v: any TOMLValueConvertible, _ key: String) throws -> TOMLTable {
        guard let t = v.table else { throw error(key, "must be a table ([\(key)])") }
        return t
    }

    func addresses(_ v: any TOMLValueConvertible, _ key: String) throws -> [ListenAddress] {
        guard let array = v.array else { throw error(key, "must be a list of \"host:port\" strings, like [\"127.0.0.1:8080\"]") }
        return try array.map { item in
            guard let s = item.string, let a = ListenAddress(s) else {
                throw error(key, "\(item.string.map { "\"\($0)\"" } ?? "a value") is not \"host:port\" (IPv6 as \"[::1]:8080\")")
            }
            return a
        }
    }
}
