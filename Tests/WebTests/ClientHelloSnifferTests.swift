import ACME
import Crypto
import EmailAuth
import Foundation
import Logging
import MailCore
import NIOSSL
import ServerKit
import ServiceLifecycle
import SwiftASN1
import Synchronization
import Testing
import TestSupport
import Web
import X509

/// The web listener with TLS-ALPN-01 answering, on loopback, driven by `openssl s_client`: a
/// ClientHello offering `acme-tls/1` alone for a name with a pending challenge gets the
/// challenge certificate and a closed connection; every other client gets the site as before.
@Suite(.enabled(if: Peers.shouldRun(Peers.find("openssl") != nil)))
struct ClientHelloSnifferTests {
    static let site = WebSite(
        mode: { ["example.org": MTASTSMode.enforce][$0.ascii] },
        policy: { MTASTSPolicy(mode: $0, mx: ["mail.example.org"], maxAge: 86400) },
        settings: {
            ClientSettings(hostname: "mail.example.org", imaps: [993], imap: [143], submissions: [], submission: [587])
        })

    /// The listener's ordinary certificate: self-signed for `names`, its own CA (so that
    /// `-CAfile` accepts it).
    static func ordinaryCertificate(_ names: [String]) throws -> (pem: String, key: P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(names[0]) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            SubjectAlternativeNames(names.map { .dnsName($0) })
        }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(key))
        return (try cert.serializeAsPEM().pemString + "\n", key)
    }

    final class Address: Sendable {
        let port = Mutex<Int?>(nil)
    }

    static func firstCertificate(_ output: String) throws -> Certificate {
        let pem = try #require(
            output.range(of: "-----BEGIN CERTIFICATE-----").flatMap { start in
                output.range(of: "-----END CERTIFICATE-----", range: start.lowerBound..<output.endIndex).map {
                    String(output[start.lowerBound..<$0.upperBound])
                }
            }, "openssl s_client printed no certificate: \(output)")
        return try Certificate(pemEncoded: pem)
    }

    @Test func acmeTLS1GetsTheChallengeCertificateAndEveryoneElseTheSite() async throws {
        let folder = try Scratch.folder("web-alpn")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (pem, key) = try Self.ordinaryCertificate(["mta-sts.example.org", "mail.example.org"])
        let rootFile = folder.appendingPathComponent("root.pem").path
        try pem.write(toFile: rootFile, atomically: true, encoding: .utf8)
        let box = TLSContextBox(
            try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)).map { .certificate($0) },
                    privateKey: .privateKey(
                        try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)))))
        let challenges = TLSALPN01Challenges()
        let keyAuthorization = "token-1.thumbprint-1"
        try challenges.publish(name: "mail.example.org", keyAuthorization: keyAuthorization)

        var logger = Logger(label: "web-alpn-test")
        logger.logLevel = .critical
        let address = Address()
        let services = WebListener.services(
            listeners: [("127.0.0.1", 0)], site: Self.site, tls: box,
            acmeChallenge: { challenges.context(for: $0) }, logger: logger,
            onListening: { _, bound in
                address.port.withLock { $0 = Int(bound.split(separator: ":").last ?? "") }
            })
        let group = ServiceGroup(services: services, logger: logger)
        let task = Task { try await group.run() }
        defer { task.cancel() }
        var port: Int?
        for _ in 0..<200 where port == nil {
            port = address.port.withLock { $0 }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let webPort = try #require(port, "the web listener did not start")

        func sClient(_ name: String, alpn: String, request: String = "") throws -> Peers.RunResult {
            // -ign_eof: read until the server closes (the challenge answer closes at once; a
            // request is answered with Connection: close).
            try Peers.run(
                "/usr/bin/openssl",
                [
                    "s_client", "-connect", "127.0.0.1:\(webPort)", "-servername", name, "-alpn", alpn,
                    "-CAfile", rootFile,
                ] + (request.isEmpty && alpn != "acme-tls/1" ? [] : ["-ign_eof"]),
                input: request, timeout: 20)
        }

        // The validator's hello: the challenge certificate, ALPN acme-tls/1, then the server closes.
        let validation = try sClient("mail.example.org", alpn: "acme-tls/1")
        #expect(validation.stdout.contains("ALPN protocol: acme-tls/1"), "\(validation.output)")
        let served = try Self.firstCertificate(validation.stdout)
        let ext = try #require(served.extensions[oid: TLSALPN01Challenges.acmeIdentifierOID], "\(served)")
        #expect(ext.critical)
        #expect(Array(ext.value) == [0x04, 0x20] + Array(SHA256.hash(data: Array(keyAuthorization.utf8))))
        #expect(try served.extensions.subjectAlternativeNames.map(Array.init) == [.dnsName("mail.example.org")])

        // An ordinary HTTPS client gets the ordinary certificate and the site.
        let request = "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.example.org\r\nConnection: close\r\n\r\n"
        let browser = try sClient("mta-sts.example.org", alpn: "http/1.1", request: request)
        #expect(browser.stdout.contains("Verify return code: 0 (ok)"), "\(browser.output)")
        #expect(browser.stdout.contains("HTTP/1.1 200"), "\(browser.output)")
        #expect(browser.stdout.contains("mode: enforce"), "\(browser.output)")
        #expect(try Self.firstCertificate(browser.stdout).extensions[oid: TLSALPN01Challenges.acmeIdentifierOID] == nil)

        // acme-tls/1 beside another protocol, or for a name with no pending challenge: not a
        // validation, so the ordinary certificate.
        for (name, alpn) in [("mail.example.org", "acme-tls/1,http/1.1"), ("other.example.org", "acme-tls/1")] {
            let r = try sClient(name, alpn: alpn, request: request)
            #expect(!r.stdout.contains("ALPN protocol: acme-tls/1"), "\(name) \(alpn): \(r.output)")
            #expect(
                try Self.firstCertificate(r.stdout).extensions[oid: TLSALPN01Challenges.acmeIdentifierOID] == nil,
                "\(name) \(alpn)")
        }

        // Withdrawn: the validator's hello gets the ordinary certificate too.
        challenges.withdraw(name: "mail.example.org")
        let late = try sClient("mail.example.org", alpn: "acme-tls/1", request: request)
        #expect(try Self.firstCertificate(late.stdout).extensions[oid: TLSALPN01Challenges.acmeIdentifierOID] == nil)

        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
