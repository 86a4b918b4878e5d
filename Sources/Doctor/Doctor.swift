import EmailAuth
import Filtering
import Foundation
import MailCore
import NIOCore
import NIOPosix
import SwiftASN1
import X509

/// `mailroom doctor`: what administrators get wrong when they move a domain, checked through
/// the server's own resolver the way the rest of the Internet will see it.
public struct Doctor: Sendable {
    public let facts: ServerFacts
    public let dns: any AuthDNS
    /// Whether an address (a DMARC report address in one of our domains) receives mail.
    let receives: @Sendable (String) -> Bool
    let isOurs: @Sendable (String) -> Bool
    let now: @Sendable () -> Date

    public init(
        facts: ServerFacts, dns: any AuthDNS, receives: @escaping @Sendable (String) -> Bool,
        isOurs: @escaping @Sendable (String) -> Bool, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.facts = facts
        self.dns = dns
        self.receives = receives
        self.isOurs = isOurs
        self.now = now
    }

    /// The server's own checks, then each domain's. `dkim` are every domain's keys; `mtaSTS`
    /// the MTA-STS modes of the domains (whose policies the web listener serves).
    public func run(domains: [String], dkim: [DKIMKeyView], mtaSTS: [String: MTASTSMode] = [:]) async -> [DoctorFinding] {
        var findings = await server()
        for domain in domains.map({ $0.lowercased() }) {
            findings += await check(domain: domain, keys: dkim.filter { $0.domain == domain && $0.active })
            if facts.web != nil, let mode = mtaSTS[domain] { findings += await checkMTASTS(domain: domain, mode: mode) }
        }
        return findings
    }

