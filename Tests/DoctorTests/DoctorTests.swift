import AdminModels
import Doctor
import EmailAuth
import Foundation
import MailCore
import TestSupport
import Testing

@Suite struct DoctorTests {
    static let key = DKIMKey.generate(.ed25519)
    static let keyView = DKIMKeyView(
        domain: "example.org", selector: "mr2026", algorithm: "ed25519", active: true, createdAt: Date(),
        dnsName: "mr2026._domainkey.example.org", dnsRecord: key.dnsRecord)

    static func facts(
        cert: String = "", generated: Bool = false, listeners: [ServerFacts.Listener] = [], web: ServerFacts.Web? = .init()
    ) -> ServerFacts {
        ServerFacts(
            hostname: "mail.example.org",
            listeners: listeners.isEmpty
                ? [.init(name: "SMTP (MX)", host: "0.0.0.0", port: 25), .init(name: "submission", host: "0.0.0.0", port: 587),
                   .init(name: "IMAPS (TLS)", host: "0.0.0.0", port: 993)] : listeners,
            certificatePEM: cert, certificateGenerated: generated, dnsbl: ["bl.test"], web: web)
    }

    @Test func recordsToPublish() {
        let records = PublishedRecords.records(domain: "Example.org", facts: Self.facts(), dkim: [Self.keyView], mtaSTS: .enforce)
        let zone = PublishedRecords.zoneText(records)
        let policy = MTASTSPolicy(mode: .enforce, mx: ["mail.example.org"], maxAge: 604800)
        for line in [
            "example.org. IN MX 10 mail.example.org.",
            "example.org. IN TXT \"v=spf1 mx -all\"",
            "mr2026._domainkey.example.org. IN TXT \"\(Self.key.dnsRecord)\"",
            "_dmarc.example.org. IN TXT \"v=DMARC1; p=reject; rua=mailto:postmaster@example.org\"",
            "_mta-sts.example.org. IN TXT \"v=STSv1; id=\(policy.id)\"",
            "mta-sts.example.org. IN CNAME mail.example.org.",
            "_smtp._tls.example.org. IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@example.org\"",
            "_submission._tcp.example.org. IN SRV 0 1 587 mail.example.org.",
            "_imaps._tcp.example.org. IN SRV 0 1 993 mail.example.org.",
            "autoconfig.example.org. IN CNAME mail.example.org.",
            "_autodiscover._tcp.example.org. IN SRV 0 0 443 mail.example.org.",
            "<this server's outbound address, reversed> IN PTR mail.example.org.",
        ] {
            #expect(zone.contains(line + "\n"), "\(line)\n\(zone)")
        }
        // The id is the policy's: another mode, another id.
        #expect(
            !PublishedRecords.zoneText(PublishedRecords.records(domain: "example.org", facts: Self.facts(), dkim: [], mtaSTS: .testing))
                .contains(policy.id))
        // Without a web listener nothing serves the policy or client settings: no record points there.
        let bare = PublishedRecords.zoneText(
            PublishedRecords.records(domain: "example.org", facts: Self.facts(web: nil), dkim: [], mtaSTS: .enforce))
        for name in ["_mta-sts.", "mta-sts.", "autoconfig.", "_autodiscover."] { #expect(!bare.contains(name), "\(name)") }
        #expect(bare.contains("_smtp._tls.example.org."))
        // Only services that listen get an SRV record.
        #expect(!zone.contains("_imap._tcp"))
        // An RSA record longer than 255 bytes is split into character-strings.
        let rsa = DKIMKey.generate(.rsa2048)
        var view = Self.keyView
        view.dnsRecord = rsa.dnsRecord
        let long = PublishedRecords.records(domain: "example.org", facts: Self.facts(), dkim: [view], mtaSTS: .testing)
        #expect(long.first { $0.type == "TXT" && $0.name.hasPrefix("mr2026") }?.value.contains("\" \"") == true)
    }

