import EmailAuth
import Foundation
import TestSupport
import Testing

/// ARC (RFC 8617): our sealer and verifier against each other, every way a chain breaks, and
/// dkimpy's `arc_sign`/`arc_verify` in both directions.
@Suite("ARC")
struct ARCTests {
    static let listKey = DKIMKey.generate(.rsa2048)
    static let relayKey = DKIMKey.generate(.ed25519)
    static let dns = FakeAuthDNS([
        "arc._domainkey.lists.example.org": [.txt(listKey.dnsRecord)],
        "arc._domainkey.relay.example.net": [.txt(relayKey.dnsRecord)],
    ])
    static let message = Array(RFC8463Tests.message.utf8)
    static let list = ARCSealer(domain: "lists.example.org", selector: "arc", key: listKey)
    static let relay = ARCSealer(domain: "relay.example.net", selector: "arc", key: relayKey)

    static func verify(_ bytes: [UInt8]) async -> ARCVerification {
        await ARCVerifier(dns: dns).verify(DKIMMessage(bytes))
    }

    static func sealed(_ bytes: [UInt8], by sealer: ARCSealer, results: String) async -> [UInt8] {
        let chain = await verify(bytes)
        return Array(sealer.seal(bytes, results: results, chain: chain).utf8) + bytes
    }

    @Test func aChainOfTwoSealsVerifies() async {
        #expect(await Self.verify(Self.message).result == .none)
        let once = await Self.sealed(Self.message, by: Self.list, results: "lists.example.org; spf=pass smtp.mailfrom=joe@football.example.com")
        let first = await Self.verify(once)
        #expect(first.result == .pass, "\(first.reason)")
        #expect(first.instances == 1)
        let twice = await Self.sealed(once, by: Self.relay, results: "relay.example.net; arc=pass")
        let second = await Self.verify(twice)
        #expect(second.result == .pass, "\(second.reason)")
        #expect(second.sealers == ["lists.example.org", "relay.example.net"])
        #expect(String(decoding: twice, as: UTF8.self).contains("ARC-Seal: i=2; a=ed25519-sha256; t="))
        #expect(String(decoding: twice, as: UTF8.self).contains("cv=pass;"))
    }

    @Test func brokenChains() async {
        let once = await Self.sealed(Self.message, by: Self.list, results: "lists.example.org; spf=pass")
        let twice = await Self.sealed(once, by: Self.relay, results: "relay.example.net; arc=pass")
        let text = String(decoding: twice, as: UTF8.self)
        let cases: [(String, String, String)] = [
            // The body changed after the newest seal: its message signature fails.
            ("Joe.", "Eve.", "the ARC-Message-Signature of i=2 (relay.example.net): the body hash did not verify"),
            // An older set's results rewritten: every seal over it fails, the newest is checked first.
            ("i=1; lists.example.org; spf=pass", "i=1; lists.example.org; spf=fail", "the ARC-Seal of i=2 by relay.example.net did not verify"),  // seal 2 covers set 1 too
            // A set removed.
            ("ARC-Authentication-Results: i=1;", "X-Removed: i=1;", "ARC set 1 of 2 is missing or has duplicate fields"),
            ("cv=pass;", "cv=none;", "ARC-Seal i=2 has cv=none, expected pass"),
        ]
        for (from, to, reason) in cases {
            let broken = Array(text.replacingOccurrences(of: from, with: to).utf8)
            #expect(broken != twice)
            let result = await Self.verify(broken)
            #expect(result.result == .fail, "\(from)")
            #expect(result.reason.hasPrefix(reason), "\(result.reason)")
        }
        // A sealer that found the chain broken seals with cv=fail, and the chain stays failed.
        let tampered = Array(String(decoding: once, as: UTF8.self).replacingOccurrences(of: "Joe.", with: "Eve.").utf8)
        let resealed = await Self.sealed(tampered, by: Self.relay, results: "relay.example.net; arc=fail")
        #expect(String(decoding: resealed, as: UTF8.self).contains("cv=fail;"))
        #expect(await Self.verify(resealed).reason == "the newest sealer (i=2) found the chain broken (cv=fail)")
    }

    static let python = Peers.find("python3")
    static let hasDkimpyARC: Bool = {
        guard let python else { return false }
        return (try? Peers.run(python, ["-c", "import dkim, authres, nacl"]).status) == 0
    }()

    static let script = """
        import json, sys, dkim
        mode, record, keyfile, path = sys.argv[1:5]
        def dnsfunc(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            return record.encode() if name.lower().rstrip(".") == "arc._domainkey.lists.example.org" else None
        message = open(path, "rb").read()
        if mode == "sign":
            headers = dkim.arc_sign(message, b"arc", b"lists.example.org", open(keyfile, "rb").read(), b"lists.example.org")
            sys.stdout.buffer.write(b"".join(headers) + message)
        else:
            cv, results, why = dkim.arc_verify(message, dnsfunc=dnsfunc)
            print(cv.decode(), why)
        """

    @Test(.enabled(if: Peers.shouldRun(hasDkimpyARC), "python3 with dkimpy, authres and PyNaCl not found (pip install dkimpy authres pynacl)"))
    func dkimpyInBothDirections() async throws {
        let python = try #require(Self.python, "CI=true but python3 is missing")
        try #require(Self.hasDkimpyARC, "CI=true but python3 cannot import dkim, authres, nacl: pip install dkimpy authres pynacl")
        let dir = try Scratch.folder("arc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("arc.py").path
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let keyFile = dir.appendingPathComponent("key.pem").path
        try Self.listKey.privateKeyPEM.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let record = Self.listKey.dnsRecord

        // dkimpy seals (it needs our Authentication-Results in the message); we verify.
        let withResults = "Authentication-Results: lists.example.org; spf=pass smtp.mailfrom=joe@football.example.com\r\n" + RFC8463Tests.message
        let input = dir.appendingPathComponent("in.eml").path
        try withResults.write(toFile: input, atomically: true, encoding: .utf8)
        let signed = try Peers.run(python, [script, "sign", record, keyFile, input])
        #expect(signed.status == 0, "\(signed.output)")
        let theirs = await Self.verify(Array(signed.output.utf8))
        #expect(theirs.result == .pass, "\(theirs.reason)\n\(signed.output)")

        // We seal; dkimpy verifies.
        let ours = await Self.sealed(Self.message, by: Self.list, results: "lists.example.org; spf=pass smtp.mailfrom=joe@football.example.com")
        let sealedPath = dir.appendingPathComponent("ours.eml").path
        try Data(ours).write(to: URL(fileURLWithPath: sealedPath))
        let verdict = try Peers.run(python, [script, "verify", record, keyFile, sealedPath])
        #expect(verdict.output.hasPrefix("pass"), "\(verdict.output)\n\(String(decoding: ours, as: UTF8.self))")
    }
}
