import ACME
import AdminAPI
import AdminModels
import Directory
import Foundation
import NIOSSL
import ServerKit
import SwiftASN1
import Synchronization
import X509

/// The certificate the mail listeners serve (SMTP STARTTLS, submissions, IMAP STARTTLS, IMAPS),
/// and the one place it changes: ``install(_:)`` builds a new TLS context and puts it in the box
/// every new connection reads, so connections already in TLS keep theirs.
final class MailTLS: Sendable {
    let box: TLSContextBox
    let listeners: [String]
    private let current: Mutex<(chain: String, source: String)>

    init(chain: String, key: String, source: String, listeners: [String]) throws {
        self.box = TLSContextBox(try NIOSSLContext(configuration: try Mailroom.serverTLS(cert: chain, key: key)))
        self.current = Mutex((chain, source))
        self.listeners = listeners
    }

    func install(_ cert: IssuedCertificate) throws {
        try install(chain: cert.chainPEM, key: cert.keyPEM, source: "acme")
    }

    /// New connections get this certificate from now on; open ones keep theirs.
    func install(chain: String, key: String, source: String) throws {
        let context = try NIOSSLContext(configuration: try Mailroom.serverTLS(cert: chain, key: key))
        box.replace(context)
        current.withLock { $0 = (chain, source) }
    }

    var chainPEM: String { current.withLock { $0.chain } }
    var source: String { current.withLock { $0.source } }
}

/// `mailroom tls status` and `tls renew` for the admin API.
struct MailTLSAdmin: TLSAdmin {
    let mail: MailTLS
    let acme: ACMEManager?

    func status() -> TLSStatusView {
        let (chain, source) = (mail.chainPEM, mail.source)
        guard let doc = try? PEMDocument.parseMultiple(pemString: chain).first,
            let leaf = try? Certificate(pemDocument: doc)
        else {
            return TLSStatusView(certificates: [])
        }
        let names =
            ((try? leaf.extensions.subjectAlternativeNames) ?? nil)?.compactMap { name -> String? in
                if case .dnsName(let n) = name { n } else { nil }
            } ?? []
        var view = TLSCertificateView(
            source: source, listeners: mail.listeners, names: names, subject: leaf.subject.description,
            issuer: leaf.issuer.description,
            notBefore: leaf.notValidBefore, notAfter: leaf.notValidAfter)
        if let acme {
            let report = acme.report()
            view.nextRenewal = report.nextAttempt ?? acme.renewalDate()
            view.lastRenewal = report.lastRenewal
            view.lastError = report.lastError
            view.lastErrorAt = report.lastErrorAt
            if Set(acme.names) != Set(names) { view.wantedNames = acme.names }
        }
        return TLSStatusView(certificates: [view])
    }

    func renew() async throws -> TLSStatusView {
        guard let acme else {
            throw AdminError(
                status: 409, code: "acme_not_configured",
                message: "this server has no [acme] section; its certificate comes from tls.cert_file or is self-signed"
            )
        }
        do { try await acme.obtain() } catch {
            throw AdminError(status: 502, code: "acme_failed", message: "\(error)")
        }
        return status()
    }
}