    static let good = FakeAuthDNS([
        "example.org": [.mx("mail.example.org"), .txt("v=spf1 mx -all")],
        "mail.example.org": [.a("192.0.2.25")],
        "25.2.0.192.in-addr.arpa": [.ptr("mail.example.org")],
        "mr2026._domainkey.example.org": [.txt(key.dnsRecord)],
        "_dmarc.example.org": [.txt("v=DMARC1; p=reject; rua=mailto:postmaster@example.org")],
        "_smtp._tls.example.org": [.txt("v=TLSRPTv1; rua=mailto:postmaster@example.org")],
    ])

    static let bad = FakeAuthDNS([
        "example.org": [.mx("mx.oldhost.test"), .txt("v=spf1 ip4:198.51.100.0/24 -all")],
        "mail.example.org": [.a("192.0.2.25")],
        "25.2.0.192.in-addr.arpa": [.ptr("vps-25.hoster.test")],
        "25.2.0.192.bl.test": [.a("127.0.0.2")],
        "mr2026._domainkey.example.org": [.txt(DKIMKey.generate(.ed25519).dnsRecord)],
        "_dmarc.example.org": [.txt("v=DMARC1; p=none; rua=mailto:reports@example.org")],
    ])

    static func doctor(_ dns: FakeAuthDNS, facts: ServerFacts = facts(listeners: [.init(name: "SMTP (MX)", host: "127.0.0.1", port: 1)])) -> Doctor {
        Doctor(facts: facts, dns: dns, receives: { $0 == "postmaster@example.org" }, isOurs: { $0 == "example.org" })
    }

    @Test func aDomainSetUpRightPasses() async {
        let findings = await Self.doctor(Self.good).run(domains: ["example.org"], dkim: [Self.keyView])
        let domain = findings.filter { $0.domain == "example.org" }
        #expect(domain.allSatisfy { $0.status == "ok" }, "\(domain.filter { $0.status != "ok" })")
        #expect(Set(domain.map(\.check)) == ["mx", "spf", "dkim", "dmarc", "tls-rpt"])
        #expect(domain.first { $0.check == "spf" }?.detail == "the SPF record of example.org authorizes this server's addresses, with 1 of the 10 DNS lookups allowed")
        #expect(findings.first { $0.check == "ptr" }?.status == "ok")
        #expect(findings.first { $0.check == "blocklist" }?.status == "ok")
    }

    @Test func whatAdministratorsGetWrong() async {
        let findings = await Self.doctor(Self.bad).run(domains: ["example.org"], dkim: [Self.keyView])
        func one(_ check: String) -> DoctorFinding? { findings.first { $0.check == check && $0.status != "ok" } }
        #expect(one("mx")?.detail == "the MX of example.org is mx.oldhost.test, not this server (mail.example.org)")
        #expect(one("spf")?.detail.hasPrefix("the SPF record of example.org does not authorize this server: 192.0.2.25: fail") == true)
        #expect(one("dkim")?.detail == "mr2026._domainkey.example.org publishes a different key than the one example.org's mail is signed with")
        #expect(one("dmarc")?.status == "warning")
        #expect(findings.contains { $0.check == "dmarc" && $0.detail == "DMARC reports go to reports@example.org, which does not receive mail" })
        #expect(one("tls-rpt")?.status == "warning")
        #expect(one("ptr")?.detail == "192.0.2.25 has the reverse name vps-25.hoster.test, not mail.example.org (the name this server says in HELO)")
        #expect(one("blocklist")?.detail == "192.0.2.25 is listed by bl.test")
        #expect(one("listener")?.detail == "SMTP (MX) does not answer on 127.0.0.1:1")
        #expect(findings.filter { $0.status == "error" }.allSatisfy { $0.fix != nil })
    }