    /// The `_mta-sts` record names the policy served now (its id), and `mta-sts.DOMAIN`, where
    /// senders fetch it, has an address (RFC 8461 §3).
    func checkMTASTS(domain: String, mode: MTASTSMode) async -> [DoctorFinding] {
        var out: [DoctorFinding] = []
        func add(_ status: String, _ detail: String, _ fix: String? = nil) {
            out.append(DoctorFinding(domain: domain, check: "mta-sts", status: status, detail: detail, fix: fix))
        }
        let policy = facts.mtaSTSPolicy(mode: mode)
        let publish = "publish `_mta-sts.\(domain). IN TXT \"\(policy.record)\"`"
        let records = ((try? await dns.txt("_mta-sts.\(domain)")) ?? []).filter { $0.hasPrefix("v=STSv1") }
        let ids = records.map { record in
            record.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("id=") }
                .map { String($0.dropFirst(3)) } ?? ""
        }
        switch ids.count {
        case 0 where mode == .none:
            add("ok", "\(domain) publishes no MTA-STS record, and its policy mode is none")
            return out
        case 0:
            add("warning", "\(domain) publishes no MTA-STS record: senders do not learn that they must use TLS (mode \(mode.rawValue))",
                publish)
            return out
        case 1 where ids[0] == policy.id:
            add("ok", "the MTA-STS record of \(domain) names the policy served now (mode \(mode.rawValue))")
        case 1:
            add("error", "the MTA-STS record of \(domain) has id=\(ids[0]), not the id of the policy served now (\(policy.id), mode \(mode.rawValue)): senders keep the policy they fetched before",
                "replace it: " + publish)
        default:
            add("error", "\(domain) publishes \(ids.count) MTA-STS records, so senders apply none", "keep one: " + publish)
        }
        let host = "mta-sts.\(domain)"
        let v4 = (try? await dns.addresses(host, ipv6: false)) ?? []
        let v6 = (try? await dns.addresses(host, ipv6: true)) ?? []
        if v4.isEmpty && v6.isEmpty {
            add("error", "\(host) has no address: senders cannot fetch the policy",
                "publish `\(host). IN CNAME \(facts.hostname.lowercased()).` (the certificate must name it too)")
        }
        return out
    }

    // MARK: The server

    func server() async -> [DoctorFinding] {
        var out: [DoctorFinding] = []
        func add(_ check: String, _ status: String, _ detail: String, _ fix: String? = nil) {
            out.append(DoctorFinding(domain: nil, check: check, status: status, detail: detail, fix: fix))
        }
        let host = facts.hostname
        let addresses = await hostAddresses()
        if addresses.isEmpty {
            add("hostname", "error", "\(host) has no A or AAAA record", "publish the server's address for \(host)")
        } else {
            add("hostname", "ok", "\(host) has the address\(addresses.count > 1 ? "es" : "") \(addresses.joined(separator: ", "))")
        }
        for ip in addresses {
            let names = (try? await dns.ptr(ip)) ?? []
            if names.contains(where: { $0.lowercased() == host.lowercased() }) {
                add("ptr", "ok", "\(ip) has the reverse name \(host), which resolves back: HELO \(host) matches")
            } else if names.isEmpty {
                add("ptr", "error", "\(ip) has no reverse name; many servers refuse mail from such addresses",
                    "ask the owner of \(ip) (your hosting provider) to set its PTR record to \(host)")
            } else {
                add("ptr", "error", "\(ip) has the reverse name \(names.joined(separator: ", ")), not \(host) (the name this server says in HELO)",
                    "set the PTR record of \(ip) to \(host), or set hostname to \(names[0]) if that name is this server's")
            }
            for zone in facts.dnsbl {
                if let listing = await Blocklists.check(ip, zones: [zone], dns: dns) {
                    add("blocklist", "error", "\(ip) is listed by \(zone)\(listing.reason.map { ": \($0)" } ?? "")",
                        "follow the list's delisting procedure, and find why the address sent spam")
                } else {
                    add("blocklist", "ok", "\(ip) is not listed by \(zone)")
                }
            }
        }
        out += certificate()
        for listener in facts.listeners {
            let host = listener.host == "0.0.0.0" ? "127.0.0.1" : listener.host == "::" ? "::1" : listener.host
            if await reachable(host: host, port: listener.port) {
                add("listener", "ok", "\(listener.name) answers on \(listener.host):\(listener.port)")
            } else {
                add("listener", "error", "\(listener.name) does not answer on \(listener.host):\(listener.port)",
                    "check that the server is running and that nothing else holds the port")
            }
        }
        return out
    }

    func hostAddresses() async -> [String] {
        let v4 = (try? await dns.addresses(facts.hostname, ipv6: false)) ?? []
        let v6 = (try? await dns.addresses(facts.hostname, ipv6: true)) ?? []
        return v4 + v6
    }

    func certificate() -> [DoctorFinding] {
        func finding(_ status: String, _ detail: String, _ fix: String? = nil) -> DoctorFinding {
            DoctorFinding(domain: nil, check: "certificate", status: status, detail: detail, fix: fix)
        }
        let (chain, generated) = facts.certificate()
        guard let pem = chain.components(separatedBy: "-----END CERTIFICATE-----").first.map({ $0 + "-----END CERTIFICATE-----" }),
            let cert = try? Certificate(pemEncoded: pem)
        else {
            return [finding("error", "the TLS certificate cannot be read", "configure tls.cert_file and tls.key_file with a PEM chain")]
        }
        var out: [DoctorFinding] = []
        let names = ((try? cert.extensions.subjectAlternativeNames) ?? nil).map { sans in
            sans.compactMap { name -> String? in if case .dnsName(let n) = name { return n.lowercased() } else { return nil } }
        } ?? []
        let host = facts.hostname.lowercased()
        let covers = names.contains(host) || names.contains { $0.hasPrefix("*.") && host.hasSuffix($0.dropFirst(1)) && host.split(separator: ".").count == $0.split(separator: ".").count }
        if covers {
            out.append(finding("ok", "the certificate names \(facts.hostname)"))
        } else {
            out.append(finding("error", "the certificate names \(names.isEmpty ? "no host" : names.joined(separator: ", ")), not \(facts.hostname)",
                               "get a certificate for \(facts.hostname) (tls.cert_file, or ACME)"))
        }
        let left = cert.notValidAfter.timeIntervalSince(now())
        let days = Int(left / 86400)
        if left < 0 {
            out.append(finding("error", "the certificate expired \(-days) days ago", "renew it now"))
        } else if left < 14 * 86400 {
            out.append(finding("error", "the certificate expires in \(days) days", "renew it now"))
        } else {
            out.append(finding("ok", "the certificate is valid for \(days) more days"))
        }
        if generated {
            out.append(finding("warning", "the certificate is the self-signed one Mailroom generated: mail clients warn, and senders that check TLS (MTA-STS, DANE) refuse it",
                               "configure tls.cert_file and tls.key_file with a certificate from a public CA"))
        }
        return out
    }

    func reachable(host: String, port: Int) async -> Bool {
        guard let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3)).connect(host: host, port: port).get()
        else { return false }
        try? await channel.close()
        return true
    }

    // MARK: A domain

    func check(domain: String, keys: [DKIMKeyView]) async -> [DoctorFinding] {
        var out: [DoctorFinding] = []
        func add(_ check: String, _ status: String, _ detail: String, _ fix: String? = nil) {
            out.append(DoctorFinding(domain: domain, check: check, status: status, detail: detail, fix: fix))
        }
        let host = facts.hostname.lowercased()

        // MX
        switch await mx(domain) {
        case .failure(let why): add("mx", "error", "the MX of \(domain) could not be looked up: \(why)", "publish `\(domain). IN MX 10 \(host).`")
        case .success(let names):
            let normalized = names.map { $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
            if normalized.contains(host) {
                add("mx", "ok", "the MX of \(domain) is \(host)")
            } else if normalized.isEmpty {
                add("mx", "error", "\(domain) has no MX record: senders try its A record, or give up", "publish `\(domain). IN MX 10 \(host).`")
            } else {
                add("mx", "error", "the MX of \(domain) is \(normalized.joined(separator: ", ")), not this server (\(host))",
                    "replace it with `\(domain). IN MX 10 \(host).` when you are ready to receive \(domain)'s mail here")
            }
        }

        // SPF
        let spfRecords = ((try? await dns.txt(domain)) ?? []).filter { SPFRecord.isSPFRecord($0) }
        if spfRecords.isEmpty {
            add("spf", "error", "\(domain) publishes no SPF record: receivers cannot tell its mail from forgeries",
                "publish `\(domain). IN TXT \"v=spf1 mx -all\"`")
        } else if spfRecords.count > 1 {
            add("spf", "error", "\(domain) publishes \(spfRecords.count) SPF records, which is a permanent error for every receiver",
                "merge them into one record")
        } else {
            do {
                _ = try SPFRecord(parsing: spfRecords[0])
                let verifier = SPFVerifier(dns: dns, receiver: host)
                var failed: [String] = []
                var lookups = 0
                for ip in await hostAddresses() {
                    guard let address = SPFAddress(ip) else { continue }
                    let outcome = await verifier.checkHost(ip: address, domain: domain, sender: "postmaster@\(domain)", helo: host)
                    lookups = max(lookups, outcome.lookups)
                    if outcome.result != .pass { failed.append("\(ip): \(outcome.result) (\(outcome.reason))") }
                }
                if failed.isEmpty {
                    add("spf", "ok", "the SPF record of \(domain) authorizes this server's addresses, with \(lookups) of the 10 DNS lookups allowed")
                } else {
                    add("spf", "error", "the SPF record of \(domain) does not authorize this server: \(failed.joined(separator: "; "))",
                        "add `mx` (or this server's addresses as ip4:/ip6:) to \(domain)'s SPF record")
                }
            } catch {
                add("spf", "error", "the SPF record of \(domain) is malformed: \(error)", "fix the record: every receiver treats it as a permanent error")
            }
        }

        // DKIM: each active key published as it is.
        if keys.isEmpty {
            add("dkim", "warning", "\(domain) has no DKIM key: its mail is not signed, and DMARC rests on SPF alone",
                "mailroom dkim generate \(domain), then publish the record `mailroom dns records \(domain)` prints")
        }
        for key in keys {
            let published = (try? await dns.txt(key.dnsName)) ?? []
            let ours = (try? DKIMPublicKeyRecord(key.dnsRecord))?.publicKey
            if published.isEmpty {
                add("dkim", "error", "the DKIM key \(key.selector) of \(domain) is not published at \(key.dnsName)",
                    "publish the TXT record `mailroom dns records \(domain)` prints for \(key.dnsName)")
            } else if published.contains(where: { (try? DKIMPublicKeyRecord($0))?.publicKey == ours }) {
                add("dkim", "ok", "the DKIM key \(key.selector) of \(domain) is published as it is")
            } else {
                add("dkim", "error", "\(key.dnsName) publishes a different key than the one \(domain)'s mail is signed with",
                    "replace the record with the one `mailroom dns records \(domain)` prints")
            }
        }

        // DMARC
        let dmarcTexts = ((try? await dns.txt("_dmarc.\(domain)")) ?? []).filter { $0.hasPrefix("v=DMARC1") }
        if dmarcTexts.isEmpty {
            add("dmarc", "warning", "\(domain) publishes no DMARC record: receivers decide alone what to do with forgeries",
                "publish `_dmarc.\(domain). IN TXT \"v=DMARC1; p=reject; rua=mailto:postmaster@\(domain)\"`")
        } else if dmarcTexts.count > 1 {
            add("dmarc", "error", "\(domain) publishes \(dmarcTexts.count) DMARC records, so receivers apply none", "keep one")
        } else {
            do {
                let record = try DMARCRecord(dmarcTexts[0])
                if record.policy == .none {
                    add("dmarc", "warning", "the DMARC policy of \(domain) is p=none: forgeries are reported, not refused",
                        "move to p=quarantine, then p=reject, once the reports show only your own mail")
                } else {
                    add("dmarc", "ok", "the DMARC policy of \(domain) is p=\(record.policy.rawValue)")
                }
                for uri in record.aggregateReportURIs {
                    let address = String(uri.dropFirst("mailto:".count).prefix { $0 != "!" })
                    let reportDomain = address.split(separator: "@").last.map { $0.lowercased() } ?? ""
                    let ok: Bool
                    if isOurs(reportDomain) {
                        ok = receives(address)
                    } else {
                        let exchanges = (try? await dns.mx(reportDomain)) ?? []
                        let addresses = (try? await dns.addresses(reportDomain, ipv6: false)) ?? []
                        ok = !exchanges.isEmpty || !addresses.isEmpty
                    }
                    if ok {
                        add("dmarc", "ok", "DMARC reports go to \(address), which receives mail")
                    } else {
                        add("dmarc", "error", "DMARC reports go to \(address), which does not receive mail",
                            isOurs(reportDomain) ? "create it: mailroom account add \(address) (or an alias)" : "fix the rua= address")
                    }
                }
            } catch {
                add("dmarc", "error", "the DMARC record of \(domain) cannot be read: \(error)", "fix the record")
            }
        }

        // TLS reporting.
        let tlsrpt = ((try? await dns.txt("_smtp._tls.\(domain)")) ?? []).filter { $0.hasPrefix("v=TLSRPTv1") }
        if tlsrpt.isEmpty {
            add("tls-rpt", "warning", "\(domain) publishes no TLS-RPT record: nobody tells you when senders cannot reach you over TLS",
                "publish `_smtp._tls.\(domain). IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@\(domain)\"`")
        } else {
            add("tls-rpt", "ok", "\(domain) publishes a TLS-RPT record")
        }
        return out
    }

    /// The MX names; a domain that does not exist has none.
    func mx(_ domain: String) async -> Result<[String], AuthDNSFailure> {
        do {
            return .success(try await dns.mx(domain))
        } catch {
            if case .notFound = error { return .success([]) }
            return .failure(error)
        }
    }
}
