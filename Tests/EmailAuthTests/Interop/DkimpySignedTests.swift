import EmailAuth
import Foundation
import TestSupport
import Testing

/// The other direction of ``DkimpyInteropTests``: dkimpy (`dkim.sign`) signs, our
/// ``DKIMVerifier`` verifies. The script makes new RSA 1024/2048/4096 keys (openssl) and an
/// Ed25519 key (PyNaCl) on every run, signs the fixture message with each key in all four
/// canonicalizations, with `l=`, with two signatures, and alters copies; it prints the key
/// records and the messages as JSON, and the records are served by `FakeAuthDNS`.
@Suite("Our verifier checks dkimpy's signatures")
struct DkimpySignedTests {
    static let openssl = Peers.find("openssl")

    static let script = #"""
        import base64, json, subprocess, sys, dkim, nacl.signing
        domain = sys.argv[2]
        msg = open(sys.argv[1], "rb").read()
        records, cases, keys = {}, [], {}
        for bits in (1024, 2048, 4096):
            pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:%d" % bits],
                                 check=True, capture_output=True).stdout
            der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem,
                                 check=True, capture_output=True).stdout
            keys["rsa%d" % bits] = (pem, b"rsa-sha256")
            records["rsa%d._domainkey.%s" % (bits, domain)] = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
        sk = nacl.signing.SigningKey.generate()
        keys["ed25519"] = (base64.b64encode(bytes(sk)), b"ed25519-sha256")
        records["ed25519._domainkey." + domain] = "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode()

        def sign(m, sel, c=(b"relaxed", b"relaxed"), length=False):
            key, alg = keys[sel]
            return dkim.sign(m, sel.encode(), domain.encode(), key, canonicalize=c,
                             signature_algorithm=alg, length=length) + m
        def add(name, m, *expected):
            cases.append({"name": name, "message": base64.b64encode(m).decode(), "expected": list(expected)})
        def change(m, old, new):
            assert old in m, old
            return m.replace(old, new, 1)

        canons = [(h, b) for h in (b"simple", b"relaxed") for b in (b"simple", b"relaxed")]
        for sel in keys:
            for c in canons:
                add("%s-%s-%s" % (sel, c[0].decode(), c[1].decode()), sign(msg, sel, c), "pass")
            signed = sign(msg, sel)
            add(sel + "-header-changed", change(signed, b"Quarterly numbers", b"Quarterly figures"), "fail")
            add(sel + "-body-changed", change(signed, b"numbers are", b"numbers were"), "fail")
            add(sel + "-from-changed", change(signed, b"<ann@", b"<eve@"), "fail")

        # White space: simple keeps it, relaxed does not.
        for c, verdict in (((b"simple", b"simple"), "fail"), ((b"relaxed", b"relaxed"), "pass")):
            name = "rsa2048-%s-%s" % (c[0].decode(), c[1].decode())
            signed = sign(msg, "rsa2048", c)
            add(name + "-header-space", change(signed, b"Subject: Quarterly", b"Subject:  Quarterly"), verdict)
            add(name + "-body-space", change(signed, b"Hello Bob,  \r\n", b"Hello Bob,\r\n"), verdict)
            add(name + "-empty-lines-added", signed + b"\r\n\r\n", "pass")

        # l=: the whole body signed passes; text appended after the signed part is policy, not
        # pass; a change inside the signed part fails.
        for sel in ("rsa2048", "ed25519"):
            for body in (b"simple", b"relaxed"):
                name = "%s-l-%s" % (sel, body.decode())
                signed = sign(msg, sel, (b"relaxed", body), length=True)
                assert b" l=" in signed or b";l=" in signed or b"\tl=" in signed
                add(name, signed, "pass")
                add(name + "-appended", signed + b"P.S. not signed\r\n", "policy")
                add(name + "-changed", change(signed, b"numbers are", b"numbers were"), "fail")

        # Several signatures, listed top to bottom.
        both = sign(sign(msg, "rsa2048"), "ed25519")
        add("two-signatures", both, "pass", "pass")
        add("two-signatures-body-changed", change(both, b"numbers are", b"numbers were"), "fail", "fail")
        mixed = sign(sign(msg, "rsa1024", (b"relaxed", b"simple"), length=True), "ed25519", (b"simple", b"simple"))
        add("two-signatures-one-with-l-appended", mixed + b"P.S.\r\n", "fail", "policy")
        three = sign(sign(sign(msg, "rsa4096", (b"simple", b"relaxed")), "rsa1024"), "ed25519", (b"relaxed", b"simple"))
        add("three-signatures", three, "pass", "pass", "pass")

        print(json.dumps({"records": records, "cases": cases}))
        """#

    struct Output: Decodable {
        struct Case: Decodable {
            var name: String
            var message: String
            var expected: [String]
        }
        var records: [String: String]
        var cases: [Case]
    }

    @Test(
        "RSA 1024/2048/4096 and Ed25519, four canonicalizations, l=, several signatures, altered copies",
        .enabled(
            if: Peers.shouldRun(DkimpyInteropTests.hasDkimpy && openssl != nil),
            "python3 with dkimpy and PyNaCl, or openssl, not found (pip install dkimpy pynacl); skipped")
    )
    func verifyDkimpySignatures() async throws {
        let (messages, records) = try await blocking { () throws -> ([PeerSignedMessage], [String: String]) in
            let python = try #require(DkimpyInteropTests.python, "CI=true but python3 is not on PATH")
            try #require(
                DkimpyInteropTests.hasDkimpy,
                "CI=true but python3 cannot `import dkim, nacl`: pip install dkimpy pynacl")
            try #require(Self.openssl != nil, "CI=true but openssl is missing: apt-get install openssl")
            let directory = try Scratch.folder("dkimpy-sign")
            defer { try? FileManager.default.removeItem(at: directory) }
            let messageURL = directory.appendingPathComponent("message")
            try Data(PeerSignedMessage.message).write(to: messageURL)
            let scriptURL = directory.appendingPathComponent("sign.py")
            try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
            let result = try Peers.run(
                python, [scriptURL.path, messageURL.path, PeerSignedMessage.domain], timeout: 120)
            try #require(result.status == 0, "the dkimpy signing script failed: \(result.stderr)")
            let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
            let messages = try output.cases.map { c in
                PeerSignedMessage(
                    name: c.name, message: Array(try #require(Data(base64Encoded: c.message))),
                    expected: try c.expected.map { try #require(DKIMResult(rawValue: $0)) })
            }
            return (messages, output.records)
        }
        #expect(messages.count == 50)
        let wrong = await PeerSignedMessage.disagreements(messages, records: records)
        #expect(
            wrong.isEmpty,
            "\(wrong.count) of \(messages.count) dkimpy-signed messages:\n\(wrong.joined(separator: "\n"))")
    }
}
