import EmailAuth
import Foundation
import TestSupport

/// A message another implementation signed, what our ``DKIMVerifier`` must say about each of
/// its signatures (top to bottom), and the key records to serve for it.
struct PeerSignedMessage: Sendable, CustomStringConvertible {
    /// e.g. "rsa2048-relaxed-simple", "ed25519-l-appended".
    var name: String
    var message: [UInt8]
    var expected: [DKIMResult]

    var description: String { name }

    /// The domain the peers sign for; its key records are served by `FakeAuthDNS`.
    static let domain = "peer.test"

    /// The message the peers sign: folded Subject, UTF-8, trailing white space and empty lines
    /// at the end (so the two body canonicalizations differ), CRLF throughout. From is in
    /// `domain`: OpenDKIM signs only mail from the domain it signs for.
    static let message = InteropFixture.replace(
        "<ann@mailroom.test>", with: "<ann@\(domain)>", in: InteropFixture.message)

    /// Our verdicts on every message, against the records (TXT per name), with a clock inside
    /// any `x=` the peer might set. Returns "name: expected [...], got [...] (reasons)" for each
    /// message that disagrees.
    static func disagreements(_ messages: [PeerSignedMessage], records: [String: String]) async -> [String] {
        let verifier = DKIMVerifier(dns: FakeAuthDNS(records.mapValues { [.txt($0)] }))
        var wrong: [String] = []
        for m in messages {
            let results = await verifier.verify(m.message)
            if results.map(\.result) != m.expected {
                wrong.append(
                    "\(m.name): expected \(m.expected.map(\.rawValue)), got \(results.map(\.result.rawValue)) "
                        + "(\(results.map(\.reason).joined(separator: "; ")))")
            }
        }
        return wrong
    }

    /// Replaces the first occurrence of `target` (which must be there) after the signatures.
    static func replace(_ target: String, with replacement: String, in message: [UInt8]) -> [UInt8] {
        let text = String(decoding: message, as: UTF8.self)
        guard let range = text.range(of: target) else { preconditionFailure("fixture text not found: \(target)") }
        return Array(text.replacingCharacters(in: range, with: replacement).utf8)
    }
}
