import ACME
import AdminModels
import Directory
import Foundation
import HTTPClientKit
import Logging
import MailroomServer
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import SwiftASN1
import Synchronization
import Testing
import TestSupport
import X509

/// Mailroom's ACME against Pebble: real HTTP-01 validation of our `acme_http` listener,
/// certificates that chain to Pebble's root, a failed validation retried, a forced renewal
/// seen by a new TLS connection.
@Suite(.serialized, .enabled(if: Peers.shouldRun(PebblePeer.available)))
struct PebbleTests {
    /// A whole Mailroom in this process with `[acme]` pointing at `pebble`, its IMAPS on a free port.
    final class Server: Sendable {
        let mailroom: Mailroom
        let group: ServiceGroup
        let task: Task<Void, any Error>
        let imapsPort: Int
        let adminURL = URLBox()
        let dataDir: DataDirectory
        /// What ``status(within:_:)`` last saw, for a test that waited in vain.
        let lastSeen = Mutex("nothing")

        /// The web listener's port, when `web` asked for one.
        let webPort: Int?

        /// `names` nil: the default names; `web`: a web listener too; `domains` are added
        /// before the services start. With `challenge` tls-alpn-01 the web listener is on
        /// Pebble's TLS port and there is no `acme_http` listener.
        init(
            pebble: PebblePeer, httpPort: Int, names: [String]?, folder: URL, web: Bool = false, domains: [String] = [],
            challenge: ACMESettings.Challenge = .http01
        ) throws {
            var c = ServerConfig()
            c.hostname = "mail.example.org"
            c.dataDir = folder.path
            imapsPort = Peers.freePort()
            c.listeners.admin = [ListenAddress(host: "127.0.0.1", port: 0)]
            (c.listeners.smtp, c.listeners.submission, c.listeners.submissions, c.listeners.imap) = ([], [], [], [])
            c.listeners.managesieve = []
            c.listeners.imaps = [ListenAddress(host: "127.0.0.1", port: imapsPort)]
            c.listeners.acmeHTTP = challenge == .http01 ? [ListenAddress(host: "127.0.0.1", port: httpPort)] : []
            webPort = challenge == .tlsALPN01 ? pebble.tlsPort : web ? Peers.freePort() : nil
            c.listeners.web = webPort.map { [ListenAddress(host: "127.0.0.1", port: $0)] } ?? []
            c.passwordIterations = 100_000
            c.sweepInterval = 0
            var acme = ACMESettings()
            acme.directoryURL = pebble.directoryURL
            acme.caFile = pebble.caFile
            acme.email = "postmaster@example.org"
            acme.names = names
            acme.firstRetry = 1
            acme.maxRetry = 2
            acme.pollTimeout = .seconds(30)
            acme.challenge = challenge
            c.acme = acme
            mailroom = try Mailroom(config: c)
            for domain in domains { _ = try mailroom.directory.addDomain(domain, actor: .system) }
            dataDir = mailroom.dataDir
            let url = adminURL
            var logger = Logger(label: "pebble-test")
            logger.logLevel = .critical
            let services = try mailroom.services(logger: logger) { name, address in
                if name == "admin API" { url.value.withLock { $0 = address } }
            }
            var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) }, logger: logger)
            configuration.maximumGracefulShutdownDuration = .seconds(30)  // a stuck stop fails the test, not the run
            group = ServiceGroup(configuration: configuration)
            let group = self.group
            task = Task { try await group.run() }
        }

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }

        /// An admin API call with the data folder's token.
        func admin(_ method: HTTPMethod, _ path: String) async throws -> TLSStatusView {
            var url: String?
            for _ in 0..<200 {
                url = adminURL.value.withLock { $0 }
                if url != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let base = try #require(url.flatMap { URL(string: $0) })
            let token = try String(contentsOfFile: dataDir.tokenPath, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let r = try await HTTPExchange.send(
                host: "127.0.0.1", port: base.port!, method: method, path: path,
                headers: [("Authorization", "Bearer \(token)")],
                timeout: .seconds(90))
            guard r.status == 200 else {
                throw PeerError("\(method) \(path): \(r.status) \(String(decoding: r.body, as: UTF8.self))")
            }
            return try AdminJSON.decoder().decode(TLSStatusView.self, from: Data(r.body))
        }

        /// Waits (up to `seconds`) for the status to satisfy `condition`, returning it. Counts
        /// tries as well as time, up to twice as long: while other tests hold the shared threads,
        /// neither this task nor the server's ACME client may run for many seconds.
        func status(within seconds: Double = 180, _ condition: (TLSCertificateView) -> Bool) async throws
            -> TLSCertificateView?
        {
            let (deadline, last) = (Date().addingTimeInterval(seconds), Date().addingTimeInterval(2 * seconds))
            var tries = 0
            while Date() < deadline || (tries < Int(seconds * 5) && Date() < last) {
                tries += 1
                let c = try await admin(.GET, "/api/v1/tls").certificates.first
                lastSeen.withLock { $0 = "\(Date()): \(c.map { "\($0)" } ?? "no certificate")" }
                if let c, condition(c) { return c }
                try await Task.sleep(for: .milliseconds(200))
            }
            return nil
        }
    }

    final class URLBox: Sendable {
        let value = Mutex<String?>(nil)
    }

    /// Pebble's root: the management API's /roots/0.
    static func root(_ pebble: PebblePeer) async throws -> Certificate {
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pebble.caFile))
        let r = try await HTTPExchange.send(
            host: "127.0.0.1", port: pebble.managementPort, tls: try NIOSSLContext(configuration: config), method: .GET,
            path: "/roots/0")
        return try Certificate(pemEncoded: String(decoding: r.body, as: UTF8.self))
    }

    static func chain(_ pem: String) throws -> [Certificate] {
        try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
    }

    /// The leaf a new TLS connection to 127.0.0.1:`port` is given, as openssl s_client sees it,
    /// verified against `rootFile` for `name`.
    static func servedLeaf(port: Int, name: String, rootFile: String) throws -> (
        leaf: Certificate, verified: Bool, output: String
    ) {
        let r = try Peers.run(
            "/usr/bin/openssl",
            [
                "s_client", "-connect", "127.0.0.1:\(port)", "-servername", name, "-CAfile", rootFile,
                "-verify_hostname", name,
            ], input: "",
            timeout: 20)
        let pem = try #require(
            r.stdout.range(of: "-----BEGIN CERTIFICATE-----").flatMap { start in
                r.stdout.range(of: "-----END CERTIFICATE-----", range: start.lowerBound..<r.stdout.endIndex).map {
                    String(r.stdout[start.lowerBound..<$0.upperBound])
                }
            }, "openssl s_client printed no certificate: \(r.output)")
        return (try Certificate(pemEncoded: pem), r.stdout.contains("Verify return code: 0 (ok)"), r.output)
    }

    func withPebble(_ body: (PebblePeer, Int, URL) async throws -> Void) async throws {
        let httpPort = Peers.freePort()
        // Pebble starts and stops off the threads all async tests share: each takes seconds, and
        // meanwhile the in-process server and this test's waits need those threads.
        let pebble = try await blocking { try PebblePeer.start(httpPort: httpPort) }
        let folder = try Scratch.folder("mailroom-acme")
        func cleanUp() async {
            _ = try? await blocking { pebble.stop() }
            try? FileManager.default.removeItem(at: folder)
        }
        do { try await body(pebble, httpPort, folder) } catch {
            Issue.record("pebble's log: \(pebble.log.suffix(3000))")
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    @Test func obtainsACertificateForTwoNamesByHTTP01() async throws {
        try await withPebble { pebble, httpPort, folder in
            let names = ["mail.example.org", "mta-sts.example.org"]
            let data = folder.appendingPathComponent("data")
            // In a function of its own, so that the server (and its hold on the data folder) is
            // gone before the restart below.
            func firstRun() async throws -> (TLSCertificateView?, DataDirectory, String) {
                let server = try Server(pebble: pebble, httpPort: httpPort, names: names, folder: data)
                let status = try await server.status { $0.source == "acme" }
                await server.stop()
                return (status, server.dataDir, server.lastSeen.withLock { $0 })
            }
            let (status, dataDir, lastSeen) = try await firstRun()
            let got = try #require(status, "no ACME certificate within 180 s; last seen at \(lastSeen)")
            #expect(Set(got.names) == Set(names))
            #expect(got.lastError == nil)
            #expect(got.issuer.contains("Pebble"))
            #expect(
                got.nextRenewal.map { abs($0.timeIntervalSince(got.notAfter.addingTimeInterval(-30 * 86400))) < 5 }
                    == true)
            // Chains to Pebble's root: leaf ← intermediate ← root.
            let chain = try Self.chain(try String(contentsOfFile: dataDir.acmeCertPath, encoding: .utf8))
            let root = try await Self.root(pebble)
            #expect(chain.count >= 2)
            #expect(chain[1].publicKey.isValidSignature(chain[0].signature, for: chain[0]))
            #expect(root.publicKey.isValidSignature(chain[chain.count - 1].signature, for: chain[chain.count - 1]))
            for path in [dataDir.acmeCertPath, dataDir.acmeKeyPath, dataDir.acmeAccountKeyPath] {
                let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(path)")
            }
            // A restart serves the stored certificate from the first connection, without asking the CA.
            let again = try Server(pebble: pebble, httpPort: httpPort, names: names, folder: data)
            #expect(again.mailroom.tlsSource == "acme")
            await again.stop()
        }
    }

    @Test func aFailedValidationIsReportedAndRetried() async throws {
        try await withPebble { pebble, httpPort, folder in
            // bad.example.org resolves to 127.0.0.2, where nothing answers: Pebble's HTTP-01 fails.
            func challtest(_ request: (path: String, body: String)) async throws {
                let r = try await HTTPExchange.send(
                    host: "127.0.0.1", port: pebble.challtestsrvManagementPort, method: .POST, path: request.path,
                    body: Array(request.body.utf8))
                #expect(r.status == 200, "challtestsrv \(request.path)")
            }
            try await challtest(PebblePeer.addA(host: "bad.example.org", address: "127.0.0.2"))
            let server = try Server(
                pebble: pebble, httpPort: httpPort, names: ["mail.example.org", "bad.example.org"],
                folder: folder.appendingPathComponent("data"))
            let failed = try await server.status { $0.lastError != nil }
            let error = try #require(failed?.lastError)
            #expect(failed?.source == "self-signed", "the generated certificate serves meanwhile")
            #expect(error.contains("could not validate bad.example.org"))
            #expect(error.contains("connection") || error.contains("Connection"), "Pebble's detail: \(error)")
            #expect(failed?.nextRenewal != nil)
            // Retried with backoff: once the name resolves to us, the next attempt succeeds.
            try await challtest(PebblePeer.clearA(host: "bad.example.org"))
            let recovered = try await server.status { $0.source == "acme" }
            await server.stop()
            #expect(recovered?.lastError == nil)
            #expect(Set(recovered?.names ?? []) == ["mail.example.org", "bad.example.org"])
        }
    }

    @Test func aForcedRenewalReachesNewConnections() async throws {
        try await withPebble { pebble, httpPort, folder in
            let server = try Server(
                pebble: pebble, httpPort: httpPort, names: ["mail.example.org"],
                folder: folder.appendingPathComponent("data"))
            let first = try await server.status { $0.source == "acme" }
            #expect(first != nil)
            let rootFile = folder.appendingPathComponent("root.pem").path
            try (try await Self.root(pebble)).serializeAsPEM().pemString.write(
                toFile: rootFile, atomically: true, encoding: .utf8)
            let before = try Self.servedLeaf(port: server.imapsPort, name: "mail.example.org", rootFile: rootFile)
            #expect(before.verified, "\(before.output)")
            let renewed = try await server.admin(.POST, "/api/v1/tls/renew")
            let after = try Self.servedLeaf(port: server.imapsPort, name: "mail.example.org", rootFile: rootFile)
            await server.stop()
            let onDisk = try Self.chain(try String(contentsOfFile: server.dataDir.acmeCertPath, encoding: .utf8))[0]
            #expect(onDisk.serialNumber != before.leaf.serialNumber, "the renewal stored a new certificate")
            #expect(
                after.leaf.serialNumber == onDisk.serialNumber,
                "a new connection gets the new certificate without a restart")
            #expect(after.verified, "\(after.output)")
            #expect(renewed.certificates.first?.lastRenewal != nil)
            #expect(
                renewed.certificates.first?.nextRenewal
                    == renewed.certificates.first.map { $0.notAfter.addingTimeInterval(-30 * 86400) })
        }
    }

    /// What `openssl s_client` sees on 127.0.0.1:`port` for SNI `name`, offering `alpn`: with a
    /// `request`, what the server answers until it closes; without, just the handshake.
    static func tlsExchange(port: Int, name: String, alpn: String, rootFile: String, request: String = "") throws
        -> Peers.RunResult
    {
        try Peers.run(
            "/usr/bin/openssl",
            [
                "s_client", "-connect", "127.0.0.1:\(port)", "-servername", name, "-alpn", alpn, "-CAfile", rootFile,
                "-verify_hostname", name,
            ] + (request.isEmpty ? [] : ["-ign_eof"]), input: request, timeout: 20)
    }

    /// TLS-ALPN-01 (RFC 8737) with no port 80 at all: Pebble connects to the web listener
    /// offering `acme-tls/1` and checks the challenge certificate; the certificate it issues then
    /// serves ordinary HTTPS clients on that same listener, which still get the site.
    @Test func obtainsACertificateByTLSALPN01OnTheWebListener() async throws {
        try await withPebble { pebble, httpPort, folder in
            let rootFile = folder.appendingPathComponent("root.pem").path
            try (try await Self.root(pebble)).serializeAsPEM().pemString.write(
                toFile: rootFile, atomically: true, encoding: .utf8)
            let names = ["mail.example.org", "mta-sts.example.org"]
            let server = try Server(
                pebble: pebble, httpPort: httpPort, names: names, folder: folder.appendingPathComponent("data"),
                domains: ["example.org"], challenge: .tlsALPN01)
            let webPort = try #require(server.webPort)
            let settled = try await server.status { $0.source == "acme" || $0.lastError != nil }
            let got = try #require(settled, "no ACME certificate and no error within 180 s")
            #expect(got.source == "acme", "\(got.lastError ?? "")")
            #expect(Set(got.names) == Set(names))
            // Nothing listens on Pebble's HTTP-01 port (the server has no acme_http listener):
            // the names were proved on the web listener.

            // An ordinary HTTPS client (ALPN http/1.1) gets the new certificate and the site.
            let site = try Self.tlsExchange(
                port: webPort, name: "mta-sts.example.org", alpn: "http/1.1", rootFile: rootFile,
                request:
                    "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.example.org\r\nConnection: close\r\n\r\n")
            #expect(site.stdout.contains("Verify return code: 0 (ok)"), "\(site.output)")
            #expect(site.stdout.contains("HTTP/1.1 200"), "\(site.output)")
            #expect(site.stdout.contains("version: STSv1"), "\(site.output)")
            // acme-tls/1 for a name with no pending challenge: the ordinary certificate, no ALPN.
            let stray = try Self.tlsExchange(
                port: webPort, name: "mail.example.org", alpn: "acme-tls/1", rootFile: rootFile)
            #expect(stray.stdout.contains("Verify return code: 0 (ok)"), "\(stray.output)")
            #expect(!stray.stdout.contains("ALPN protocol: acme-tls/1"), "\(stray.output)")
            await server.stop()
        }
    }

    /// With a web listener and no `acme.names`, the certificate names `mta-sts.` and
    /// `autoconfig.` of every domain, those added while the server runs from the next order on;
    /// the web listener serves each new certificate without a restart.
    @Test func webNamesFollowTheDomains() async throws {
        try await withPebble { pebble, httpPort, folder in
            let data = folder.appendingPathComponent("data")
            let rootFile = folder.appendingPathComponent("root.pem").path
            try (try await Self.root(pebble)).serializeAsPEM().pemString.write(
                toFile: rootFile, atomically: true, encoding: .utf8)
            // In a function of its own, so that the server (and its hold on the data folder) is
            // gone before the restart below.
            func firstRun() async throws {
                let server = try Server(
                    pebble: pebble, httpPort: httpPort, names: nil, folder: data, web: true, domains: ["example.org"])
                let webPort = try #require(server.webPort)
                let first = try await server.status { $0.source == "acme" }
                #expect(Set(first?.names ?? []) == ["mail.example.org", "mta-sts.example.org", "autoconfig.example.org"])
                let served = try Self.servedLeaf(port: webPort, name: "mta-sts.example.org", rootFile: rootFile)
                #expect(served.verified, "the web listener serves the ACME certificate: \(served.output)")

                _ = try server.mailroom.directory.addDomain("example.net", actor: .system)
                let wanted = try await server.status { $0.wantedNames != nil }
                let lacking = wanted?.wantedNames ?? []
                #expect(lacking.contains("autoconfig.example.net"), "tls status shows the names it lacks")
                let renewed = try await server.admin(.POST, "/api/v1/tls/renew")
                let names = Set(renewed.certificates.first?.names ?? [])
                #expect(names.isSuperset(of: ["mta-sts.example.net", "autoconfig.example.net"]), "\(names)")
                let after = try Self.servedLeaf(port: webPort, name: "autoconfig.example.net", rootFile: rootFile)
                #expect(after.verified, "\(after.output)")
                // A domain added now is not on the certificate when the server next starts.
                _ = try server.mailroom.directory.addDomain("example.com", actor: .system)
                await server.stop()
            }
            try await firstRun()
            // The stored certificate still serves from the start, not the self-signed one.
            let again = try Server(pebble: pebble, httpPort: httpPort, names: nil, folder: data, web: true)
            #expect(again.mailroom.tlsSource == "acme")
            await again.stop()
        }
    }
}
