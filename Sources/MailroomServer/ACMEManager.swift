import ACME
import Foundation
import Logging
import Synchronization

/// Obtains and renews the ACME certificate: one attempt at a time, its outcome kept for
/// `mailroom tls status`, the new certificate saved in the data folder and handed to `install`
/// (which swaps it into the listeners).
public final class ACMEManager: Sendable {
    public let settings: ACMESettings
    /// The names the certificate should carry now, the first as its common name.
    public var names: [String] { wantedNames() }
    private let wantedNames: @Sendable () -> [String]
    public let tokens = HTTP01Tokens()
    /// The TLS-ALPN-01 challenge certificates, served by the web listener.
    public let alpnChallenges = TLSALPN01Challenges()
    let dataDir: DataDirectory
    let logger: Logger
    let install: @Sendable (IssuedCertificate) throws -> Void
    private let state = Mutex(State())
    private let ready: AsyncStream<Void>
    private let readyContinuation: AsyncStream<Void>.Continuation

    struct State {
        var running = false
        var failures = 0
        var lastError: String?
        var lastErrorAt: Date?
        var lastRenewal: Date?
        var nextAttempt: Date?
    }

    init(
        settings: ACMESettings, names: @escaping @Sendable () -> [String], dataDir: DataDirectory, logger: Logger,
        install: @escaping @Sendable (IssuedCertificate) throws -> Void
    ) {
        self.settings = settings
        self.wantedNames = names
        self.dataDir = dataDir
        self.logger = logger
        self.install = install
        (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The listener that answers the challenge is bound (`acme_http` for HTTP-01, `web` for
    /// TLS-ALPN-01): validations can begin.
    func responderListening() { readyContinuation.yield() }

    /// Where the answers go for the configured challenge type.
    var responder: ChallengeResponder {
        switch settings.challenge {
        case .http01: .http01(tokens)
        case .tlsALPN01: .tlsALPN01(alpnChallenges)
        }
    }

    func waitForResponder() async {
        for await _ in ready { return }
    }

    /// The stored certificate, when it is this manager's (it covers every wanted name).
    public func stored() -> IssuedCertificate? {
        guard let cert = dataDir.acmeCertificate(), Set(names).isSubset(of: Set(cert.names)) else { return nil }
        return cert
    }

    /// When the stored certificate is due for renewal; nil when there is none to keep.
    func renewalDate() -> Date? { stored().map { $0.notAfter.addingTimeInterval(-settings.renewBefore) } }

    /// Orders a certificate for ``names`` now, whatever the stored one's expiry. Throws the
    /// ACME error (also recorded as the last error) when it fails.
    @discardableResult
    public func obtain() async throws -> IssuedCertificate {
        let started = state.withLock { s in
            guard !s.running else { return false }
            s.running = true
            return true
        }
        guard started else {
            throw ServerError("a certificate is being obtained already; see `mailroom tls status` in a minute")
        }
        defer { state.withLock { $0.running = false } }
        let names = self.names
        logger.info(
            "obtaining a TLS certificate by ACME",
            metadata: ["names": "\(names.joined(separator: ","))", "directory": "\(settings.directoryURL)"])
        do {
            let key = try dataDir.acmeAccountKey()
            var options = ACMEClient.Options()
            options.pollTimeout = settings.pollTimeout
            let client = ACMEClient(
                directoryURL: settings.directoryURL, key: key,
                transport: try HTTPExchangeTransport(caFile: settings.caFile), options: options)
            let request = CertificateRequest(names: names)
            let chain = try await client.obtainCertificate(
                request: request, email: settings.email, responder: responder)
            let cert = try IssuedCertificate(chainPEM: chain, keyPEM: request.keyPEM + "\n")
            try dataDir.saveACMECertificate(cert)
            try install(cert)
            state.withLock { s in
                s.failures = 0
                s.lastError = nil
                s.lastErrorAt = nil
                s.lastRenewal = Date()
                s.nextAttempt = cert.notAfter.addingTimeInterval(-settings.renewBefore)
            }
            logger.info(
                "new TLS certificate in use",
                metadata: ["names": "\(cert.names.joined(separator: ","))", "not_after": "\(cert.notAfter)"])
            return cert
        } catch {
            let failures = state.withLock { s in
                s.failures += 1
                s.lastError = "\(error)"
                s.lastErrorAt = Date()
                return s.failures
            }
            logger.error(
                "obtaining the TLS certificate failed; it is tried again later",
                metadata: ["error": "\(error)", "failures_in_a_row": "\(failures)"])
            throw error
        }
    }

    /// The wait before the next try after the failures so far.
    func backoff() -> TimeInterval { settings.backoff(failures: state.withLock { $0.failures }) }

    func setNextAttempt(_ date: Date) { state.withLock { $0.nextAttempt = date } }

    struct Report {
        var lastError: String?
        var lastErrorAt: Date?
        var lastRenewal: Date?
        var nextAttempt: Date?
    }

    func report() -> Report {
        state.withLock {
            Report(
                lastError: $0.lastError, lastErrorAt: $0.lastErrorAt, lastRenewal: $0.lastRenewal,
                nextAttempt: $0.nextAttempt)
        }
    }
}
