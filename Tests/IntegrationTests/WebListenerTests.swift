import Foundation
import TestSupport
import Testing

/// The web listener of a real `mailroom serve`, over HTTPS with the mail listeners' (generated)
/// certificate, as a sender fetching an MTA-STS policy and mail clients asking for their
/// settings use it: Python's http.client and ssl, its XML and property-list parsers
/// (interop/web_client.py).
@Suite(.serialized, .enabled(if: Peers.shouldRun(SMTPInteropTests.python != nil)))
struct WebListenerTests {
    struct Answer {
        var status: Int
        var contentType: String
        var headers: [String: String]
        var body: String
        var sha256: String
        var parsed: Any?
    }

    static let web = #"["127.0.0.1:0"]"#

    /// Sends each request to the web listener, trusting only the data folder's certificate for
    /// the server's host name.
    static func fetch(_ s: ServerProcess, _ requests: [[String: String]]) throws -> [Answer] {
        let python = try #require(SMTPInteropTests.python, "python3 is required (CI=true)")
        let port = try s.waitForPorts(["HTTPS (web)"])[0]
        let script = SMTPInteropTests.repoRoot.appendingPathComponent("interop/web_client.py").path
        let input = String(decoding: try JSONSerialization.data(withJSONObject: requests), as: UTF8.self)
        let r = try Peers.run(
            python, [script, String(port), s.dataDir + "/tls/cert.pem", "mail.example.org"], input: input)
        #expect(r.status == 0, "\(r.stderr)\n\(s.log)")
        let list = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], "\(r.output)")
        return list.map { a in
            Answer(
                status: a["status"] as? Int ?? 0, contentType: a["content_type"] as? String ?? "",
                headers: a["headers"] as? [String: String] ?? [:], body: a["body"] as? String ?? "",
                sha256: a["sha256"] as? String ?? "", parsed: a["parsed"].flatMap { $0 is NSNull ? nil : $0 })
        }
    }

    static func get(_ path: String, host: String = "mail.example.org") -> [String: String] {
        ["method": "GET", "path": path, "host": host]
    }

    static func autodiscover(_ body: String, path: String = "/autodiscover/autodiscover.xml") -> [String: String] {
        ["method": "POST", "path": path, "host": "autodiscover.example.org", "body": body]
    }

    static func autodiscoverRequest(_ address: String) -> String {
        """
        <?xml version="1.0" encoding="utf-8"?>
        <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
          <Request>
            <EMailAddress>\(address)</EMailAddress>
            <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
          </Request>
        </Autodiscover>
        """
    }

    /// The `id=` of the `_mta-sts` record `mailroom dns records` prints.
    static func recordID(_ s: ServerProcess, _ domain: String) throws -> String {
        let records = try s.cli(["dns", "records", domain])
        #expect(records.status == 0, "\(records.err)")
        let line = try #require(
            records.out.split(separator: "\n").first { $0.hasPrefix("_mta-sts.\(domain). IN TXT ") }, "\(records.out)")
        return String(try #require(line.split(separator: "id=").last).prefix { $0.isLetter || $0.isNumber })
    }

    @Test func mtaSTSPolicyPerDomainAgreesWithTheDNSRecord() async throws {
        try await blocking {
            let s = try ServerProcess(config: "[web]\nmta_sts_max_age = \"2d\"\n", listeners: ["web": Self.web])
            try s.start()
            defer { s.stop() }
            for d in ["example.org", "example.net"] { #expect(try s.cli(["domain", "add", d]).status == 0) }
            #expect(try s.cli(["domain", "show", "example.net"]).out.contains("testing"))
            let set = try s.cli(["domain", "set", "example.org", "--mta-sts", "enforce"])
            #expect(set.out == "updated example.org: mta-sts enforce\n", "\(set.out)\(set.err)")
            let bad = try s.cli(["domain", "set", "example.org", "--mta-sts", "strict"])
            #expect(bad.status != 0 && bad.err.contains("mta-sts must be none, testing or enforce"), "\(bad.err)")
            let list = try s.cli(["domain", "list"]).out
            #expect(list.contains("MTA-STS") && list.contains("enforce") && list.contains("testing"), "\(list)")

            let policy = Self.get("/.well-known/mta-sts.txt", host: "mta-sts.example.org")
            let a = try Self.fetch(
                s,
                [
                    policy, Self.get("/.well-known/mta-sts.txt", host: "MTA-STS.example.net:443"),
                    Self.get("/.well-known/mta-sts.txt", host: "mta-sts.elsewhere.example"),
                    Self.get("/.well-known/mta-sts.txt", host: "example.org"),
                    Self.get("/.well-known/mta-sts.txt", host: "mta-sts."),
                ])
            #expect(a[0].status == 200 && a[0].contentType == "text/plain", "\(a[0])")
            #expect(
                a[0].body.components(separatedBy: "\r\n") == [
                    "version: STSv1", "mode: enforce", "mx: mail.example.org", "max_age: 172800", "",
                ])
            #expect(
                a[1].body == "version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 172800\r\n", "\(a[1])"
            )
            #expect(a[2...].map(\.status) == [404, 404, 404])

            // The record's id is the served policy's, and moves when (only when) the policy does.
            let enforced = try Self.recordID(s, "example.org")
            #expect(enforced == String(a[0].sha256.prefix(20)))
            #expect(try Self.recordID(s, "example.net") == String(a[1].sha256.prefix(20)))
            #expect(try s.cli(["domain", "set", "example.org", "--mta-sts", "none"]).status == 0)
            let withdrawn = try Self.fetch(s, [policy])[0]
            #expect(withdrawn.body.hasPrefix("version: STSv1\r\nmode: none\r\n"), "\(withdrawn.body)")
            let noneID = try Self.recordID(s, "example.org")
            #expect(noneID == String(withdrawn.sha256.prefix(20)) && noneID != enforced)
            #expect(try s.cli(["domain", "set", "example.org", "--mta-sts", "enforce"]).status == 0)
            #expect(try Self.recordID(s, "example.org") == enforced)
            // Tests ask no DNS server: the doctor finds no record, and says which to publish.
            let doctor = try s.cli(["doctor", "example.org"])
            #expect(
                doctor.out.contains("example.org publishes no MTA-STS record")
                    && doctor.out.contains("_mta-sts.example.org. IN TXT \"v=STSv1; id=\(enforced)\""), "\(doctor.out)")

            let records = try s.cli(["dns", "records", "example.org"]).out
            for line in [
                "mta-sts.example.org. IN CNAME mail.example.org.", "autoconfig.example.org. IN CNAME mail.example.org.",
                "_autodiscover._tcp.example.org. IN SRV 0 0 443 mail.example.org.",
            ] {
                #expect(records.contains(line + "\n"), "\(line) in \(records)")
            }
        }
    }

    /// What a client is told, for the listeners of `s`: `imap` and `smtp` are the expected
    /// (port, implicit TLS) pairs, the preferred first.
    static func checkClientSettings(_ s: ServerProcess, address: String, imap: [(Int, Bool)], smtp: [(Int, Bool)])
        throws
    {
        let escaped = address.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "'", with: "&apos;")
        let query = try #require(address.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let a = try Self.fetch(
            s,
            [
                Self.get("/mail/config-v1.1.xml?emailaddress=\(query)", host: "autoconfig.example.org"),
                Self.get("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=\(query)", host: "example.org"),
                Self.autodiscover(Self.autodiscoverRequest(escaped)),
                Self.autodiscover(Self.autodiscoverRequest(escaped), path: "/Autodiscover/Autodiscover.xml"),
                Self.get("/apple/mobileconfig?emailaddress=\(query)"),
            ])
        for answer in a { #expect(answer.status == 200, "\(answer)") }

        func servers(_ entries: Any?) -> [[String]] {
            (entries as? [[String: Any]] ?? []).map { e in
                [e["type"], e["hostname"], e["port"], e["socketType"], e["username"]].map { $0 as? String ?? "-" }
            }
        }
        func expected(_ type: String, _ list: [(Int, Bool)]) -> [[String]] {
            list.map { [type, "mail.example.org", String($0.0), $0.1 ? "SSL" : "STARTTLS", "%EMAILADDRESS%"] }
        }
        for config in a[0...1] {
            #expect(config.contentType.hasPrefix("application/xml"))
            let parsed = try #require(config.parsed as? [String: Any])
            #expect(parsed["root"] as? String == "clientConfig" && parsed["version"] as? String == "1.1")
            #expect(parsed["domain"] as? [String] == ["example.org"])
            #expect(servers(parsed["incoming"]) == expected("imap", imap), "\(config.body)")
            #expect(servers(parsed["outgoing"]) == expected("smtp", smtp), "\(config.body)")
        }

        for discovered in a[2...3] {
            let parsed = try #require(discovered.parsed as? [String: Any], "\(discovered)")
            #expect(
                parsed["root_ns"] as? String == "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
            )
            #expect(
                parsed["response_ns"] as? String
                    == "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a")
            #expect(parsed["account"] as? [String: String] == ["AccountType": "email", "Action": "settings"])
            let protocols = (parsed["protocols"] as? [[String: String]] ?? []).map { p in
                [p["Type"], p["Server"], p["Port"], p["Encryption"], p["LoginName"], p["AuthRequired"]].map {
                    $0 ?? "-"
                }
            }
            #expect(
                protocols == [
                    ["IMAP", "mail.example.org", String(imap[0].0), imap[0].1 ? "SSL" : "TLS", address, "on"],
                    ["SMTP", "mail.example.org", String(smtp[0].0), smtp[0].1 ? "SSL" : "TLS", address, "on"],
                ], "\(discovered.body)")
        }

        let profile = a[4]
        #expect(profile.contentType == "application/x-apple-aspen-config")
        #expect(profile.headers["content-disposition"] == "attachment; filename=\"example.org.mobileconfig\"")
        let plist = try #require(profile.parsed as? [String: Any], "\(profile)")
        #expect(plist["PayloadType"] as? String == "Configuration")
        let mail = try #require((plist["PayloadContent"] as? [[String: Any]])?.first)
        #expect(mail["PayloadType"] as? String == "com.apple.mail.managed")
        #expect(mail["EmailAddress"] as? String == address)
        #expect(mail["EmailAccountType"] as? String == "EmailTypeIMAP")
        for (prefix, endpoint) in [("Incoming", imap[0]), ("Outgoing", smtp[0])] {
            #expect(mail["\(prefix)MailServerHostName"] as? String == "mail.example.org")
            #expect(mail["\(prefix)MailServerPortNumber"] as? Int == endpoint.0)
            #expect(mail["\(prefix)MailServerUseSSL"] as? Bool == true)
            #expect(mail["\(prefix)MailServerUsername"] as? String == address)
        }
    }

    @Test func clientSettingsFromEveryListener() async throws {
        try await blocking {
            let s = try ServerProcess(listeners: ["web": Self.web])
            try s.start()
            defer { s.stop() }
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            let p = try s.waitForPorts(["IMAPS (TLS)", "IMAP", "submissions (TLS)", "submission"])
            try Self.checkClientSettings(
                s, address: "alice@example.org", imap: [(p[0], true), (p[1], false)],
                smtp: [(p[2], true), (p[3], false)])
        }
    }

    @Test func clientSettingsFromSTARTTLSListenersOnly() async throws {
        try await blocking {
            let s = try ServerProcess(listeners: ["web": Self.web, "imaps": "[]", "submissions": "[]"])
            try s.start()
            defer { s.stop() }
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            let p = try s.waitForPorts(["IMAP", "submission"])
            // Characters XML must escape, in an address that is still valid.
            try Self.checkClientSettings(
                s, address: "o'hara&co@example.org", imap: [(p[0], false)], smtp: [(p[1], false)])
        }
    }

    @Test func unknownAddressesAndBadRequests() async throws {
        try await blocking {
            let s = try ServerProcess(listeners: ["web": Self.web])
            try s.start()
            defer { s.stop() }
            #expect(try s.cli(["domain", "add", "example.org"]).status == 0)
            let cases: [(request: [String: String], status: Int)] = [
                (Self.get("/mail/config-v1.1.xml?emailaddress=alice%40elsewhere.example"), 404),
                (Self.get("/apple/mobileconfig?emailaddress=alice%40elsewhere.example"), 404),
                (Self.autodiscover(Self.autodiscoverRequest("alice@elsewhere.example")), 404),
                (Self.get("/index.html"), 404),
                (Self.get("/mail/config-v1.1.xml"), 400),
                (Self.get("/mail/config-v1.1.xml?emailaddress=not-an-address"), 400),
                (Self.autodiscover("this is not XML"), 400),
                (
                    Self.autodiscover(
                        "<Autodiscover><Request><EMailAddress>alice@example.org</EMailAddress></Request>"), 400
                ),
                (Self.autodiscover("<Autodiscover><Request></Request></Autodiscover>"), 400),
                (
                    Self.autodiscover(
                        #"<!DOCTYPE a [<!ENTITY e "alice@example.org">]><Autodiscover><Request><EMailAddress>&e;</EMailAddress></Request></Autodiscover>"#
                    ), 400
                ),
                (Self.autodiscover(""), 400),
                (Self.autodiscover(String(repeating: "<a>", count: 7000)), 413),
                (Self.get("/autodiscover/autodiscover.xml"), 405),
                (
                    ["method": "POST", "path": "/.well-known/mta-sts.txt", "host": "mta-sts.example.org", "body": ""],
                    405
                ),
            ]
            let answers = try Self.fetch(s, cases.map(\.request))
            #expect(answers.count == cases.count)
            for (c, answer) in zip(cases, answers) {
                #expect(answer.status == c.status, "\(c.request): \(answer.status) \(answer.body)")
                // A 404 says nothing about what exists.
                if c.status == 404 { #expect(answer.body == "not found\n") }
            }
            #expect(answers[12].headers["allow"] == "POST")
            #expect(s.process?.isRunning() == true)
        }
    }
}
