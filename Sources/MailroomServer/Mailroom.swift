import AdminAPI
import Directory
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import UnixSignals
import HummingbirdCore
import Storage

/// One Mailroom instance on one data folder: the composition root that `mailroom serve` and the
/// integration tests share. `open` does every start-up step that can fail before any listener
/// binds; `services` builds the listeners.
public final class Mailroom: Sendable {
    public let config: ServerConfig
    public let dataDir: DataDirectory
    public let store: SQLiteStore
    public let directory: DirectoryService
    public let metrics: AdminMetrics
    public let tlsCert: String
    public let tlsKey: String
    public let tlsGenerated: Bool
    /// Whether the admin-token file was (re)written at this start.
    public let tokenCreated: Bool
    private let lock: DataLock

    public static let version = "0.1.0"

    public init(config: ServerConfig) throws {
        try config.validate()
        self.config = config
        self.dataDir = DataDirectory(path: config.dataDir)
        try dataDir.create()
        self.lock = try dataDir.lock()
        do { self.store = try SQLiteStore(path: dataDir.databasePath) } catch let e as StoreError {
            throw ServerError(e.description)
        }
        self.directory = try DirectoryService(store: store, passwordIterations: config.passwordIterations)
        self.metrics = AdminMetrics()
        let tls = try dataDir.tlsMaterial(certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, hostname: config.hostname)
        (self.tlsCert, self.tlsKey, self.tlsGenerated) = tls
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

    /// The admin API listeners. `onListening` gets each one's URL once it is bound.
    public func services(logger: Logger, onListening: @escaping @Sendable (String) async -> Void) throws -> [any Service] {
        let router = buildAdminRouter(directory: directory, metrics: metrics)
        var server = HTTPServerBuilder.http1()
        var scheme_ = "http"
        if config.adminTLS {
            let cert = try config.adminCertFile.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? tlsCert
            let key = try config.adminKeyFile.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? tlsKey
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(cert.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: tls)
            scheme_ = "https"
        }
        let dataDir = self.dataDir
        let scheme = scheme_
        return config.listeners.admin.map { listen in
            Application(
                router: router, server: server,
                configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "Mailroom"),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? listen.port
                    let host = listen.host.contains(":") ? "[\(listen.host)]" : listen.host
                    let url = "\(scheme)://\(host):\(port)"
                    // The CLI on this machine finds the running server here.
                    try? dataDir.writePrivate(url + "\n", to: dataDir.adminURLPath)
                    await onListening(url)
                },
                logger: logger)
        }
    }

    /// Runs until SIGTERM or SIGINT, then stops cleanly.
    public func run(logger: Logger, onListening: @escaping @Sendable (String) async -> Void) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: try services(logger: logger, onListening: onListening).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        defer { try? FileManager.default.removeItem(atPath: dataDir.adminURLPath) }
        try await group.run()
    }
}
