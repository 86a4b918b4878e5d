import EmailAuth
import Foundation
import TestSupport
import Testing

/// The other direction of ``OpenDKIMInteropTests``: OpenDKIM 2.11 signs, our ``DKIMVerifier``
/// verifies.
///
/// `opendkim-testmsg` cannot be used to sign: it always signs with rsa-sha1 (refused by RFC
/// 8301, so by us) and has no canonicalization option. The milter itself has a test mode
/// (`opendkim -x conf -t file -vv`) that signs a message file with the configuration's key,
/// algorithm and canonicalization and prints the field it would insert ("### INSHEADER: …
/// hvalue='…'"); that is what runs here, once per key and canonicalization. Keys are new
/// each run (openssl); `RequireSafeKeys no` because the temporary folder is under /tmp.
///
/// Left out: Ed25519 with `simple` header canonicalization. OpenDKIM 2.11's signatures of
/// that kind verify neither with us nor with dkimpy (checked by hand: `dkim.verify` is False
/// for simple/simple and simple/relaxed, True for relaxed/*): the field it inserts is not
/// byte for byte the one it hashed, which only `simple` notices. RSA keys are not affected.
@Suite("Our verifier checks OpenDKIM's signatures")
struct OpenDKIMSignedTests {
    static let opendkim = Peers.find("opendkim")
    static let openssl = DkimpySignedTests.openssl

    struct Key {
        var selector: String
        var algorithm: String
        var file: URL
        var record: String
    }

    static func makeKey(_ selector: String, bits: Int?, in directory: URL, openssl: String) throws -> Key {
        let file = directory.appendingPathComponent("\(selector).pem")
        let generate =
            bits.map { ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\($0)", "-out", file.path] }
            ?? ["genpkey", "-algorithm", "ed25519", "-out", file.path]
        let made = try Peers.run(openssl, generate, timeout: 120)
        try #require(made.status == 0, "openssl genpkey failed: \(made.stderr)")
        let der = directory.appendingPathComponent("\(selector).der")
        let exported = try Peers.run(
            openssl, ["pkey", "-in", file.path, "-pubout", "-outform", "DER", "-out", der.path])
        try #require(exported.status == 0, "openssl pkey failed: \(exported.stderr)")
        let spki = try Data(contentsOf: der)
        // RSA: p= is the SubjectPublicKeyInfo; Ed25519: the raw 32-byte key at its end (RFC 8463 §4.2).
        let p = bits == nil ? Data(spki.suffix(32)) : spki
        let k = bits == nil ? "ed25519" : "rsa"
        return Key(
            selector: selector, algorithm: bits == nil ? "ed25519-sha256" : "rsa-sha256", file: file,
            record: "v=DKIM1; k=\(k); p=\(p.base64EncodedString())")
    }

    /// `message` signed by OpenDKIM with `key` (the new field on top, CRLF line ends).
    static func sign(
        _ message: [UInt8], _ key: Key, canonicalization: String, in directory: URL, opendkim: String
    ) throws -> [UInt8] {
        let name = "\(key.selector)-\(canonicalization.replacingOccurrences(of: "/", with: "-"))-\(UUID().uuidString)"
        let messageURL = directory.appendingPathComponent("\(name).eml")
        let configURL = directory.appendingPathComponent("\(name).conf")
        try Data(message).write(to: messageURL)
        try """
        Domain \(PeerSignedMessage.domain)
        Selector \(key.selector)
        KeyFile \(key.file.path)
        Canonicalization \(canonicalization)
        SignatureAlgorithm \(key.algorithm)
        Mode s
        Syslog no
        RequireSafeKeys no

        """.write(to: configURL, atomically: true, encoding: .utf8)
        let result = try Peers.run(opendkim, ["-x", configURL.path, "-t", messageURL.path, "-vv"], timeout: 60)
        let marker = "hname='DKIM-Signature' hvalue='"
        guard result.status == 0, let start = result.stdout.range(of: marker),
            let end = result.stdout[start.upperBound...].firstIndex(of: "'")
        else {
            throw PeerError("opendkim did not sign with \(key.selector), \(canonicalization): \(result.output)")
        }
        let value = result.stdout[start.upperBound..<end].replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
        return Array("DKIM-Signature: \(value)\r\n".utf8) + message
    }

    @Test(
        "RSA 1024/2048/4096 in four canonicalizations, Ed25519 relaxed, two signatures, altered copies",
        .enabled(
            if: Peers.shouldRun(opendkim != nil && openssl != nil),
            "needs opendkim (Debian opendkim) and openssl; skipped")
    )
    func verifyOpenDKIMSignatures() async throws {
        let (messages, records) = try await blocking { () throws -> ([PeerSignedMessage], [String: String]) in
            let opendkim = try #require(Self.opendkim, "CI=true but opendkim is missing: apt-get install opendkim")
            let openssl = try #require(Self.openssl, "CI=true but openssl is missing: apt-get install openssl")
            let directory = try Scratch.folder("opendkim-sign")
            defer { try? FileManager.default.removeItem(at: directory) }
            let keys = try [("rsa1024", 1024), ("rsa2048", 2048), ("rsa4096", 4096), ("ed25519", nil)].map {
                try Self.makeKey($0.0, bits: $0.1, in: directory, openssl: openssl)
            }
            let message = PeerSignedMessage.message
            var messages: [PeerSignedMessage] = []
            for key in keys {
                for canonicalization in ["simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed"]
                where key.algorithm == "rsa-sha256" || canonicalization.hasPrefix("relaxed/") {
                    let signed = try Self.sign(
                        message, key, canonicalization: canonicalization, in: directory, opendkim: opendkim)
                    let name = "\(key.selector)-\(canonicalization.replacingOccurrences(of: "/", with: "-"))"
                    messages.append(PeerSignedMessage(name: name, message: signed, expected: [.pass]))
                    guard canonicalization == "relaxed/relaxed" else { continue }
                    messages.append(
                        PeerSignedMessage(
                            name: "\(key.selector)-header-changed",
                            message: PeerSignedMessage.replace(
                                "Quarterly numbers", with: "Quarterly figures", in: signed),
                            expected: [.fail]))
                    messages.append(
                        PeerSignedMessage(
                            name: "\(key.selector)-body-changed",
                            message: PeerSignedMessage.replace("numbers are", with: "numbers were", in: signed),
                            expected: [.fail]))
                }
            }
            // Two signatures: RSA first, then Ed25519 over the signed message (on top).
            let once = try Self.sign(
                message, keys[1], canonicalization: "relaxed/simple", in: directory, opendkim: opendkim)
            let twice = try Self.sign(
                once, keys[3], canonicalization: "relaxed/relaxed", in: directory, opendkim: opendkim)
            messages.append(PeerSignedMessage(name: "two-signatures", message: twice, expected: [.pass, .pass]))
            let records = Dictionary(
                uniqueKeysWithValues: keys.map { ("\($0.selector)._domainkey.\(PeerSignedMessage.domain)", $0.record) })
            return (messages, records)
        }
        #expect(messages.count == 23)
        let wrong = await PeerSignedMessage.disagreements(messages, records: records)
        #expect(
            wrong.isEmpty,
            "\(wrong.count) of \(messages.count) OpenDKIM-signed messages:\n\(wrong.joined(separator: "\n"))")
    }
}