    @Test func mtaSTSRecordsNameTheServedPolicy() async {
        let served = Self.facts().mtaSTSPolicy(mode: .enforce)
        func findings(_ records: [String: [FakeAuthDNS.Record]], mode: MTASTSMode = .enforce) async -> [DoctorFinding] {
            await Self.doctor(FakeAuthDNS(records), facts: Self.facts(listeners: [.init(name: "SMTP (MX)", host: "127.0.0.1", port: 1)]))
                .run(domains: ["example.org"], dkim: [], mtaSTS: ["example.org": mode]).filter { $0.check == "mta-sts" }
        }
        let host: [String: [FakeAuthDNS.Record]] = ["mta-sts.example.org": [.a("192.0.2.25")]]
        let right = await findings(host.merging(["_mta-sts.example.org": [.txt(served.record)]]) { a, _ in a })
        #expect(right.map(\.status) == ["ok"], "\(right)")
        let stale = await findings(host.merging(["_mta-sts.example.org": [.txt("v=STSv1; id=20261203")]]) { a, _ in a })
        #expect(stale.map(\.status) == ["error"])
        #expect(stale.first?.detail.contains("has id=20261203, not the id of the policy served now (\(served.id), mode enforce)") == true)
        #expect(stale.first?.fix == "replace it: publish `_mta-sts.example.org. IN TXT \"\(served.record)\"`")
        let noHost = await findings(["_mta-sts.example.org": [.txt(served.record)]])
        #expect(noHost.map(\.status) == ["ok", "error"] && noHost.last?.detail == "mta-sts.example.org has no address: senders cannot fetch the policy")
        #expect(await findings([:]).map(\.status) == ["warning"])
        #expect(await findings([:], mode: .none).map(\.status) == ["ok"])
        let two = await findings(host.merging(["_mta-sts.example.org": [.txt(served.record), .txt("v=STSv1; id=1")]]) { a, _ in a })
        #expect(two.first?.detail == "example.org publishes 2 MTA-STS records, so senders apply none")
        // Without a web listener no policy is served, and nothing is checked.
        let none = await Self.doctor(FakeAuthDNS([:]), facts: Self.facts(listeners: [.init(name: "SMTP (MX)", host: "127.0.0.1", port: 1)], web: nil))
            .run(domains: ["example.org"], dkim: [], mtaSTS: ["example.org": .enforce])
        #expect(!none.contains { $0.check == "mta-sts" })
    }

    static let python = Peers.find("openssl")

    @Test(.enabled(if: Peers.shouldRun(python != nil), "needs openssl"))
    func certificates() async throws {
        let openssl = try #require(Self.python)
        let dir = try Scratch.folder("doctor-cert")
        defer { try? FileManager.default.removeItem(at: dir) }
        func cert(_ name: String, days: Int) throws -> String {
            let path = dir.appendingPathComponent("\(name)-\(days).pem").path
            let r = try Peers.run(openssl, [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", String(days),
                "-subj", "/CN=\(name)", "-addext", "subjectAltName=DNS:\(name)", "-keyout", dir.appendingPathComponent("k.pem").path, "-out", path,
            ])
            #expect(r.status == 0, "\(r.output)")
            return try String(contentsOfFile: path, encoding: .utf8)
        }
        func certFindings(_ pem: String, generated: Bool = false) async -> [DoctorFinding] {
            await Self.doctor(Self.good, facts: Self.facts(cert: pem, generated: generated, listeners: [])).run(domains: [], dkim: [])
                .filter { $0.check == "certificate" }
        }
        let right = await certFindings(try cert("mail.example.org", days: 90))
        #expect(right.map(\.status) == ["ok", "ok"])
        let wrong = await certFindings(try cert("other.example.net", days: 90))
        #expect(wrong.first?.detail == "the certificate names other.example.net, not mail.example.org")
        let expiring = await certFindings(try cert("mail.example.org", days: 5))
        #expect(expiring.last?.status == "error")
        #expect(expiring.last?.detail.hasPrefix("the certificate expires in") == true)
        let selfSigned = await certFindings(try cert("mail.example.org", days: 90), generated: true)
        #expect(selfSigned.last?.status == "warning")
    }
}
