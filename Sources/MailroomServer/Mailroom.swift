import ACME
import LoginKit
import AdminAPI
import AdminModels
import Delivery
import Directory
import Foundation
import Hummingbird
import HummingbirdTLS
import IMAP
import IMAPServer
import ManageSieveServer
import ServerKit
import Logging
import MailCore
import MIME
import DNS
import Doctor
import EmailAuth
import Outbound
import NIOCore
import NIOSSL
import SMTP
import SMTPServer
import ServiceLifecycle
import UnixSignals
import HummingbirdCore
import Storage
import Synchronization
import Web
import Webhooks

/// One Mailroom instance on one data folder: the composition root that `mailroom serve` and the
/// integration tests share. `open` does every start-up step that can fail before any listener
/// binds; `services` builds the listeners.
public final class Mailroom: Sendable {
    public let config: ServerConfig
    public let dataDir: DataDirectory
    public let store: SQLiteStore
    public let directory: DirectoryService
    public let metrics: AdminMetrics
    public let delivery: LocalDelivery
    public let authLimiter: AuthLimiter
    public let dkim: DKIMKeyring
    /// Outbound settings with this server's hostname.
    public let outbound: OutboundSettings
    public let tlsCert: String
    public let tlsKey: String
    public let tlsGenerated: Bool
    /// Where the mail listeners' certificate comes from at start: `acme`, `file` or `self-signed`.
    public let tlsSource: String
    /// Whether the admin-token file was (re)written at this start.
    public let tokenCreated: Bool
    private let lock: DataLock

    public static let version = "0.1.0"

    public init(config: ServerConfig) throws {
        try config.validate()
        self.config = config
        MIME.Limits.maxDepth = config.mimeMaxDepth
        self.dataDir = DataDirectory(path: config.dataDir)
        try dataDir.create()
        self.lock = try dataDir.lock()
        do { self.store = try SQLiteStore(path: dataDir.databasePath) } catch let e as StoreError {
            throw ServerError(e.description)
        }
        self.directory = try DirectoryService(store: store, passwordIterations: config.passwordIterations)
        self.metrics = AdminMetrics()
        self.delivery = LocalDelivery(
            store: store, directory: directory, blobs: BlobStore(root: dataDir.blobsPath),
            maxReceivedHeaders: config.smtpLimits.maxReceivedHeaders)
        delivery.junkTrainer.isEnabled = config.junkLearning
        delivery.srs = SRS(secret: try dataDir.srsSecret())
        self.dkim = try DKIMKeyring(store: store, directory: directory)
        delivery.signer = dkim
        var outbound = config.outbound
        outbound.hostname = config.hostname
        self.outbound = outbound
        self.authLimiter = AuthLimiter(
            maxFailures: config.smtpLimits.maxAuthFailures, ban: TimeInterval(config.smtpLimits.authBanSeconds))
        // The stored certificate serves from the start when it names the configured host
        // names; one that lacks only names of domains (added since it was issued) serves too,
        // rather than the self-signed one, until ACME brings a certificate with them all.
        if let acme = config.acme, let issued = dataDir.acmeCertificate(),
            Set(acme.names(hostname: config.hostname)).isSubset(of: Set(issued.names))
        {
            (self.tlsCert, self.tlsKey, self.tlsGenerated, self.tlsSource) = (issued.chainPEM, issued.keyPEM, false, "acme")
        } else {
            // With [acme] and no certificate yet, the generated one serves until the first arrives.
            let tls = try dataDir.tlsMaterial(certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, hostname: config.hostname)
            (self.tlsCert, self.tlsKey, self.tlsGenerated) = tls
            self.tlsSource = config.tlsCertFile == nil ? "self-signed" : "file"
        }
        self.tokenCreated = try Self.ensureLocalToken(directory: directory, dataDir: dataDir)
    }

