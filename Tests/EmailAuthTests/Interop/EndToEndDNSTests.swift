import DNS
import EmailAuth
import Foundation
import SMTPServer
import TestSupport
import Testing

/// SPF, DKIM and DMARC end to end over real DNS: NSD serves zones for two sender domains (SPF,
/// a DKIM key made by this run, DMARC), Unbound resolves them on loopback (``DNSPeer``), and the
/// verifiers look names up through the server's own adapter, `ResolverAuthDNS(DNSResolver)`.
/// dkimpy signs the messages.
///
/// - `sender.example` (p=reject): a message from it, signed by it, from its SPF-listed address
///   passes SPF, DKIM and DMARC.
/// - `reject.example` (p=reject): a message claiming to be from it, signed by sender.example and
///   sent from an address its SPF refuses, fails DMARC with disposition reject.
@Suite("SPF, DKIM and DMARC over NSD and Unbound")
struct EndToEndDNSTests {
    static let script = #"""
        import base64, json, subprocess, sys, dkim
        pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                             check=True, capture_output=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem, check=True, capture_output=True).stdout
        out = {"record": "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode(), "messages": []}
        for path in sys.argv[1:]:
            message = open(path, "rb").read()
            signed = dkim.sign(message, b"e2e", b"sender.example", pem, canonicalize=(b"relaxed", b"relaxed")) + message
            out["messages"].append(base64.b64encode(signed).decode())
        print(json.dumps(out))
        """#

    static func message(from: String) -> String {
        """
        From: Ann <\(from)>\r
        To: bob@mailroom.example\r
        Subject: end to end\r
        Date: Thu, 03 Dec 2026 10:00:00 +0000\r
        Message-ID: <e2e.\(from)>\r
        \r
        Hello over real DNS.\r

        """
    }

    /// A zone for `domain`; `records` are zone lines relative to it.
    static func zone(_ domain: String, _ records: [String]) -> (String, String) {
        let text = """
            $ORIGIN \(domain).
            $TTL 300
            @ IN SOA ns1.\(domain). hostmaster.\(domain). ( 1 3600 600 86400 60 )
            @ IN NS ns1
            ns1 IN A 127.0.0.1

            """ + records.joined(separator: "\n") + "\n"
        return ("\(domain).zone", text)
    }

    /// A TXT record's text as zone-file character-strings of at most 255 bytes.
    static func quoted(_ text: String) -> String {
        var parts: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            parts.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        return "( " + parts.joined(separator: " ") + " )"
    }

    @Test(
        "pass for an aligned signed message from a listed address; fail and reject for a p=reject domain",
        .enabled(
            if: DNSPeer.enabled && Peers.shouldRun(DkimpyInteropTests.hasDkimpy && DkimpySignedTests.openssl != nil),
            "needs nsd, unbound, openssl and python3 with dkimpy; skipped")
    )
    func endToEnd() async throws {
        let (record, signed) = try await blocking { () throws -> (String, [[UInt8]]) in
            let python = try #require(DkimpyInteropTests.python, "CI=true but python3 is not on PATH")
            try #require(
                DkimpyInteropTests.hasDkimpy,
                "CI=true but python3 cannot `import dkim, nacl`: pip install dkimpy pynacl")
            let directory = try Scratch.folder("e2e-dkim")
            defer { try? FileManager.default.removeItem(at: directory) }
            var paths: [String] = []
            for (i, from) in ["ann@sender.example", "ceo@reject.example"].enumerated() {
                let url = directory.appendingPathComponent("m\(i)")
                try Self.message(from: from).write(to: url, atomically: true, encoding: .utf8)
                paths.append(url.path)
            }
            let scriptURL = directory.appendingPathComponent("sign.py")
            try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
            let result = try Peers.run(python, [scriptURL.path] + paths, timeout: 60)
            try #require(result.status == 0, "the dkimpy signing script failed: \(result.stderr)")
            struct Output: Decodable {
                var record: String
                var messages: [String]
            }
            let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
            return (output.record, try output.messages.map { Array(try #require(Data(base64Encoded: $0))) })
        }

        let peer = try await DNSPeer.start(extraZones: [
            Self.zone(
                "sender.example",
                [
                    "@ IN TXT \"v=spf1 ip4:192.0.2.25 -all\"",
                    "e2e._domainkey IN TXT \(Self.quoted(record))",
                    "_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@sender.example\"",
                ]),
            Self.zone(
                "reject.example",
                [
                    "@ IN TXT \"v=spf1 ip4:192.0.2.25 -all\"",
                    "_dmarc IN TXT \"v=DMARC1; p=reject\"",
                ]),
        ])
        defer { peer.stop() }
        let dns = ResolverAuthDNS(DNSResolver(servers: [peer.server], timeout: .seconds(2)))
        let spf = SPFVerifier(dns: dns, receiver: "mx.mailroom.example")
        let dkim = DKIMVerifier(dns: dns)
        let dmarc = DMARCVerifier(dns: dns, sample: { 0 })

        // Aligned, signed, from a listed address.
        let spfPass = await spf.verify(
            ip: try #require(SPFAddress("192.0.2.25")), mailFrom: "ann@sender.example", helo: "mail.sender.example")
        #expect(spfPass.result == .pass, "\(spfPass)")
        let dkimPass = await dkim.verify(signed[0])
        #expect(dkimPass.map(\.result) == [.pass], "\(dkimPass.map(\.reason))")
        let dmarcPass = await dmarc.evaluate(
            fromDomain: "sender.example", spf: (result: spfPass.result.rawValue, domain: spfPass.domain), dkim: dkimPass
        )
        #expect(dmarcPass.result == .pass, "\(dmarcPass.reason)")
        #expect(dmarcPass.policyDomain == "sender.example")
        #expect(dmarcPass.disposition == .none)

        // From reject.example, sent from elsewhere, signed only by sender.example.
        let spfFail = await spf.verify(
            ip: try #require(SPFAddress("198.51.100.66")), mailFrom: "ceo@reject.example", helo: "evil.example")
        #expect(spfFail.result == .fail, "\(spfFail)")
        let dkimOther = await dkim.verify(signed[1])
        #expect(
            dkimOther.map(\.result) == [.pass] && dkimOther.first?.domain == "sender.example",
            "\(dkimOther.map(\.reason))")
        let dmarcFail = await dmarc.evaluate(
            fromDomain: "reject.example", spf: (result: spfFail.result.rawValue, domain: spfFail.domain),
            dkim: dkimOther)
        #expect(dmarcFail.result == .fail, "\(dmarcFail.reason)")
        #expect(dmarcFail.policy == .reject)
        #expect(dmarcFail.disposition == .reject)
        #expect(dmarcFail.policyDomain == "reject.example")

        // A name the zones do not have: SPF none, DMARC none (NXDOMAIN through Unbound).
        let none = await spf.verify(
            ip: try #require(SPFAddress("192.0.2.25")), mailFrom: "x@nosuch.sender.example", helo: "h")
        #expect(none.result == .none, "\(none)")
    }
}
