import EmailAuth
import Foundation

/// Messages signed by `DKIMSigner` with a new RSA and a new Ed25519 key, plus altered copies,
/// for the real verifiers. Keys are made once per test process.
struct InteropFixture: Sendable {
    static let shared = InteropFixture()

    static let domain = "mailroom.test"

    struct Case: Sendable {
        /// e.g. "rsa-ok", "ed25519-body"; only letters, digits and hyphens (used as a file name).
        var name: String
        var algorithm: DKIMAlgorithm
        var selector: String
        var message: [UInt8]
        var shouldVerify: Bool
    }

    let keys: [DKIMAlgorithm: DKIMKey]
    let cases: [Case]

    static func selector(_ algorithm: DKIMAlgorithm) -> String {
        algorithm == .rsa2048 ? "rsa2026" : "ed2026"
    }

    /// A realistic message: folded Subject, UTF-8 in header and body, trailing white space,
    /// empty lines at the end, Received fields (not signed).
    static let message = Array(
        """
        Received: from client.example (client.example [192.0.2.7])\r
        \tby mail.mailroom.test with ESMTPSA; Sat, 28 Nov 2026 10:00:00 +0000\r
        From: Ann Example <ann@mailroom.test>\r
        To: Bob <bob@example.net>, carol@example.org\r
        Subject: Quarterly numbers, =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and a subject long enough\r
         to be folded\r
        Date: Sat, 28 Nov 2026 10:00:00 +0000\r
        Message-ID: <20261128100000.1@mailroom.test>\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: 8bit\r
        \r
        Hello Bob,  \r
        \r
        the numbers are   in.\tGrüße aus Köln.\r
        \r
        Ann\r
        \r
        \r

        """.utf8)

    init() {
        var keys: [DKIMAlgorithm: DKIMKey] = [:]
        var cases: [Case] = []
        let time = Date()
        for algorithm in DKIMAlgorithm.allCases {
            let key = DKIMKey.generate(algorithm)
            keys[algorithm] = key
            let selector = Self.selector(algorithm)
            let signer = DKIMSigner(domain: Self.domain, selector: selector, key: key)
            let signed = Array(signer.signature(for: Self.message, at: time).utf8) + Self.message
            func add(_ suffix: String, _ message: [UInt8], _ shouldVerify: Bool) {
                let prefix = algorithm == .rsa2048 ? "rsa" : "ed25519"
                cases.append(
                    Case(
                        name: "\(prefix)-\(suffix)", algorithm: algorithm, selector: selector, message: message,
                        shouldVerify: shouldVerify))
            }
            add("ok", signed, true)
            // Relaxed canonicalisation tolerates re-folding and white space at line ends.
            add(
                "refolded",
                Self.replace("Subject: Quarterly numbers,", with: "Subject:   Quarterly\r\n\tnumbers,", in: signed),
                true)
            add("body-changed", Self.replace("numbers are", with: "numbers were", in: signed), false)
            add(
                "from-changed", Self.replace("From: Ann Example <ann@", with: "From: Ann Example <eve@", in: signed),
                false)
            // From is oversigned: a second From field added anywhere must break the signature.
            // Reply-To is oversigned and absent: adding one must break the signature.
            add(
                "reply-to-added",
                Self.replace("To: Bob", with: "Reply-To: Eve <eve@example.com>\r\nTo: Bob", in: signed), false)
            add(
                "from-added", Self.replace("To: Bob", with: "From: Eve <eve@mailroom.test>\r\nTo: Bob", in: signed),
                false)
        }
        self.keys = keys
        self.cases = cases
    }

    static func replace(_ target: String, with replacement: String, in message: [UInt8]) -> [UInt8] {
        let text = String(decoding: message, as: UTF8.self)
        precondition(text.contains(target), "fixture text not found: \(target)")
        return Array(text.replacingOccurrences(of: target, with: replacement).utf8)
    }

    func key(_ algorithm: DKIMAlgorithm) -> DKIMKey {
        guard let key = keys[algorithm] else { preconditionFailure("no fixture key for \(algorithm)") }
        return key
    }

    /// The zone file for the test domain, with a TXT record for each key.
    func zoneFile() -> String {
        var zone = """
            $ORIGIN \(Self.domain).
            $TTL 300
            @ IN SOA ns1 hostmaster 1 3600 600 86400 300
            @ IN NS ns1
            ns1 IN A 127.0.0.1

            """
        for algorithm in DKIMAlgorithm.allCases {
            zone += key(algorithm).dnsZoneLine(domain: Self.domain, selector: Self.selector(algorithm)) + "\n"
        }
        return zone
    }
}