    /// The data folder holds a working server-admin token for the CLI on this machine: made on
    /// first start, and again if the file was deleted or its token revoked.
    static func ensureLocalToken(directory: DirectoryService, dataDir: DataDirectory) throws -> Bool {
        if let existing = try? String(contentsOfFile: dataDir.tokenPath, encoding: .utf8),
            directory.actor(bearer: existing.trimmingCharacters(in: .whitespacesAndNewlines), sourceIP: nil) != nil
        {
            return false
        }
        let (secret, record) = directory.newToken(name: "local admin (data folder)", role: .serverAdmin, domains: [])
        try directory.store.insertToken(
            record,
            audit: AuditEntry(
                at: Date(), actor: "system", action: "token.create", target: "token \(record.name)", domain: nil,
                before: nil, after: nil, sourceIP: nil))
        try dataDir.writePrivate(secret + "\n", to: dataDir.tokenPath)
        return true
    }

    /// Every listener: the admin API, SMTP, IMAP, the web listener, ACME's HTTP-01. `onListening`
    /// gets each one's name and address once it is bound (the admin API's as a URL).
    public func services(logger: Logger, onListening: @escaping @Sendable (String, String) async -> Void) throws -> [any Service] {
        let resolver = DNSResolver(
            servers: config.dnsServers ?? DNSResolver.systemServers(), timeout: .milliseconds(config.dnsTimeoutMilliseconds))
        let runner = QueueRunner(store: store, delivery: delivery, settings: outbound, resolver: resolver, logger: logger)
        let admin = OutboundAdmin(
            queue: QueueAdmin(store: store, directory: directory, delivery: delivery, hostname: config.hostname), dkim: dkim, stats: runner.stats)
        // One TLS context serves every mail listener (SMTP STARTTLS, submissions, IMAP, IMAPS),
        // replaced in place when ACME brings a new certificate.
        let l = config.listeners
        let mailTLS = try MailTLS(
            chain: tlsCert, key: tlsKey, source: tlsSource,
            listeners: [("smtp", l.smtp), ("submission", l.submission), ("submissions", l.submissions), ("imap", l.imap), ("imaps", l.imaps),
                ("managesieve", l.managesieve),
            ]
                .filter { !$0.1.isEmpty }.map(\.0))
        let status = ServerStatus(
            hostname: config.hostname, alertEmail: config.alerts.email, store: store, mailTLS: mailTLS, authLimiter: authLimiter)
        // Every listener, as it binds, is announced and remembered for `mailroom status`.
        let announce: @Sendable (String, String) async -> Void = { name, address in
            status.listening(name, address)
            await onListening(name, address)
        }
        let (directory, config) = (self.directory, self.config)
        let acme = config.acme.map { settings in
            ACMEManager(settings: settings, names: { Self.acmeNames(config, directory) }, dataDir: self.dataDir, logger: logger) { cert in
                try mailTLS.install(cert)
            }
        }
        let facts = serverFacts(mailTLS)
        var consoleSettings = config.console
        consoleSettings.secureCookies = config.adminTLS
        consoleSettings.issuer = "Mailroom " + config.hostname
        consoleSettings.failureDelay = .milliseconds(config.authFailureDelayMilliseconds)
        let webhooks = Webhooks(store: store, directory: directory, settings: config.webhooks, logger: logger, flush: { [delivery] in delivery.flushRefusals() })
        // The SMTP listeners' shared state; `mailroom trace --dry-run` decides with it too.
        var smtpEnv = SMTPEnvironment(
            hostname: config.hostname, directory: directory, delivery: delivery, tls: nil, limits: config.smtpLimits,
            plaintextAuthOnLoopback: config.plaintextAuthOnLoopback, authLimiter: authLimiter,
            authFailureDelay: .milliseconds(config.authFailureDelayMilliseconds), logger: logger)
        smtpEnv.tlsBox = mailTLS.box
        smtpEnv.trustedNetworks = config.trustedNetworks
        smtpEnv.connectionLimitExceptions = config.smtpConnectionLimitExceptions
        smtpEnv.stats = metrics.stats
        smtpEnv.checkInbound(config.inbound, dns: ResolverAuthDNS(resolver))
        let router = buildAdminRouter(
            directory: directory, metrics: metrics, delivery: delivery, outbound: admin,
            setup: SetupContext(facts: facts, dns: ResolverAuthDNS(resolver)), tls: MailTLSAdmin(mail: mailTLS, acme: acme), bans: authLimiter,
            status: status, maxMessageSize: config.imapLimits.maxAppendSize, console: consoleSettings, webhooks: webhooks,
            dryRun: SMTPDryRun(env: smtpEnv, runner: runner))
        let bound = BoundPorts()
        let dataDir = self.dataDir
        let scheme = config.adminTLS ? "https" : "http"
        var server = HTTPServerBuilder.http1()
        if config.adminTLS {
            let cert = try config.adminCertFile.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? tlsCert
            let key = try config.adminKeyFile.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? tlsKey
            server = try .tls(.http1(), tlsConfiguration: try Self.serverTLS(cert: cert, key: key))
        }
        var services: [any Service] = config.listeners.admin.map { listen in
            Application(
                router: router, server: server,
                configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "Mailroom"),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? listen.port
                    let host = listen.host.contains(":") ? "[\(listen.host)]" : listen.host
                    let url = "\(scheme)://\(host):\(port)"
                    await announce("admin API", url)
                    // The CLI on this machine finds the running server here. Written after the
                    // start-up line, so that whoever waits for this file sees the line too.
                    try? dataDir.writePrivate(url + "\n", to: dataDir.adminURLPath)
                },
                logger: logger)
        }
        // What a SIGHUP may change, as the listeners and the queue hold it.
        var live = ConfigReload.Parts(runner: runner, mailTLS: mailTLS)
        let smtp = config.listeners.smtp.map { SMTPListener(host: $0.host, port: $0.port, kind: .mx) }
            + config.listeners.submission.map { SMTPListener(host: $0.host, port: $0.port, kind: .submission) }
            + config.listeners.submissions.map { SMTPListener(host: $0.host, port: $0.port, kind: .submissions) }
        if !smtp.isEmpty {
            live.smtp = smtpEnv.tunables
            let env = smtpEnv
            services.append(
                SMTPServerService(listeners: smtp, env: env) { listener, port in
                    bound.add(listener.kind.rawValue, port)
                    let host = listener.host.contains(":") ? "[\(listener.host)]" : listener.host
                    await announce(listener.kind.displayName, "\(host):\(port)")
                })
        }
        let imap = config.listeners.imap.map { IMAPListener(host: $0.host, port: $0.port, implicitTLS: false) }
            + config.listeners.imaps.map { IMAPListener(host: $0.host, port: $0.port, implicitTLS: true) }
        if !imap.isEmpty {
            var env = IMAPEnvironment(
                hostname: config.hostname, directory: directory, delivery: delivery, tls: nil, limits: config.imapLimits,
                plaintextAuthOnLoopback: config.plaintextAuthOnLoopback, authLimiter: authLimiter,
                authFailureDelay: .milliseconds(config.authFailureDelayMilliseconds), logger: logger)
            env.tlsBox = mailTLS.box
            env.connectionLimitExceptions = config.imapConnectionLimitExceptions
            env.stats = metrics.stats
            live.imap = env.liveLimits
            services.append(
                IMAPServerService(listeners: imap, env: env) { listener, port in
                    bound.add(listener.implicitTLS ? "imaps" : "imap", port)
                    let host = listener.host.contains(":") ? "[\(listener.host)]" : listener.host
                    await announce(listener.displayName, "\(host):\(port)")
                })
        }
        if !config.listeners.managesieve.isEmpty {
            var env = ManageSieveEnvironment(
                hostname: config.hostname, directory: directory, delivery: delivery, tlsBox: mailTLS.box,
                plaintextAuthOnLoopback: config.plaintextAuthOnLoopback, authLimiter: authLimiter,
                authFailureDelay: .milliseconds(config.authFailureDelayMilliseconds), logger: logger)
            env.connectionLimitExceptions = config.imapConnectionLimitExceptions
            env.stats = metrics.stats
            services.append(
                ManageSieveServerService(
                    listeners: config.listeners.managesieve.map { ($0.host, $0.port) }, env: env
                ) { listener, port in
                    bound.add("managesieve", port)
                    let host = listener.host.contains(":") ? "[\(listener.host)]" : listener.host
                    await announce(ManageSieveServerService.displayName, "\(host):\(port)")
                })
        }
        if let file = config.file {
            services.append(ConfigReload(file: file, running: config, parts: live, logger: logger))
        }
        if let backup = config.backup { services.append(BackupService(delivery: delivery, settings: backup, logger: logger)) }
        services.append(WebhookService(webhooks: webhooks, logger: logger))
        refreshMetrics(resolver: resolver, mailTLS: mailTLS)
        services.append(alertMonitor(mailTLS: mailTLS, status: status, logger: logger))
        if !config.listeners.web.isEmpty {
            let hostname = config.hostname
            let site = WebSite(
                mode: { domain in directory.snapshot.domain(domain)?.mtaSTS },
                policy: { facts.mtaSTSPolicy(mode: $0) },
                settings: {
                    ClientSettings(
                        hostname: hostname, imaps: bound("imaps"), imap: bound("imap"), submissions: bound("submissions"),
                        submission: bound("submission"))
                })
            // With TLS-ALPN-01 the web listener answers the CA, and its binding lets validation begin.
            let alpn: ACMEManager? = acme?.settings.challenge == .tlsALPN01 ? acme : nil
            var acmeChallenge: (@Sendable (String) -> NIOSSLContext?)?
            if let challenges = alpn?.alpnChallenges {
                acmeChallenge = { name in challenges.context(for: name) }
            }
            services += WebListener.services(
                listeners: config.listeners.web.map { ($0.host, $0.port) }, site: site, tls: mailTLS.box,
                acmeChallenge: acmeChallenge, logger: logger,
                onListening: { name, address in
                    await announce(name, address)
                    alpn?.responderListening()
                })
        }
        if let acme {
            services += ACMEResponder.services(listeners: config.listeners.acmeHTTP, manager: acme, logger: logger, onListening: announce)
            services.append(ACMEService(manager: acme))
        }
        services.append(runner)
        services.append(
            BlobSweepService(
                delivery: delivery, interval: config.sweepInterval > 0 ? config.sweepInterval : 3600, sweep: config.sweepInterval > 0,
                quarantineKeep: config.quarantineKeep, logger: logger))
        return services
    }

    /// The server's own alerts, for `mailroom status` and `[alerts] email`.
    func alertMonitor(mailTLS: MailTLS, status: ServerStatus, logger: Logger) -> AlertMonitor {
        let (delivery, hostname) = (self.delivery, config.hostname)
        let email = config.alerts.email
        let read = readings(mailTLS: mailTLS)
        let monitor = AlertMonitor(
            settings: config.alerts, hostname: hostname, logger: logger, read: read,
            send: { subject, body in
                guard let email else { return }
                try await delivery.deliverNotice(to: email, from: hostname, subject: subject, body: body)
            })
        status.alerts.withLock { $0 = monitor }
        return monitor
    }

    /// What the alerts and the scrape-time gauges both read: the queue, the certificate, the
    /// failed logins and the data folder's file system, read the same way for both.
    func readings(mailTLS: MailTLS) -> @Sendable () -> AlertMonitor.Readings {
        let (store, dataDir, stats) = (self.store, self.dataDir, metrics.stats)
        return {
            let fs = try? FileManager.default.attributesOfFileSystem(forPath: dataDir.path)
            return AlertMonitor.Readings(
                deferred: ((try? store.queueCounts()) ?? [:])[.deferred] ?? 0, oldestQueued: (try? store.oldestQueued()) ?? nil,
                certificateExpiry: MailTLSAdmin(mail: mailTLS, acme: nil).status().certificates.first?.notAfter,
                authFailures: stats.total(MetricCatalog.authFailures),
                diskFree: (fs?[.systemFreeSize] as? Int).map(Double.init), diskSize: (fs?[.systemSize] as? Int).map(Double.init))
        }
    }

    /// The gauges read at each scrape: queue age, store size, certificate expiry, bans, and the
    /// DNS resolver's lookups.
    func refreshMetrics(resolver: DNSResolver, mailTLS: MailTLS) {
        let (store, dataDir, authLimiter) = (self.store, self.dataDir, self.authLimiter)
        let read = readings(mailTLS: mailTLS)
        metrics.refresh { stats in
            let r = read()
            stats.set(MetricCatalog.queueOldest, [:], r.oldestQueued.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
            stats.set(MetricCatalog.storeBytes, ["part": "messages"], Double((try? store.storedMessageBytes()) ?? 0))
            let files = [dataDir.databasePath, dataDir.databasePath + "-wal"]
            let database = files.compactMap { (try? FileManager.default.attributesOfItem(atPath: $0))?[.size] as? Int }.reduce(0, +)
            stats.set(MetricCatalog.storeBytes, ["part": "database"], Double(database))
            if let size = r.diskSize, let free = r.diskFree {
                stats.set(MetricCatalog.filesystemBytes, ["kind": "size"], size)
                stats.set(MetricCatalog.filesystemBytes, ["kind": "free"], free)
            }
            if let expiry = r.certificateExpiry { stats.set(MetricCatalog.certificateExpiry, [:], expiry.timeIntervalSince1970) }
            stats.set(MetricCatalog.bannedAddresses, [:], Double(authLimiter.bannedCount))
            for (outcome, n) in resolver.lookupOutcomes { stats.set(MetricCatalog.dnsLookups, ["result": outcome], Double(n)) }
        }
    }

    /// The ports the listeners are bound to, by config key (`imaps`, `submission`…); with port
    /// 0 in the config they are known only once bound.
    final class BoundPorts: Sendable {
        private let ports = Mutex<[String: [Int]]>([:])
        func add(_ key: String, _ port: Int) { ports.withLock { $0[key, default: []].append(port) } }
        func callAsFunction(_ key: String) -> [Int] { ports.withLock { $0[key] ?? [] } }
    }

    /// The names the ACME certificate should carry. With a web listener they include names of
    /// each domain, which live in the database rather than the config: they are read whenever
    /// a certificate is wanted (at start, at each renewal, at `mailroom tls renew`), so a domain
    /// added while the server runs is on the certificate from the next of those on.
    static func acmeNames(_ config: ServerConfig, _ directory: DirectoryService) -> [String] {
        let domains = config.listeners.web.isEmpty ? [] : directory.snapshot.domainsByName.keys.sorted()
        return config.acme?.names(hostname: config.hostname, webDomains: domains) ?? []
    }

    /// What `mailroom doctor` and `dns records` need to know of this server. Listeners on port 0
    /// (a port chosen at start, as in tests) are left out.
    func serverFacts(_ mailTLS: MailTLS) -> ServerFacts {
        let l = config.listeners
        let named: [(String, [ListenAddress])] = [
            ("SMTP (MX)", l.smtp), ("submission", l.submission), ("submissions (TLS)", l.submissions), ("IMAP", l.imap),
            ("IMAPS (TLS)", l.imaps), ("admin API", l.admin), (WebListener.displayName, l.web),
        ]
        let listeners = named.flatMap { name, addresses in
            addresses.filter { $0.port != 0 }.map { ServerFacts.Listener(name: name, host: $0.host, port: $0.port) }
        }
        let webPorts = l.web.map(\.port).filter { $0 != 0 }
        return ServerFacts(
            hostname: config.hostname, listeners: listeners, certificate: { (mailTLS.chainPEM, mailTLS.source == "self-signed") },
            dnsbl: config.inbound.dnsbl,
            web: l.web.isEmpty
                ? nil : ServerFacts.Web(port: webPorts.contains(443) ? 443 : webPorts.first ?? 443, mtaSTSMaxAge: config.mtaSTSMaxAge))
    }

    /// A server TLS configuration from PEM texts (certificate chain, private key).
    static func serverTLS(cert: String, key: String) throws -> TLSConfiguration {
        TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(cert.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
    }

    /// Runs until SIGTERM or SIGINT, then stops cleanly. A stop always ends: sessions get 30 s
    /// to finish, then everything is cancelled, and what has not ended 15 s later ends with the
    /// process (mail is acknowledged only once stored, so nothing is lost).
    public func run(logger: Logger, onListening: @escaping @Sendable (String, String) async -> Void) async throws {
        var configuration = ServiceGroupConfiguration(
            services: try services(logger: logger, onListening: onListening).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        configuration.maximumCancellationDuration = .seconds(15)
        let group = ServiceGroup(configuration: configuration)
        defer {
            delivery.stop()
            try? FileManager.default.removeItem(atPath: dataDir.adminURLPath)
        }
        try await group.run()
    }
}

/// `mailroom trace --dry-run`, answered by the SMTP listeners' decisions and the queue's routes.
struct SMTPDryRun: DryRunSource {
    let env: SMTPEnvironment
    let runner: QueueRunner

    func dryRun(_ transaction: DryRunTransaction) async -> [DryRunStep] {
        await env.dryRun(transaction) { await runner.route(for: $0) }
    }
}
